"""Which profile applies to which charger, and the findings that say so."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocppscope.proxy.errors import OcppscopeError
from ocppscope.proxy.profiles.loader import read_mapping_file
from ocppscope.proxy.profiles.selection import ProfileSelector, parse_mapping_arg
from ocppscope.proxy.profiles.tomlfile import ProfileError

from tests.test_profile_support import boot, bundled, change, checker, only, rules_of, run
from tests.traffic import Wire, analyze


def _selected(found: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(f.evidence["profile"], f.evidence["how"]) for f in only(found, "profile.selected")]


@pytest.mark.parametrize(("serial", "expected"), [
    ("1170042", "ecotap-evc4"), ("1810042", "ecotap-evc5"), ("1850042", "ecotap-evc5"), ("1891351", "ecotap-evc5"),
    ("G48229*1", "ecotap-ecclite"),
])
def test_ecotap_serial_numbers(serial: str, expected: str) -> None:
    found = run(None, lambda w: boot(w, vendor="Ecotap", model="DC60", serial=serial))
    assert _selected(found) == [(expected, "detected")]  # said at the boot, not guessed at the open first


def test_charge_box_serial_counts_too() -> None:
    def script(w: Wire) -> None:
        from tests.test_profile_support import send

        send(w, "BootNotification", {"chargePointVendor": "ecotap", "chargePointModel": "AC",
                                     "chargeBoxSerialNumber": "1171234"})

    assert _selected(run(None, script))[-1] == ("ecotap-evc4", "detected")


def test_unknown_charger_stays_generic() -> None:
    found = run(None, lambda w: boot(w, vendor="Acme", model="X1", serial="1891351"))
    assert _selected(found) == [("ocpp16-generic", "default")]


def test_detection_is_remembered_on_the_next_connection() -> None:
    first = Wire("CP07", conn_id="a")
    boot(first, vendor="Ecotap", model="DC60", serial="1891351")
    first.close()
    second = Wire("CP07", conn_id="b", t0=first.time + 10)
    change(second, "com_OCPPID", "X" * 30, status=None)
    found = analyze(first.events + second.events, [checker()])
    assert _selected(found)[-1] == ("ecotap-evc5", "detected")
    assert only(found, "config.too-long")


def test_explicit_mapping_wins_and_is_checked_against_the_boot() -> None:
    found = run("ecotap-evc4", lambda w: boot(w, vendor="Ecotap", model="DC60", serial="1891351"))
    assert _selected(found) == [("ecotap-evc4", "explicit")]
    mismatch = only(found, "profile.boot-mismatch")
    assert len(mismatch) == 1 and "looks like ecotap-evc5" in mismatch[0].message
    fitting = run("ecotap-evc5", lambda w: boot(w, vendor="Ecotap", model="DC60", serial="1891351"))
    assert rules_of(fitting) == []
    undetectable = run("ac-wallbox", lambda w: boot(w, vendor="Zaptec", model="Go"))
    assert rules_of(undetectable) == ["profile.boot-mismatch"]


def test_exact_identity_beats_glob_and_first_glob_wins() -> None:
    selector = ProfileSelector(bundled(), [parse_mapping_arg("NL*=ecotap-evc4"), parse_mapping_arg("NL*ECO*=zaptec"),
                                           parse_mapping_arg("NL*ECO*1000=ecotap-evc5"),
                                           parse_mapping_arg("ac-wallbox")])
    assert selector.explicit("NL*ECO*1000").profile.id == "ecotap-evc5"  # type: ignore[union-attr]
    assert selector.explicit("NL*ECO*2000").profile.id == "ecotap-evc4"  # type: ignore[union-attr]
    assert selector.explicit("CP99").profile.id == "ac-wallbox"  # type: ignore[union-attr]
    assert "matches 'NL*'" in selector.explicit("NL1").reason  # type: ignore[union-attr]


def test_bad_mapping_arguments() -> None:
    with pytest.raises(OcppscopeError, match="CHARGER=PROFILE"):
        parse_mapping_arg("CP01=")
    with pytest.raises(OcppscopeError, match="unknown profile 'ecotap-evc6'"):
        ProfileSelector(bundled(), [parse_mapping_arg("CP01=ecotap-evc6")])


def test_mapping_file(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text('# site chargers\n"CP01" = "ecotap-evc5"\n"NL*ECO*" = "ecotap-cpa"\n')
    entries = read_mapping_file(path)
    assert [(e.pattern, e.profile_id, e.origin) for e in entries] == [
        ("CP01", "ecotap-evc5", f"{path}:2"), ("NL*ECO*", "ecotap-cpa", f"{path}:3")]
    selector = ProfileSelector(bundled(), entries)
    assert selector.explicit("NL*ECO*1000").reason == f"NL*ECO*1000 matches 'NL*ECO*' in {path}:3"  # type: ignore
    path.write_text('"CP01" = "ecotap-evc5"\n"CP02" = 5\n')
    with pytest.raises(ProfileError, match=r"site.toml:2: CP02: must be a profile id"):
        read_mapping_file(path)


def test_renamed_charger_keeps_its_profile() -> None:
    first = Wire("TEST-OCPPID", conn_id="a")
    boot(first, vendor="Ecotap", model="DC60", serial="1891351")
    change(first, "com_OCPPID", "NL*ECO*1000")
    first.close(code=1001, after=60)
    second = Wire("NL*ECO*1000", conn_id="b", t0=first.time + 5)
    found = analyze(first.events + second.events, [checker()])
    last = only(found, "profile.selected")[-1]
    assert last.charger == "NL*ECO*1000" and last.evidence["profile"] == "ecotap-evc5"
    assert last.evidence["how"] == "renamed" and "was TEST-OCPPID" in last.message


def test_user_profile_is_never_detected(tmp_path: Path) -> None:
    (tmp_path / "my-evc5.toml").write_text('title = "relaxed"\nextends = "ecotap-evc5"\n'
                                           '[keys.com_OCPPID]\nmax_length = 40\n')
    from ocppscope.proxy.profiles.loader import ProfileLibrary

    profiles = ProfileLibrary([tmp_path], include_user=False).all()
    found = run(None, lambda w: boot(w, vendor="Ecotap", model="DC60", serial="1891351"), profiles=profiles)
    assert _selected(found)[-1] == ("ecotap-evc5", "detected")
    relaxed = run("my-evc5", lambda w: change(w, "com_OCPPID", "X" * 30), profiles=profiles)
    assert "config.too-long" not in rules_of(relaxed)
