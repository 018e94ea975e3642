"""ocpp16-generic (the specification's own keys) and what user profiles add: unsupported actions, reboots,
versions, identity patterns."""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest
from ocppscope.proxy.profiles.loader import ProfileLibrary

from tests.test_profile_support import call, change, only, reported, rules_of, run
from tests.traffic import Wire

REFERENCE = Path(__file__).parent / "data" / "reference" / "ocpp16-config-keys.json"
"""A copy of shared/reference/ocpp16-config-keys.json, the table the generic profile was written from."""


@pytest.mark.parametrize(("key", "value", "rule_id"), [
    ("LightIntensity", "101", "config.out-of-range"),
    ("SecurityProfile", "4", "config.out-of-range"),
    ("WebSocketPingInterval", "-1", "config.out-of-range"),
    ("AuthorizationKey", "not-hex-at-all", "config.bad-format"),
    ("LocalPreAuthorize", "yes", "config.wrong-type"),
    ("HeartbeatInterval", "1.5", "config.wrong-type"),
    ("ConnectorPhaseRotation", "0.RST,1.XYZ", "config.bad-format"),
    ("MeterValuesSampledData", "Voltage.L9", "config.csl-item"),
    ("MeterValuesSampledData", "Voltage,,Current.Import", "config.bad-format"),
    ("SupportedFeatureProfiles", "Core", "config.read-only"),
    ("VendorKey_X", "1", "config.unlisted-key"),
])
def test_specification_constraints(key: str, value: str, rule_id: str) -> None:
    assert rule_id in rules_of(run("ocpp16-generic", lambda w: change(w, key, value, status=None)))


@pytest.mark.parametrize(("key", "value"), [
    ("MeterValuesSampledData", "Voltage.L1,Current.Import.L2-N,Energy.Active.Import.Register"),
    ("ConnectorPhaseRotation", "0.RST,1.rts"), ("LocalPreAuthorize", "TRUE"), ("LightIntensity", "100"),
    ("AuthorizationKey", "0001020304050607FFFFFFFFFFFFFFFFFFFFFFFF"), ("HeartbeatInterval", "300"),
])
def test_specification_examples_pass(key: str, value: str) -> None:
    assert [f for f in run("ocpp16-generic", lambda w: change(w, key, value)) if f.severity >= 20] == []


def test_unlisted_keys_are_only_a_hint_on_the_generic_profile() -> None:
    found = run("ocpp16-generic", lambda w: change(w, "VendorKey_X", "1"))
    assert [(f.rule, str(f.severity)) for f in found if f.rule != "profile.selected"] == \
        [("config.unlisted-key", "info")]


def test_switching_off_is_said() -> None:
    found = run("ocpp16-generic", lambda w: change(w, "MeterValueSampleInterval", "0"))
    assert rules_of(found) == ["config.value-note"] and "no sampled meter values" in found[-1].message


def test_security_profile_only_goes_up() -> None:
    def lower(w: Wire) -> None:
        reported(w, {"SecurityProfile": "2"})
        change(w, "SecurityProfile", "1", status="Rejected")

    found = run("ocpp16-generic", lower)
    assert rules_of(found) == ["config.out-of-range"] and "may only be raised (it is 2)" in found[-1].message


def test_limits_fall_back_to_what_the_charger_reports() -> None:
    def script(w: Wire) -> None:
        reported(w, {"GetConfigurationMaxKeys": "2", "SendLocalListMaxLength": "1"},
                 readonly={"GetConfigurationMaxKeys": True, "SendLocalListMaxLength": True})
        call(w, "GetConfiguration", {"key": ["A", "B", "C"]})
        call(w, "SendLocalList", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [
            {"idTag": "A", "idTagInfo": {"status": "Accepted"}}, {"idTag": "B", "idTagInfo": {"status": "Accepted"}}]})

    found = run("ocpp16-generic", script)
    assert rules_of(found) == ["config.get-too-many-keys", "limit.local-list"]
    assert "the charger's SendLocalListMaxLength" in found[-1].message


def test_generic_profile_follows_the_reference_table() -> None:
    generic = ProfileLibrary(include_user=False).get("ocpp16-generic")
    access = {"R": "R", "RW": "RW", "W (write-only)": "W"}
    reference = json.loads(REFERENCE.read_text())["keys"]
    assert len(generic.keys) == len(reference) == 57
    for entry in reference:
        spec = generic.key(entry["key"])
        assert spec is not None, entry["key"]
        assert spec.type == entry["type"].lower(), entry["key"]
        assert spec.access == access.get(entry["accessibility"], "R-or-RW"), entry["key"]


USER_PROFILE = """\
    title = "CP01's firmware 2.3 (site acceptance notes)"
    extends = "ac-wallbox"
    sources = ["site acceptance test 2024-05"]

    [ocpp]
    versions = ["1.6"]
    subprotocols = ["ocpp1.6"]

    [identity]
    pattern = "CP[0-9]{2}"
    pattern_hint = "CP and two digits"

    [actions.from_backend]
    unsupported = ["GetCompositeSchedule"]

    [limits]
    get_configuration_max_keys = 20

    [keys.HeartbeatInterval]
    reboot = true

    [keys.MeterValueSampleInterval]
    range = "0 | 1..65534"

    [[caveats]]
    action = "ClearCache"
    text = "takes 30 s on this firmware"
"""


@pytest.fixture
def user_profiles(tmp_path: Path) -> dict[str, object]:
    (tmp_path / "site-cp01.toml").write_text(dedent(USER_PROFILE))
    return ProfileLibrary([tmp_path], include_user=False).all()


def test_user_profile_relaxes_and_adds_for_one_charger(user_profiles: dict[str, object]) -> None:
    def script(w: Wire) -> None:
        call(w, "GetConfiguration", {"key": [f"K{i}" for i in range(15)]})
        change(w, "MeterValueSampleInterval", "2")
        change(w, "HeartbeatInterval", "300", status="RebootRequired")
        call(w, "GetCompositeSchedule", {"connectorId": 1, "duration": 60}, {"status": "Accepted"})
        call(w, "ClearCache", {}, {"status": "Accepted"})
        call(w, "Reset", {"type": "Hard"})

    found = run("site-cp01", script, profiles=user_profiles)  # type: ignore[arg-type]
    assert rules_of(found) == ["config.reboot-required", "profile.action-unsupported", "profile.firmware-disagrees",
                               "profile.caveat", "profile.caveat"]
    assert next(f.message for f in only(found, "profile.caveat")).startswith("ClearCache")
    # the same traffic from another charger is still judged by the bundled profile
    other = run("ac-wallbox", script, charger="CP02", profiles=user_profiles)  # type: ignore[arg-type]
    assert "config.out-of-range" in rules_of(other) and "config.get-too-many-keys" in rules_of(other)


def test_reboot_answer_mismatch_is_an_info(user_profiles: dict[str, object]) -> None:
    found = run("site-cp01", lambda w: change(w, "HeartbeatInterval", "300", status="Accepted"),
                profiles=user_profiles)  # type: ignore[arg-type]
    disagree = only(found, "profile.firmware-disagrees")
    assert len(disagree) == 1 and str(disagree[0].severity) == "info"


def test_identity_pattern(user_profiles: dict[str, object]) -> None:
    found = run("site-cp01", lambda w: None, charger="CHARGER-1", profiles=user_profiles)  # type: ignore[arg-type]
    assert rules_of(found) == ["profile.identity"] and "CP and two digits" in found[-1].message


def test_other_ocpp_versions() -> None:
    found = run("ecotap-evc5", lambda w: call(w, "GetVariables", {"getVariableData": []}), subprotocol="ocpp2.0.1")
    assert rules_of(found) == ["profile.version"]
    unmapped = run(None, lambda w: call(w, "GetVariables", {"getVariableData": []}), subprotocol="ocpp2.0.1")
    assert [f.evidence["how"] for f in unmapped] == ["none"]
