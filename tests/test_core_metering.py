"""Meter readings: units against measurands, reading contexts, register logic, numbers parsers choke on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.traffic import T0, Wire, analyze, hits, rules

LONG_ID = "3f2b8c1e-9d4a-4e7b-a1c5-0b9e8d7f6a51"
"""A 36-character message id, the longest OCPP-J allows."""
METER_RULES = ("meter.unit-mismatch", "meter.register-decreased", "meter.register-phase-switch",
               "meter.context-not-trigger", "meter.context-mixed", "meter.context-other", "meter.value-not-number",
               "meter.value-notation")


def at(seconds: float) -> str:
    """The charger's timestamp ``seconds`` after the wire's start (a charger whose clock is right)."""
    return datetime.fromtimestamp(T0 + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sample(value: str, **fields: str) -> dict[str, Any]:
    return {"value": value, **fields}


def meter_values(wire: Wire, msg_id: str, *meter_value: dict[str, Any], tx: int | None = 42,
                 connector: int = 1) -> int:
    payload: dict[str, Any] = {"connectorId": connector, "meterValue": list(meter_value)}
    if tx is not None:
        payload["transactionId"] = tx
    seq = wire.cp(json.dumps([2, msg_id, "MeterValues", payload]))
    wire.cs(f'[3,"{msg_id}",{{}}]')
    return seq


def mv(seconds: float, *samples: dict[str, Any]) -> dict[str, Any]:
    return {"timestamp": at(seconds), "sampledValue": list(samples)}


def start(wire: Wire, meter_start: int = 1000, tx: int = 42) -> int:
    seq = wire.cp(json.dumps([2, "st", "StartTransaction", {"connectorId": 1, "idTag": "04A2B3C4D5E6F7",
                                                             "meterStart": meter_start, "timestamp": at(0)}]))
    wire.cs(json.dumps([3, "st", {"idTagInfo": {"status": "Accepted"}, "transactionId": tx}]))
    return seq


def stop(wire: Wire, meter_stop: int, *transaction_data: dict[str, Any], tx: int = 42) -> int:
    payload: dict[str, Any] = {"transactionId": tx, "meterStop": meter_stop, "timestamp": at(600),
                               "reason": "EVDisconnected"}
    if transaction_data:
        payload["transactionData"] = list(transaction_data)
    seq = wire.cp(json.dumps([2, "sp", "StopTransaction", payload]))
    wire.cs('[3,"sp",{"idTagInfo":{"status":"Accepted"}}]')
    return seq


def metering(findings: list[Any]) -> list[str]:
    return [rule for rule in rules(findings) if rule in METER_RULES]


def booted(subprotocol: str = "ocpp1.6") -> Wire:
    wire = Wire(subprotocol=subprotocol)
    if subprotocol == "ocpp1.6":
        wire.boot()
    return wire


# -- units -----------------------------------------------------------------------------------------------


def test_a_sample_without_measurand_in_amperes_is_an_energy_register_reported_in_amperes() -> None:
    wire = booted()
    start(wire)
    seq = meter_values(wire, "m1", mv(60, sample("16.2", unit="A")))
    meter_values(wire, "m2", mv(120, sample("16.4", unit="A")))  # the same pair again: said once
    [found] = hits(analyze(wire.events), "meter.unit-mismatch")
    assert found.seq == seq
    assert "an energy register reported in amperes" in found.message
    assert found.evidence == {"measurand": "Energy.Active.Import.Register", "unit": "A", "measurand_given": False}


def test_a_measurand_in_a_unit_of_another_kind() -> None:
    wire = booted()
    start(wire)
    meter_values(wire, "m1", mv(60, sample("7200", measurand="Current.Import", unit="W"),
                                sample("231", measurand="Voltage", unit="A")))
    found = hits(analyze(wire.events), "meter.unit-mismatch")
    assert [f.evidence["measurand"] for f in found] == ["Current.Import", "Voltage"]
    assert "Current.Import is a current, reported in watts (unit W); it takes A" in found[0].message


def test_units_that_fit_their_measurand_are_not_flagged() -> None:
    wire = booted()
    start(wire)
    meter_values(wire, "m1", mv(
        60,
        sample("1200"),  # no measurand, no unit: the default register in the default Wh
        sample("1.2", unit="kWh"),
        sample("16.1", measurand="Current.Import", unit="A", phase="L1"),
        sample("230.2", measurand="Voltage", unit="V", phase="L1-N"),
        sample("31", measurand="Temperature", unit="Celcius", location="Body"),  # the 1.6 schema's spelling
        sample("80", measurand="SoC", unit="Percent", location="EV"),
        sample("0.98", measurand="Power.Factor"),
        sample("50.0", measurand="Frequency"),  # no unit, and no default for non-energy measurands
        sample("7.2", measurand="Power.Active.Import", unit="kW"),
        sample("120", measurand="Energy.Reactive.Import.Register", unit="varh"),
    ))
    assert metering(analyze(wire.events)) == []


def test_units_in_201_with_defaults_and_multiplier() -> None:
    wire = booted("ocpp2.0.1")
    event = {"eventType": "Updated", "timestamp": at(60), "triggerReason": "MeterValuePeriodic", "seqNo": 1,
             "transactionInfo": {"transactionId": "TX-1"},
             "meterValue": [{"timestamp": at(60), "sampledValue": [
                 {"value": 1520.0},  # Energy.Active.Import.Register in Wh, both by default
                 {"value": 1.52, "unitOfMeasure": {"unit": "kWh"}},
                 {"value": 16, "measurand": "Current.Import", "unitOfMeasure": {"unit": "A"}},
                 {"value": 7, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W", "multiplier": 3}},
             ]}]}
    wire.cp(json.dumps([2, "t1", "TransactionEvent", event]))
    wire.cs('[3,"t1",{}]')
    assert metering(analyze(wire.events)) == []
    wire = booted("ocpp2.0.1")
    event["meterValue"][0]["sampledValue"] = [{"value": 16.0, "measurand": "Energy.Active.Import.Register",
                                               "unitOfMeasure": {"unit": "A"}}]
    seq = wire.cp(json.dumps([2, "t1", "TransactionEvent", event]))
    wire.cs('[3,"t1",{}]')
    [found] = hits(analyze(wire.events), "meter.unit-mismatch")
    assert found.seq == seq and "an energy register, reported in amperes" in found.message


# -- registers -------------------------------------------------------------------------------------------


def test_register_decreased_within_one_series() -> None:
    wire = booted()
    start(wire, meter_start=1000)
    meter_values(wire, "m1", mv(60, sample("1240", measurand="Energy.Active.Import.Register", unit="Wh")))
    seq = meter_values(wire, "m2", mv(120, sample("1100", measurand="Energy.Active.Import.Register", unit="Wh")))
    [found] = hits(analyze(wire.events), "meter.register-decreased")
    assert found.seq == seq
    assert found.message == ("transaction 42: Energy.Active.Import.Register (Sample.Periodic) 1100 Wh is below "
                             "the previous reading 1240 Wh")
    assert found.evidence["previous_wh"] == 1240 and found.evidence["context"] == "Sample.Periodic"


def test_wh_and_kwh_readings_compare_in_wh() -> None:
    wire = booted()
    start(wire)
    meter_values(wire, "m1", mv(60, sample("1200")))
    meter_values(wire, "m2", mv(120, sample("1.3", unit="kWh")))
    seq = meter_values(wire, "m3", mv(180, sample("1250", unit="Wh")))
    assert [f.seq for f in hits(analyze(wire.events), "meter.register-decreased")] == [seq]


def test_a_transaction_begin_of_zero_next_to_periodic_readings_is_no_decrease() -> None:
    wire = booted()
    start(wire, meter_start=18250)
    meter_values(wire, "m1", mv(60, sample("18410", context="Sample.Periodic")))
    # A charger that reports the begin reading as the transaction's own count from 0, after the fact.
    meter_values(wire, "m2", mv(0, sample("0", context="Transaction.Begin")))
    meter_values(wire, "m3", mv(120, sample("18575", context="Sample.Periodic")))
    stop(wire, 18690, mv(0, sample("0", context="Transaction.Begin")),
         mv(600, sample("440", context="Transaction.End")))
    assert metering(analyze(wire.events)) == []


def test_periodic_samples_repeated_in_stop_transaction_data_are_no_decrease() -> None:
    wire = booted()
    start(wire, meter_start=18250)
    meter_values(wire, "m1", mv(60, sample("18410")))
    meter_values(wire, "m2", mv(120, sample("18575")))
    # StopTxnSampledData: the same periodic samples again, with their own (earlier) timestamps.
    stop(wire, 18690, mv(60, sample("18410")), mv(120, sample("18575")),
         mv(600, sample("18690", context="Transaction.End")))
    assert metering(analyze(wire.events)) == []


def test_an_earlier_stamped_reading_above_a_later_one_is_a_decrease() -> None:
    wire = booted()
    start(wire)
    meter_values(wire, "m1", mv(120, sample("1300")))
    seq = meter_values(wire, "m2", mv(60, sample("1400")))  # sent later, stamped earlier, higher
    [found] = hits(analyze(wire.events), "meter.register-decreased")
    assert found.seq == seq and "stamped earlier, is above the later reading 1300 Wh" in found.message


def test_end_below_begin_and_meter_stop_below_meter_start() -> None:
    wire = booted()
    start(wire, meter_start=5000)
    meter_values(wire, "m1", mv(60, sample("4000")))  # periodic below meterStart: another series, not compared
    seq = stop(wire, 4900, mv(0, sample("5000", context="Transaction.Begin")),
               mv(600, sample("4900", context="Transaction.End")))
    found = hits(analyze(wire.events), "meter.register-decreased")
    assert [(f.seq, f.evidence["context"]) for f in found] == [(seq, "meterStop"), (seq, "Transaction.End")]
    assert "meterStop 4900 Wh is below meterStart 5000 Wh" in found[0].message
    assert "is below its Transaction.Begin reading 5000 Wh" in found[1].message


def test_phases_and_locations_are_their_own_registers() -> None:
    wire = booted()
    start(wire)
    meter_values(wire, "m1", mv(60, sample("900", phase="L1"), sample("1200", phase="L2"),
                                sample("50", location="Inlet")))
    meter_values(wire, "m2", mv(120, sample("950", phase="L1"), sample("1250", phase="L2"),
                                sample("60", location="Inlet")))
    assert metering(analyze(wire.events)) == []


def test_register_in_201_transaction_events() -> None:
    wire = booted("ocpp2.0.1")
    seqs = []
    for n, (event_type, reason, context, value) in enumerate((
            ("Started", "Authorized", "Transaction.Begin", 0.0), ("Updated", "MeterValuePeriodic", "Sample.Periodic",
                                                                   1520.0),
            ("Updated", "MeterValuePeriodic", "Sample.Periodic", 1400.0), ("Ended", "EVDeparted", "Transaction.End",
                                                                           2210.0))):
        event = {"eventType": event_type, "timestamp": at(n * 60), "triggerReason": reason, "seqNo": n,
                 "transactionInfo": {"transactionId": LONG_ID},
                 "meterValue": [{"timestamp": at(n * 60), "sampledValue": [{"value": value, "context": context}]}]}
        seqs.append(wire.cp(json.dumps([2, f"t{n}", "TransactionEvent", event])))
        wire.cs(f'[3,"t{n}",{{}}]')
    assert [f.seq for f in hits(analyze(wire.events), "meter.register-decreased")] == [seqs[2]]


def test_register_switched_from_total_to_phases() -> None:
    wire = booted()
    start(wire)
    meter_values(wire, "m1", mv(60, sample("1200")))
    seq = meter_values(wire, "m2", mv(120, sample("400", phase="L1"), sample("410", phase="L2"),
                                      sample("420", phase="L3")))
    meter_values(wire, "m3", mv(180, sample("1300")))  # and back: said once per transaction
    [found] = hits(analyze(wire.events), "meter.register-phase-switch")
    assert found.seq == seq
    assert found.message == ("transaction 42: Energy.Active.Import.Register (Sample.Periodic) switched from one "
                             "total to per-phase readings")


def test_total_and_phases_together_then_total_alone_is_no_switch() -> None:
    wire = booted()
    start(wire)
    meter_values(wire, "m1", mv(60, sample("1200"), sample("400", phase="L1"), sample("410", phase="L2")))
    meter_values(wire, "m2", mv(120, sample("1300")))
    meter_values(wire, "m3", mv(180, sample("1400"), sample("450", phase="L1"), sample("460", phase="L2")))
    assert metering(analyze(wire.events)) == []


# -- contexts --------------------------------------------------------------------------------------------


def trigger(wire: Wire, status: str = "Accepted", connector: int | None = 1) -> None:
    request: dict[str, Any] = {"requestedMessage": "MeterValues"}
    if connector is not None:
        request["connectorId"] = connector
    wire.cs(json.dumps([2, LONG_ID, "TriggerMessage", request]))
    wire.cp(json.dumps([3, LONG_ID, {"status": status}]), after=0.1)


def test_triggered_meter_values_that_say_sample_periodic() -> None:
    wire = booted()
    start(wire)
    trigger(wire)
    seq = meter_values(wire, "m1", mv(60, sample("1200", measurand="Energy.Active.Import.Register")), )
    [found] = hits(analyze(wire.events), "meter.context-not-trigger")
    assert found.seq == seq and found.severity.name == "INFO"
    assert found.message == "MeterValues sent 1.0 s after an accepted TriggerMessage says Sample.Periodic, not Trigger"


def test_triggered_meter_values_that_say_trigger_and_refused_triggers_are_fine() -> None:
    wire = booted()
    start(wire)
    trigger(wire)
    meter_values(wire, "m1", mv(60, sample("1200", context="Trigger")))
    trigger(wire, status="Rejected")
    meter_values(wire, "m2", mv(120, sample("1300")))
    trigger(wire, connector=1)
    meter_values(wire, "m3", mv(130, sample("400", context="Sample.Periodic")), connector=2, tx=43)  # other one
    meter_values(wire, "m4", mv(180, sample("1400", context="Trigger")))
    assert metering(analyze(wire.events)) == []


def test_201_transaction_event_with_trigger_reason_trigger() -> None:
    wire = booted("ocpp2.0.1")
    event = {"eventType": "Updated", "timestamp": at(60), "triggerReason": "Trigger", "seqNo": 1,
             "transactionInfo": {"transactionId": "TX-1"},
             "meterValue": [{"timestamp": at(60), "sampledValue": [{"value": 1520.0,
                                                                     "context": "Sample.Periodic"}]}]}
    seq = wire.cp(json.dumps([2, "t1", "TransactionEvent", event]))
    wire.cs('[3,"t1",{}]')
    assert [f.seq for f in hits(analyze(wire.events), "meter.context-not-trigger")] == [seq]


def test_transaction_begin_mixed_with_periodic_samples_in_one_meter_value() -> None:
    wire = booted()
    start(wire)
    seq = meter_values(wire, "m1", mv(0, sample("0", context="Transaction.Begin"),
                                      sample("7200", measurand="Power.Active.Import", unit="W")))
    meter_values(wire, "m2", mv(1, sample("0", context="Transaction.Begin"),
                                sample("7200", measurand="Power.Active.Import", unit="W")))  # said once
    [found] = hits(analyze(wire.events), "meter.context-mixed")
    assert found.seq == seq
    assert found.message == ("MeterValues: one meterValue holds Transaction.Begin and Sample.Periodic (no context "
                             "given) samples; backends take one for the other")


def test_begin_and_end_in_their_own_meter_values_are_fine() -> None:
    wire = booted()
    start(wire)
    stop(wire, 1400, mv(0, sample("1000", context="Transaction.Begin"),
                        sample("0", measurand="Power.Active.Import", unit="W", context="Transaction.Begin")),
         mv(300, sample("1200", context="Sample.Periodic")),
         mv(600, sample("1400", context="Transaction.End")))
    assert metering(analyze(wire.events)) == []


def test_periodic_meter_values_with_context_other() -> None:
    wire = booted()
    start(wire)
    seq = meter_values(wire, "m1", mv(60, sample("1200", context="Other")))
    meter_values(wire, "m2", mv(120, sample("1300", context="Other")))
    stop(wire, 1400, mv(600, sample("1400", context="Other")))
    [found] = hits(analyze(wire.events), "meter.context-other")
    assert found.seq == seq and found.severity.name == "WARNING"


# -- numbers ---------------------------------------------------------------------------------------------


def test_values_that_are_not_numbers() -> None:
    wire = booted()
    start(wire)
    seq = meter_values(wire, "m1", mv(60, sample("12,5", unit="kWh")))
    meter_values(wire, "m2", mv(120, sample("12,6", unit="kWh")))
    [found] = hits(analyze(wire.events), "meter.value-not-number")
    assert found.seq == seq
    assert found.message == ("MeterValues: Energy.Active.Import.Register value '12,5' is not a number (a decimal "
                             "comma or thousands separator); the reading is lost")


def test_values_in_notations_strict_parsers_refuse() -> None:
    for value in ("1.841E+4", "+18410", " 18410", "18410.", ".5", "18_410"):
        wire = booted()
        start(wire)
        seq = meter_values(wire, "m1", mv(60, sample(value)))
        assert [f.seq for f in hits(analyze(wire.events), "meter.value-notation")] == [seq], value


def test_plain_decimals_and_signed_data_are_fine() -> None:
    wire = booted()
    start(wire)
    meter_values(wire, "m1", mv(60, sample("18410.5"), sample("-3.25", measurand="Power.Active.Export", unit="W"),
                                sample("0", measurand="Current.Import", unit="A"),
                                sample("AP8fA1kBAAAGAQ==", format="SignedData")))
    assert metering(analyze(wire.events)) == []


def test_201_value_in_scientific_notation() -> None:
    wire = booted("ocpp2.0.1")
    text = ('[2,"t1","TransactionEvent",{"eventType":"Updated","timestamp":"' + at(60) + '","triggerReason":'
            '"MeterValuePeriodic","seqNo":1,"transactionInfo":{"transactionId":"a1e4-41e4"},"meterValue":[{'
            '"timestamp":"' + at(60) + '","sampledValue":[{"value":1.841e4}]}]}]')
    seq = wire.cp(text)
    wire.cs('[3,"t1",{}]')
    [found] = hits(analyze(wire.events), "meter.value-notation")
    assert found.seq == seq and "1.841e4" in found.message
    wire = booted("ocpp2.0.1")
    wire.cp(text.replace("1.841e4", "18410.0"))  # an id with "1e4" inside a string is no number
    wire.cs('[3,"t1",{}]')
    assert metering(analyze(wire.events)) == []


def test_pretty_printed_meter_values_with_optional_fields_absent() -> None:
    wire = booted()
    start(wire)
    payload = {"connectorId": 1, "meterValue": [{"timestamp": at(60), "sampledValue": [{"value": "1200"}]}]}
    wire.cp(json.dumps([2, LONG_ID, "MeterValues", payload], indent=2))
    wire.cs(json.dumps([3, LONG_ID, {}]))
    assert metering(analyze(wire.events)) == []


def test_payloads_of_any_shape_do_not_break_the_rules() -> None:
    wire = booted()
    start(wire)
    for n, payload in enumerate(('{"connectorId":1,"transactionId":42,"meterValue":"x"}',
                                 '{"connectorId":1,"transactionId":[1],"meterValue":[1,{"sampledValue":{}}]}',
                                 '{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":5,"sampledValue":'
                                 '[{"value":null,"measurand":7},{"value":"1","unit":3,"context":[]}]}]}')):
        wire.cp(f'[2,"x{n}","MeterValues",{payload}]')
        wire.cs(f'[3,"x{n}",{{}}]')
    wire.cp('[2,"y","StopTransaction",{"transactionId":{},"meterStop":"1","transactionData":[{}]}]')
    wire.cs('[3,"y",{}]')
    assert "ocppscope.internal-error" not in rules(analyze(wire.events))


def test_the_bundled_capture_names_the_amperes_register_in_those_words() -> None:
    from pathlib import Path

    from ocppscope.proxy.capture.reader import read_capture

    from tests.traffic import analyze as run

    capture = Path(__file__).resolve().parents[1] / "captures" / "meter-values.jsonl"
    found = run(read_capture(capture))
    [amperes] = hits(found, "meter.unit-mismatch")
    assert amperes.seq == 18 and "an energy register reported in amperes (unit A)" in amperes.message
    assert [f.seq for f in hits(found, "meter.register-decreased")] == [22]  # not the Transaction.Begin zeros
