"""Configuration values that name protocol things: measurand lists set with SetVariables (OCPP 2.x).

The 1.6 keys (MeterValuesSampledData, StopTxnSampledData, MeterValuesAlignedData, StopTxnAlignedData) are
judged by the charger profiles (``config.csl-item``, and ``config.unlisted-key`` for keys OCPP 1.6 does not
name), which always apply to 1.6 chargers; the 2.x device model has no profile, so its measurand variables
are judged here against the MeasurandEnumType of the negotiated version's schemas.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.payload import field, objects, text

UNKNOWN_MEASURAND = rule(
    "config.unknown-measurand",
    Severity.WARNING,
    "Measurand list names a measurand the OCPP version does not have",
    "SetVariables of SampledDataCtrlr (TxStartedMeasurands, TxUpdatedMeasurands, TxEndedMeasurands) or "
    "AlignedDataCtrlr (Measurands, TxEndedMeasurands) lists an item outside MeasurandEnumType: a 1.6 name, a "
    "typo, a phase suffix (2.x measurands carry the phase in their own field). The station should answer "
    "Rejected and keep its old list.",
    'SetVariables SampledDataCtrlr.TxUpdatedMeasurands = "Energy.Active.Import.Register,Current.Import.L1"',
)
UNKNOWN_MEASURAND_ACCEPTED = rule(
    "config.unknown-measurand-accepted",
    Severity.WARNING,
    "Station accepted a measurand list with an unknown measurand",
    "The station answered Accepted to a measurand list with an item outside MeasurandEnumType. It stored a "
    "value it cannot honour: expect meter values without that measurand, or samples the CSMS cannot parse.",
    "SetVariables ... TxUpdatedMeasurands = 'Energy.Active.Import.Register,Temperature' answered Accepted",
)

_MEASURAND_VARIABLES = frozenset({
    ("SampledDataCtrlr", "TxStartedMeasurands"), ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    ("SampledDataCtrlr", "TxEndedMeasurands"), ("AlignedDataCtrlr", "Measurands"),
    ("AlignedDataCtrlr", "TxEndedMeasurands"),
})
_SCHEMA_FOLDERS = {"2.0.1": "v201", "2.1": "v21"}
_KEY = "configuration"


@cache
def measurands(version: str) -> frozenset[str]:
    """MeasurandEnumType of ``version``'s MeterValues schema (empty for a version without one)."""
    folder = _SCHEMA_FOLDERS.get(version)
    if folder is None:
        return frozenset()
    with resources.files("ocpp").joinpath(folder, "schemas", "MeterValuesRequest.json").open("rb") as fh:
        schema = json.load(fh)
    return frozenset(schema["definitions"]["MeasurandEnumType"]["enum"])


def _unknown_items(value: str, known: frozenset[str]) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip() and item.strip() not in known]


class ConfigurationChecker(Checker):
    name = "configuration"
    actions = frozenset({"SetVariables"})

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        if ctx.direction is not Direction.FROM_BACKEND:
            return
        known = measurands(conn.version or "")
        if not known:
            return
        flagged: dict[int, tuple[str, list[str]]] = {}
        for index, item in enumerate(objects(frame.payload, "setVariableData")):
            component, variable = text(item, "component", "name"), text(item, "variable", "name")
            value = text(item, "attributeValue")
            if (component, variable) not in _MEASURAND_VARIABLES or value is None:
                continue
            unknown = _unknown_items(value, known)
            if not unknown:
                continue
            where = f"{component}.{variable}"
            flagged[index] = (where, unknown)
            ctx.emit(UNKNOWN_MEASURAND, f"SetVariables {where} = {value!r}: {', '.join(unknown)} "
                     f"{'is' if len(unknown) == 1 else 'are'} not OCPP {conn.version} measurand"
                     f"{'' if len(unknown) == 1 else 's'}; the station should answer Rejected",
                     {"variable": where, "value": value, "unknown": unknown}, action="SetVariables")
        if flagged and frame.message_id is not None:
            pending = conn.data.setdefault(_KEY, {})
            pending[frame.message_id] = flagged
            if len(pending) > 16:  # answers that never came: keep memory bounded
                del pending[next(iter(pending))]

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        flagged = conn.data.get(_KEY, {}).pop(call.message_id, None)
        if not flagged:
            return
        results = list(objects(frame.payload, "setVariableResult"))
        for index, (where, unknown) in flagged.items():
            result = _result_for(results, index, where)
            status = text(result, "attributeStatus")
            if status in ("Accepted", "RebootRequired"):
                ctx.emit(UNKNOWN_MEASURAND_ACCEPTED, f"SetVariables {where}: the station answered {status} to a "
                         f"list with {', '.join(unknown)}; it stored a value it cannot honour",
                         {"variable": where, "unknown": unknown, "status": status, "call_seq": call.seq},
                         action="SetVariables")


def _result_for(results: list[dict[str, Any]], index: int, where: str) -> dict[str, Any]:
    """The setVariableResult for ``where``: matched by component and variable, else by position."""
    for result in results:
        if f"{field(result, 'component', 'name')}.{field(result, 'variable', 'name')}" == where:
            return result
    return results[index] if index < len(results) else {}
