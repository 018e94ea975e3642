"""Measurand lists set over OCPP 2.x (SetVariables): items outside the version's MeasurandEnumType."""

from __future__ import annotations

import json
from typing import Any

from ocppscope.proxy.core.checks.configuration import measurands

from tests.traffic import Wire, analyze, hits, rules

LONG_ID = "3f2b8c1e-9d4a-4e7b-a1c5-0b9e8d7f6a51"


def set_variables(wire: Wire, items: list[tuple[str, str, str]], statuses: list[str]) -> tuple[int, int]:
    data = [{"attributeValue": value, "component": {"name": component}, "variable": {"name": variable}}
            for component, variable, value in items]
    request = wire.cs(json.dumps([2, LONG_ID, "SetVariables", {"setVariableData": data}], indent=2))
    results: list[dict[str, Any]] = [
        {"attributeStatus": status, "component": {"name": component}, "variable": {"name": variable}}
        for (component, variable, _), status in zip(items, statuses, strict=True)]
    answer = wire.cp(json.dumps([3, LONG_ID, {"setVariableResult": results}]), after=0.1)
    return request, answer


def test_enums_come_from_each_versions_schemas() -> None:
    assert "Energy.Active.Net" in measurands("2.0.1") and "Temperature" not in measurands("2.0.1")
    assert "Display.PresentSOC" in measurands("2.1") and "Display.PresentSOC" not in measurands("2.0.1")
    assert measurands("1.6") == frozenset()  # 1.6 keys are judged by the charger profiles


def test_unknown_measurand_set_and_accepted() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    request, answer = set_variables(wire, [
        ("SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register,Current.Import.L1,Temperature"),
        ("OCPPCommCtrlr", "HeartbeatInterval", "300"),
    ], ["Accepted", "Accepted"])
    found = analyze(wire.events)
    [asked] = hits(found, "config.unknown-measurand")
    assert asked.seq == request and asked.evidence["unknown"] == ["Current.Import.L1", "Temperature"]
    assert "are not OCPP 2.0.1 measurands; the station should answer Rejected" in asked.message
    [accepted] = hits(found, "config.unknown-measurand-accepted")
    assert accepted.seq == answer and accepted.evidence["status"] == "Accepted"


def test_unknown_measurand_rejected_is_reported_once() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    set_variables(wire, [("AlignedDataCtrlr", "Measurands", "Energy.Active.Import.Regster")], ["Rejected"])
    assert [r for r in rules(analyze(wire.events)) if r.startswith("config.")] == ["config.unknown-measurand"]


def test_valid_measurand_lists_and_other_variables_are_fine() -> None:
    wire = Wire(subprotocol="ocpp2.1")
    set_variables(wire, [
        ("SampledDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register, Display.PresentSOC"),
        ("AlignedDataCtrlr", "Measurands", ""),
        ("DeviceDataCtrlr", "Measurands", "Anything"),  # not a measurand list of the standard device model
    ], ["Accepted", "Accepted", "Accepted"])
    assert [r for r in rules(analyze(wire.events)) if r.startswith("config.")] == []


def test_payloads_of_any_shape() -> None:
    wire = Wire(subprotocol="ocpp2.0.1")
    wire.cs('[2,"a","SetVariables",{"setVariableData":[{"attributeValue":5,"component":{"name":"SampledDataCtrlr"},'
            '"variable":{"name":"TxUpdatedMeasurands"}},7]}]')
    wire.cp('[3,"a",{"setVariableResult":"x"}]')
    wire.cs('[2,"b","SetVariables",{"setVariableData":[{"attributeValue":"Temperature","component":'
            '{"name":"SampledDataCtrlr"},"variable":{"name":"TxUpdatedMeasurands"}}]}]')
    wire.cp('[3,"b",{"setVariableResult":[{"attributeStatus":["Accepted"]}]}]')
    assert "ocppscope.internal-error" not in rules(analyze(wire.events))
