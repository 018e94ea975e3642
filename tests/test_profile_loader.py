"""Profile files: errors name file, line and key; extends, layers and lint; bundled profiles load clean."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from ocppscope.proxy.profiles.lint import lint_file
from ocppscope.proxy.profiles.loader import BUNDLED_DIR, ProfileFile, ProfileLibrary
from ocppscope.proxy.profiles.options import profile_checker
from ocppscope.proxy.profiles.tomlfile import ProfileError, SourceMap, read_toml


def _library(tmp_path: Path, **files: str) -> ProfileLibrary:
    for name, text in files.items():
        (tmp_path / f"{name}.toml").write_text(dedent(text))
    return ProfileLibrary([tmp_path], include_user=False)


def _error(tmp_path: Path, text: str) -> str:
    library = _library(tmp_path, broken=text)
    with pytest.raises(ProfileError) as caught:
        library.get("broken")
    return str(caught.value)


def test_every_bundled_profile_loads_and_lints_clean() -> None:
    library = ProfileLibrary(include_user=False)
    assert set(library.ids()) == {"ocpp16-generic", "ecotap-cpa", "ecotap-ecclite", "ecotap-evc4", "ecotap-evc5",
                                  "ac-wallbox", "zaptec"}
    for profile_id in library.ids():
        assert lint_file(library, library.file_of(profile_id)) == [], profile_id
        assert library.get(profile_id).chain[-1] == "ocpp16-generic"


def test_syntax_error_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('title = "x"\n\n[keys.A]\ntype = integer\n')
    with pytest.raises(ProfileError, match=r"bad\.toml:4: not valid TOML"):
        ProfileLibrary([tmp_path], include_user=False)


@pytest.mark.parametrize(("text", "expected"), [
    ('extends = "ocpp16-generic"\n[keys.Speed]\ntype = "string"\nrange = "0..10"\n',
     r"broken\.toml:4: keys\.Speed\.range: only integer values have ranges"),
    ('extends = "ocpp16-generic"\n[keys.Speed]\ntype = "integer"\nrnage = "0..10"\n',
     r"broken\.toml:4: keys\.Speed\.rnage: unknown field \(did you mean 'range'\?\)"),
    ('extends = "ocpp16-generic"\n[keys.Speed]\ntype = "integer"\nrange = "0..ten"\n',
     r"broken\.toml:4: keys\.Speed\.range: '0\.\.ten' is neither a number nor a range"),
    ('extends = "ocpp16-generic"\n[keys.Speed]\ntype = "integer"\nrange = "10..1"\n',
     r"broken\.toml:4: keys\.Speed\.range: '10\.\.1' is empty"),
    ('extends = "ocpp16-generic"\n[keys.Speed]\nrange = "0..10"\n',
     r"broken\.toml:2: keys\.Speed: a configuration key needs a type"),
    ('extends = "ocpp16-generic"\n[keys.Speed]\ntype = "float"\n',
     r"broken\.toml:3: keys\.Speed\.type: 'float' is not one of"),
    ('extends = "ocpp16-generic"\n[keys.Speed]\ntype = "string"\npattern = "[a-"\n',
     r"broken\.toml:4: keys\.Speed\.pattern: not a valid regular expression"),
    ('extends = "ocpp16-generic"\n[actions.from_backend]\nunsupported = ["Reset", "ReserveNwo"]\n',
     r"broken\.toml:3: actions\.from_backend\.unsupported: 'ReserveNwo' \(item 2\) is not an OCPP 1\.6 action "
     r"\(did you mean 'ReserveNow'\?\)"),
    ('extends = "ocpp16-generic"\n[limits]\nmeasurands = ["Voltage", "Voltag"]\n',
     r"broken\.toml:3: limits\.measurands: 'Voltag'"),
    ('extends = "ocpp16-generic"\n[limits]\nsend_local_list_max_length = "5"\n',
     r"broken\.toml:3: limits\.send_local_list_max_length: must be a whole number"),
    ('extends = "ocpp16-genric"\n', r"broken\.toml:1: extends: no profile 'ocpp16-genric' to extend "
                                    r"\(did you mean 'ocpp16-generic'\?\)"),
    ('extends = "ocpp16-generic"\n[endpoint]\nstyle = "ecotap-split"\nurl_key = "U"\n',
     r"broken\.toml:3: endpoint\.style: the ecotap-split endpoint style needs port_key"),
    ('extends = "ocpp16-generic"\n\n[[caveats]]\naction = "Reset"\n\n[[caveats]]\naction = "Rest"\ntext = "x"\n',
     r"broken\.toml:3: caveats\.\[0\]\.text: a caveat needs a text(.|\n)*broken\.toml:7: caveats\.\[1\]\.action"),
    ('extends = "ocpp16-generic"\n[keys.X]\ntype = "structured"\nfields = [\n  { name = "a" },\n'
     '  { name = "b", optinal = true },\n]\n',
     r"broken\.toml:6: keys\.X\.fields\.\[1\]\.optinal: unknown field \(did you mean 'optional'\?\)"),
    ('extends = "ocpp16-generic"\n[keys.X]\ntype = "structured"\n[keys.X.options]\nA = { allowed = "0" }\n'
     'B = { alowed = ["0"] }\n',
     r"broken\.toml:6: keys\.X\.options\.B\.alowed: unknown field"),
])
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    import re

    assert re.search(expected, _error(tmp_path, text)), _error(tmp_path, text)


def test_extends_cycle(tmp_path: Path) -> None:
    library = _library(tmp_path, a='extends = "b"\n', b='extends = "a"\n')
    with pytest.raises(ProfileError, match=r"extends itself in a loop: a → b → a"):
        library.get("a")


def test_inheritance_merges_field_by_field(tmp_path: Path) -> None:
    library = _library(tmp_path, child="""\
        extends = "ac-wallbox"
        title = "child"

        [keys.heartbeatinterval]
        default = "120"

        [[caveats]]
        action = "ClearCache"
        text = "slow"
        """)
    child = library.get("child")
    spec = child.key("HeartbeatInterval")
    assert spec is not None and spec.name == "heartbeatinterval" and spec.default == "120"
    assert spec.type == "integer" and spec.notes[0].runs_as == "10"  # inherited from ac-wallbox and generic
    assert [c.action for c in child.caveats][-1] == "ClearCache" and len(child.caveats) == 7
    assert child.limits.get_configuration_max_keys == 10 and child.chain == ("child", "ac-wallbox", "ocpp16-generic")


def test_later_layers_override_and_may_extend_the_same_id(tmp_path: Path) -> None:
    library = _library(tmp_path, **{"ecotap-evc5": """\
        extends = "ecotap-evc5"
        title = "EVC 5.x, site firmware"

        [keys.com_OCPPID]
        max_length = 32
        """})
    profile = library.get("ecotap-evc5")
    assert profile.title == "EVC 5.x, site firmware" and profile.chain == ("ecotap-evc5", "ecotap-evc5",
                                                                           "ecotap-ecclite", "ocpp16-generic")
    assert profile.key("com_OCPPID").value.max_length == 32  # type: ignore[union-attr]
    assert profile.detect.serial == ()  # detection is never inherited
    assert library.file_of("ecotap-evc5").origin.startswith("--profiles ")


def test_user_config_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path))
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "site.toml").write_text('title = "site"\nextends = "zaptec"\n')
    library = ProfileLibrary()
    assert library.file_of("site").origin == "user" and library.get("site").title == "site"
    checker = profile_checker(["CP01=site"])
    assert checker.selector.explicit("CP01").profile.id == "site"  # type: ignore[union-attr]


def test_missing_profile_directory(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such profile directory"):
        ProfileLibrary([tmp_path / "nope"], include_user=False)


def test_lint_warnings(tmp_path: Path) -> None:
    path = tmp_path / "sloppy.toml"
    path.write_text(dedent("""\
        extends = "ocpp16-generic"

        [limits]
        get_configuration_max_keys = 10

        [keys.GetConfigurationMaxKeys]
        default = "20"

        [keys.Level]
        type = "integer"
        range = "0..10"
        default = "11"

        [[keys.Level.notes]]
        values = "20..30"
        text = "never"

        [endpoint]
        style = "ecotap-template"
        endpoint_key = "com_Endpoint"
        identity_key = "com_OCPPID"
        options_key = "com_Options"
        tls_option = "useTLS"
        placeholder = "#OSN#"
        """))
    library = ProfileLibrary(include_user=False)
    problems = lint_file(library, ProfileFile("sloppy", read_toml(path), library.top_layer, str(path)))
    text = [str(p) for p in problems]
    assert all(p.severity == "warning" for p in problems)
    assert f"{path}: title: no title: `profiles list` shows the id only" in text
    assert any(":4: limits.get_configuration_max_keys: 10 differs from the default of GetConfigurationMaxKeys" in t
               for t in text)
    assert any(":12: keys.Level.default: the default '11' breaks" in t for t in text)
    assert any(":14: keys.Level.notes.[0]: note values 20..30 are all outside" in t for t in text)
    assert any(":20: endpoint.endpoint_key: com_Endpoint is not a key of this profile" in t for t in text)


def test_source_map_positions() -> None:
    source = SourceMap(dedent("""\
        title = "x"  # a comment with = sign
        [keys.A]
        type = "integer"
        notes = [
          { values = "0", text = "a" },
          { values = "1", text = \"\"\"
        multi = line
        \"\"\" },
        ]
        [[caveats]]
        action = "Reset"
        [[caveats]]
        action = "UnlockConnector"
        "quoted.key" = { inline = 1 }
        """))
    assert source.line(("title",)) == 1
    assert source.line(("keys", "A", "type")) == 3
    assert source.line(("keys", "A", "notes", 1, "values")) == 6
    assert source.line(("caveats", 1, "action")) == 13
    assert source.line(("caveats", 1, "quoted.key", "inline")) == 14
    assert not source.has(("multi",))


def test_bundled_directory_is_inside_the_package() -> None:
    assert (BUNDLED_DIR / "ocpp16-generic.toml").is_file()
