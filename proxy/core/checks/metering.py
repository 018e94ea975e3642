"""Meter readings that pass the schema but mean the wrong thing: units that do not fit the measurand, reading
contexts that do not fit why the value was sent, registers that run backwards, numbers parsers choke on.

Spec defaults are applied before any judgment (OCPP 1.6 §7.31 SampledValue, 2.x SampledValueType):
measurand Energy.Active.Import.Register, context Sample.Periodic, location Outlet, format Raw, and unit Wh
when the measurand is an energy one (2.x: unitOfMeasure.unit Wh, multiplier 0). A register is compared only
with readings of the same measurand, phase, location and context, in the order of their timestamps: a
Transaction.Begin value of 0 next to a periodic reading of 18 kWh is two different series, not a decrease.
"""

from __future__ import annotations

import re
from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import Direction
from ocppscope.proxy.core.findings import Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.core.payload import decimal, field, timestamp

UNIT_MISMATCH = rule(
    "meter.unit-mismatch",
    Severity.WARNING,
    "Unit does not fit the measurand",
    "After the spec defaults are applied (no measurand means Energy.Active.Import.Register, no unit means Wh for "
    "energy), the unit must be one of the measurand's kind: energy in Wh/kWh/varh/kvarh, power in "
    "W/kW/var/kvar/VA/kVA, current in A, voltage in V, SoC in Percent, temperature in Celsius/Fahrenheit/K. "
    "A sample without measurand in A is an energy register reported in amperes: the firmware forgot the "
    "measurand, and the backend books a current as energy. Reported once per connection and pair.",
    '{"value":"16.2","unit":"A"} (no measurand: an energy register reported in amperes)',
)
REGISTER_DECREASED = rule(
    "meter.register-decreased",
    Severity.ERROR,
    "Energy register reading went down during a transaction",
    "A .Register measurand must increase monotonically within a transaction. Readings are compared within "
    "the same measurand, phase, location and context, in timestamp order; Transaction.End is also compared "
    "with Transaction.Begin, and meterStop with meterStart. A lower reading breaks billing: often a meter "
    "reset, a Wh/kWh mix-up or readings from another connector.",
    "MeterValues 1240 Wh, then 1100 Wh (both Sample.Periodic) for the same transaction",
)
PHASE_SWITCH = rule(
    "meter.register-phase-switch",
    Severity.INFO,
    "Register switched between total and per-phase readings within a transaction",
    "The same register measurand came as one total (no phase) and later only per phase (L1, L2, L3), or the "
    "other way round, within one transaction: usually MeterValuesSampledData changed mid-session. A backend "
    "that reads the total sees it stop; one that adds phases sees a jump.",
    "Energy.Active.Import.Register without phase, then only Energy.Active.Import.Register L1/L2/L3",
)
CONTEXT_NOT_TRIGGER = rule(
    "meter.context-not-trigger",
    Severity.INFO,
    "Triggered meter values do not say Trigger",
    "A MeterValues sent because of an accepted TriggerMessage (2.x: a TransactionEvent with triggerReason "
    "Trigger) should have context Trigger; without a context a sample is Sample.Periodic. Backends that keep "
    "one periodic reading per interval count it twice.",
    'TriggerMessage {"requestedMessage":"MeterValues"} → Accepted, then MeterValues with context Sample.Periodic',
)
CONTEXT_MIXED = rule(
    "meter.context-mixed",
    Severity.WARNING,
    "Transaction.Begin/End and periodic samples mixed in one meterValue",
    "One meterValue is one reading moment; a Transaction.Begin or Transaction.End sample next to samples "
    "that are (or default to) Sample.Periodic or Sample.Clock makes backends take the periodic values as the "
    "start or end reading, or the other way round. Usually samples whose context the firmware left out. "
    "Reported once per connection.",
    '{"sampledValue":[{"value":"0","context":"Transaction.Begin"},{"value":"7200","measurand":"Power.Active.Import"}]}',
)
CONTEXT_OTHER = rule(
    "meter.context-other",
    Severity.WARNING,
    "Periodic meter values with context Other",
    "Meter values sent on the sampling or clock-aligned schedule say context Other; backends select "
    "Sample.Periodic and Sample.Clock readings and drop the rest, so charts and live energy stay empty. "
    "Reported once per connection.",
    'MeterValues {"sampledValue":[{"value":"18410","context":"Other"}]}',
)
VALUE_NOT_NUMBER = rule(
    "meter.value-not-number",
    Severity.WARNING,
    "Meter value is not a number",
    "A sampledValue with format Raw (the default) holds a decimal number in a string (1.6). A decimal comma, "
    "a thousands separator, a unit inside the value, NaN or an empty string cannot be parsed and the reading "
    "is lost. Reported once per connection and measurand.",
    '{"value":"12,5","measurand":"Energy.Active.Import.Register","unit":"kWh"}',
)
VALUE_NOTATION = rule(
    "meter.value-notation",
    Severity.WARNING,
    "Meter value in a notation strict parsers refuse",
    "The value reads as a number only to lenient parsers: scientific notation (1.2E+4), a leading +, a "
    "leading or trailing dot, surrounding spaces, digit separators. Decimal and integer parsers in backends "
    "refuse it. Reported once per connection and measurand.",
    '{"value":"1.841E+4"} or, in 2.x, "value":1.841e4',
)

_REGISTER = "Energy.Active.Import.Register"
_PERIODIC = "Sample.Periodic"
_OUTLET = "Outlet"
_KEY = "metering"
_MAX_TRANSACTIONS = 64
_TRIGGER_WINDOW = 30.0
"""Seconds after an accepted TriggerMessage(MeterValues) in which the next MeterValues is taken as its answer."""
_EDGES = frozenset({"Transaction.Begin", "Transaction.End"})
_SCHEDULED_CONTEXTS = frozenset({"Sample.Periodic", "Sample.Clock"})
_EXPONENT_2X = re.compile(rb'"value"\s*:\s*(-?\d+(?:\.\d+)?[eE][+-]?\d+)')
_PERIODIC_REASONS_2X = frozenset({"MeterValuePeriodic", "MeterValueClock"})
_TOTAL, _PHASES = 1, 2
"""Forms of a register in one meterValue, as bits: one total reading, readings per phase."""
_FROM_CHARGER = Direction.FROM_CHARGER
_START_OF = {"Transaction.End": ("Transaction.Begin", "its Transaction.Begin reading"),
             "meterStop": ("meterStart", "meterStart")}

_ENERGY_UNITS = ("Wh", "kWh", "varh", "kvarh", "VAh", "kVAh")
_POWER_UNITS = ("W", "kW", "var", "kvar", "VA", "kVA")
_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    # First part of the measurand name → (what it is, in words; the units of that kind).
    "Energy": ("an energy reading", _ENERGY_UNITS),
    "EnergyRequest": ("an energy request", _ENERGY_UNITS),
    "Power": ("a power reading", _POWER_UNITS),
    "Current": ("a current", ("A",)),
    "Voltage": ("a voltage", ("V",)),
    "Frequency": ("a frequency", ("Hertz", "Hz")),
    "Temperature": ("a temperature", ("Celsius", "Celcius", "Fahrenheit", "K")),
    "SoC": ("a state of charge", ("Percent",)),
}
_UNIT_WORDS = {
    "Wh": "watt-hours", "kWh": "kilowatt-hours", "varh": "var-hours", "kvarh": "kilovar-hours",
    "VAh": "volt-ampere-hours", "kVAh": "kilovolt-ampere-hours", "W": "watts", "kW": "kilowatts", "var": "vars",
    "kvar": "kilovars", "VA": "volt-amperes", "kVA": "kilovolt-amperes", "A": "amperes", "V": "volts",
    "Hertz": "hertz", "Hz": "hertz", "Celsius": "degrees Celsius", "Celcius": "degrees Celsius",
    "Fahrenheit": "degrees Fahrenheit", "K": "kelvin", "Percent": "percent",
}
_WH_FACTOR = {"wh": 1.0, "kwh": 1000.0, "varh": 1.0, "kvarh": 1000.0, "vah": 1.0, "kvah": 1000.0}
"""Factor from a register's unit (casefolded) to its base unit; other units are not comparable."""


def _unit_problem(measurand: str, unit: str, defaulted: bool) -> str | None:
    """Why ``unit`` does not fit ``measurand``, in words, or None when it fits or cannot be judged."""
    kind = _KINDS.get(measurand.split(".", 1)[0])
    if kind is None or measurand == "Power.Factor":
        return None  # RPM, Display.*, Power.Factor: no unit of their own to hold them to
    what, units = kind
    if unit.casefold() in {u.casefold() for u in units}:
        return None
    if what == "an energy reading" and measurand.endswith(".Register"):
        what = "an energy register"
    words = _UNIT_WORDS.get(unit, unit)
    if defaulted:
        return (f"a sample without measurand is {measurand} by default: {what} reported in {words} (unit {unit}); "
                "the measurand is missing or the unit is wrong")
    return f"{measurand} is {what}, reported in {words} (unit {unit}); it takes {'/'.join(units)}"


class _Series:
    __slots__ = ("seq", "time", "wh")

    def __init__(self, time: float | None, wh: float, seq: int | None) -> None:
        self.time = time
        self.wh = wh
        self.seq = seq


class _Meter:
    __slots__ = ("forms", "mixed_reported", "notations", "other_reported", "plans", "registers", "switched",
                 "trigger", "units")

    def __init__(self) -> None:
        self.registers: dict[Any, dict[tuple[Any, ...], _Series]] = {}
        """Per transaction: the latest reading of each (measurand, phase, location, context) series."""
        self.forms: dict[Any, dict[tuple[str, str], int]] = {}
        """Per transaction: the forms (_TOTAL, _PHASES) of the last meterValue with this (measurand, context)."""
        self.switched: set[tuple[Any, str]] = set()
        self.units: set[tuple[str, str]] = set()
        self.plans: dict[tuple[Any, ...], _Plan] = {}
        """Sample shape → its plan (see _plan)."""
        self.notations: set[tuple[str, str]] = set()
        self.other_reported = False
        self.mixed_reported = False
        self.trigger: tuple[float, Any] | None = None
        """(answer time, connector or EVSE asked for) of the last accepted TriggerMessage(MeterValues)."""


def _state(conn: Connection) -> _Meter:
    state = conn.data.get(_KEY)
    if state is None:
        state = conn.data[_KEY] = _Meter()
    return state


def _transaction(state: _Meter, tx: Any) -> dict[tuple[Any, ...], _Series]:
    series = state.registers.get(tx)
    if series is None:
        if len(state.registers) >= _MAX_TRANSACTIONS:  # transactions that never stopped: keep memory bounded
            oldest = next(iter(state.registers))
            del state.registers[oldest]
            state.forms.pop(oldest, None)
        series = state.registers[tx] = {}
    return series


_ID_TYPES = (str, int, float)


def _hashable(tx: Any) -> Any:
    """A transaction id to key readings by: a JSON string or number (payloads hold exact types; bool is not)."""
    return tx if type(tx) in _ID_TYPES else None


class _Plan:
    """What the fields of a sample mean, spec defaults applied: the same for every sample of that shape."""

    __slots__ = ("context", "factor", "form", "form_key", "has_start", "key", "measurand", "multiplier", "register",
                 "role")

    def __init__(self, measurand: str, context: str, unit: str | None, phase: Any, location: Any,
                 multiplier: int) -> None:
        self.measurand = measurand
        self.context = context
        self.role = _SCHEDULED_ROLE if context in _SCHEDULED_CONTEXTS else context if context in _ROLES else None
        """What the context says for the per-meterValue rules: _SCHEDULED_ROLE, an edge, Trigger, Other or None."""
        self.register = measurand.endswith(".Register")
        self.factor = 1.0 if unit is None or unit == "Wh" else _WH_FACTOR.get(unit.casefold())
        """Wh (varh, VAh) per unit of a register's value; None for a unit a register cannot be compared in."""
        self.multiplier = multiplier
        self.key = (measurand, phase, location or _OUTLET, context)
        """The register series the sample belongs to."""
        self.has_start = context in _START_OF
        self.form_key = (measurand, context)
        self.form = _TOTAL if phase is None else _PHASES


_SKIPPED: Any = object()
"""The plan of a sample no rule can read (a measurand or context that is no string)."""
_SCHEDULED_ROLE: Any = object()
_ROLES = frozenset({"Transaction.Begin", "Transaction.End", "Trigger", "Other"})
_PLANS_KEPT = 256


def _plan(ctx: Context, state: _Meter, shape: tuple[Any, ...], action: str) -> _Plan:
    """The plan for a sample of ``shape`` (measurand, context, unit, phase, location[, 2.x multiplier]); the unit is
    judged here, once per connection and (measurand, unit)."""
    measurand, context, unit, phase, location = shape[:5]
    multiplier = shape[5] if len(shape) > 5 else 0  # an int: True or 1.0 would share 1's plan
    defaulted = measurand is None
    if defaulted:
        measurand = _REGISTER
    elif type(measurand) is not str:
        return _SKIPPED
    context = context or _PERIODIC
    if type(context) is not str:
        return _SKIPPED
    if unit is None:
        unit = "Wh" if measurand.startswith("Energy") else None
    elif type(unit) is not str:
        unit = None
    if unit is not None and (measurand, unit) not in state.units:
        state.units.add((measurand, unit))
        problem = _unit_problem(measurand, unit, defaulted)
        if problem is not None:
            ctx.emit(UNIT_MISMATCH, f"{action}: {problem}",
                     {"measurand": measurand, "unit": unit, "measurand_given": not defaulted}, action=action)
    if len(state.plans) >= _PLANS_KEPT:
        state.plans.clear()  # bounded memory for a charger that sends ever new shapes
    return _Plan(measurand, context, unit, phase, location, multiplier)


class MeteringChecker(Checker):
    name = "metering"
    actions = frozenset({"MeterValues", "StopTransaction", "TransactionEvent"})
    """The CALLs that carry readings; a StartTransaction's meterStart is read with its answer (the id)."""
    result_actions = frozenset({"StartTransaction", "TriggerMessage"})

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        payload = frame.payload
        if ctx.direction is not _FROM_CHARGER or type(payload) is not dict:
            return
        action = frame.action
        state = conn.data.get(_KEY) or _state(conn)
        if action == "MeterValues":
            triggered = None if state.trigger is None else self._take_trigger(ctx, state, payload)
            self._meter_values(ctx, conn, state, _hashable(payload.get("transactionId")), payload.get("meterValue"),
                               action, triggered, periodic=triggered is None)
        elif action == "StopTransaction":
            tx = _hashable(payload.get("transactionId"))
            stop = payload.get("meterStop")
            if tx is not None and type(stop) is int:
                self._reading(ctx, _transaction(state, tx), tx, (_REGISTER, None, _OUTLET, "meterStop"),
                              timestamp(payload, "timestamp"), float(stop), action)
            data = payload.get("transactionData")
            if data is not None:
                self._meter_values(ctx, conn, state, tx, data, action, None, periodic=False)
            state.registers.pop(tx, None)
            state.forms.pop(tx, None)
        elif action == "TransactionEvent":
            tx = _hashable(field(payload, "transactionInfo", "transactionId"))
            reason = payload.get("triggerReason")
            triggered = (ctx.time, None) if reason == "Trigger" else None
            self._meter_values(ctx, conn, state, tx, payload.get("meterValue"), action, triggered,
                               periodic=type(reason) is str and reason in _PERIODIC_REASONS_2X)
            if payload.get("eventType") == "Ended":
                state.registers.pop(tx, None)
                state.forms.pop(tx, None)
        if conn.version != "1.6":
            self._exponents(ctx, conn, state, action or "")

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        answer = frame.payload if type(frame.payload) is dict else {}
        request = call.payload if type(call.payload) is dict else {}
        if call.action == "TriggerMessage":
            if request.get("requestedMessage") == "MeterValues" and answer.get("status") == "Accepted":
                where = request.get("connectorId", field(request, "evse", "id"))
                _state(conn).trigger = (ctx.time, where)
            return
        start = request.get("meterStart")
        tx = _hashable(answer.get("transactionId"))
        if tx is not None and type(start) is int:
            self._reading(ctx, _transaction(_state(conn), tx), tx, (_REGISTER, None, _OUTLET, "meterStart"),
                          timestamp(request, "timestamp"), float(start), "StartTransaction", seq=call.seq)

    # -- what was sent and why ---------------------------------------------------------------------------

    def _take_trigger(self, ctx: Context, state: _Meter, payload: dict[str, Any]) -> tuple[float, Any] | None:
        """The accepted TriggerMessage this MeterValues answers, if one is waiting (then it is used up)."""
        trigger = state.trigger
        if trigger is None:
            return None
        answered_at, where = trigger
        if ctx.time - answered_at > _TRIGGER_WINDOW:
            state.trigger = None
            return None
        here = payload.get("connectorId", payload.get("evseId"))
        if where not in (None, 0) and here not in (None, where):
            return None  # another connector's periodic values: the triggered ones may still come
        state.trigger = None
        return trigger

    def _meter_values(self, ctx: Context, conn: Connection, state: _Meter, tx: Any, meter_values: Any, action: str,
                      triggered: tuple[float, Any] | None, periodic: bool) -> None:
        # Runs for every sample of every MeterValues. What a sample's fields mean is worked out once per shape
        # (a _Plan); the loop reads the fields, the value and the register, and keeps the common case (a plain
        # decimal, a register that went up) inline.
        if type(meter_values) is not list:
            return
        legacy = conn.version == "1.6" or conn.version is None
        plans = state.plans
        series: dict[tuple[Any, ...], _Series] | None = None  # the transaction's, looked up at its first register
        trigger_said = other_said = False
        contexts_seen: set[str] | None = set() if triggered is not None else None
        for meter_value in meter_values:
            if type(meter_value) is not dict:
                continue
            samples = meter_value.get("sampledValue")
            if type(samples) is not list:
                continue
            moment = None
            moment_read = False
            edge = scheduled = None  # scheduled: the last Sample.Periodic/Sample.Clock sample, for the words
            forms: dict[tuple[str, str], int] | None = None
            for sample in samples:
                if type(sample) is not dict:
                    continue
                if legacy:
                    shape: tuple[Any, ...] = (sample.get("measurand"), sample.get("context"), sample.get("unit"),
                                              sample.get("phase"), sample.get("location"))
                else:
                    unit_of_measure = sample.get("unitOfMeasure")
                    multiplier = field(unit_of_measure, "multiplier")
                    shape = (sample.get("measurand"), sample.get("context"), field(unit_of_measure, "unit"),
                             sample.get("phase"), sample.get("location"), multiplier if type(multiplier) is int else 0)
                try:
                    plan = plans.get(shape)
                except TypeError:  # a field holds an object or array: the schema layer reports it
                    plan = _plan(ctx, state, shape, action)
                else:
                    if plan is None:
                        plan = plans[shape] = _plan(ctx, state, shape, action)
                if plan is _SKIPPED:
                    continue
                role = plan.role
                if role is _SCHEDULED_ROLE:
                    scheduled = sample
                elif role is not None:
                    if role in _EDGES:
                        edge = role
                    elif role == "Trigger":
                        trigger_said = True
                    else:
                        other_said = True
                if contexts_seen is not None:
                    contexts_seen.add(plan.context)
                value = sample.get("value")
                if legacy and type(value) is str:
                    # A plain decimal: -?digits(.digits)?; three string methods in C cost less than a regex match.
                    whole, dot, fraction = value.partition(".")
                    if (whole.isdecimal() or (whole[:1] == "-" and whole[1:].isdecimal())) and (
                            fraction.isdecimal() or not dot):
                        number: float | None = float(value)
                    elif sample.get("format", "Raw") == "SignedData":
                        continue
                    else:
                        number = self._odd_value(ctx, state, plan.measurand, value, action)
                else:
                    number = decimal(value) if type(value) is not str else None
                if number is None or tx is None or not plan.register:
                    continue
                form_key = plan.form_key
                if forms is None:
                    forms = {form_key: plan.form}
                else:
                    forms[form_key] = forms.get(form_key, 0) | plan.form
                factor = plan.factor
                if factor is None:
                    continue  # a register in amperes: meter.unit-mismatch says so, and it compares with nothing
                if not moment_read:
                    moment = timestamp(meter_value.get("timestamp"))
                    moment_read = True
                if plan.multiplier:
                    number *= 10.0**plan.multiplier
                wh = number * factor
                if series is None:
                    series = state.registers.get(tx) or _transaction(state, tx)
                key = plan.key
                previous = series.get(key)
                if (previous is not None and wh >= previous.wh and not plan.has_start
                        and (moment is None or previous.time is None or moment >= previous.time)):
                    previous.time, previous.wh, previous.seq = moment, wh, ctx.seq  # _reading's common case
                else:
                    self._reading(ctx, series, tx, key, moment, wh, action)
            if edge is not None and scheduled is not None and not state.mixed_reported:
                self._mixed(ctx, state, tx, edge, scheduled, action)
            if forms is not None:
                known = state.forms.get(tx)
                if known is None:
                    known = state.forms[tx] = {}
                for form_key, form in forms.items():
                    before = known.get(form_key)
                    known[form_key] = form
                    if before is not None and not before & form:
                        self._phase_switch(ctx, state, tx, form_key, form, action)
        if triggered is not None and contexts_seen and not trigger_said:
            said = sorted(contexts_seen)
            ctx.emit(CONTEXT_NOT_TRIGGER,
                     f"{action} sent {ctx.time - triggered[0]:.1f} s after an accepted TriggerMessage says "
                     f"{', '.join(said)}, not Trigger" if action == "MeterValues" else
                     f"{action} with triggerReason Trigger has meter values with context {', '.join(said)}, "
                     "not Trigger",
                     {"contexts": said, "transaction": tx}, action=action)
        elif periodic and other_said and not state.other_reported:
            state.other_reported = True
            ctx.emit(CONTEXT_OTHER, f"{action}: scheduled meter values say context Other; backends keep "
                     "Sample.Periodic and Sample.Clock readings and may drop these", {"transaction": tx},
                     action=action)

    def _mixed(self, ctx: Context, state: _Meter, tx: Any, edge: str, scheduled: dict[str, Any], action: str) -> None:
        state.mixed_reported = True
        context = scheduled.get("context") or _PERIODIC
        words = context if "context" in scheduled else f"{context} (no context given)"
        ctx.emit(CONTEXT_MIXED, f"{action}: one meterValue holds {edge} and {words} samples; "
                 "backends take one for the other",
                 {"transaction": tx, "contexts": [edge, context]}, action=action)

    # -- numbers -----------------------------------------------------------------------------------------

    def _odd_value(self, ctx: Context, state: _Meter, measurand: str, value: str, action: str) -> float | None:
        """The number in a value that is not a plain decimal (reported once per measurand), or None."""
        number = decimal(value)
        kind = "notation" if number is not None else "not-number"
        if (measurand, kind) in state.notations:
            return number
        state.notations.add((measurand, kind))
        shown = value if len(value) <= 40 else value[:40] + "…"
        if number is not None:
            ctx.emit(VALUE_NOTATION, f"{action}: {measurand} value {shown!r} reads as {number:g} only to lenient "
                     "parsers; send a plain decimal", {"measurand": measurand, "value": shown}, action=action)
        else:
            hint = " (a decimal comma or thousands separator)" if "," in value else ""
            ctx.emit(VALUE_NOT_NUMBER, f"{action}: {measurand} value {shown!r} is not a number{hint}; the reading "
                     "is lost", {"measurand": measurand, "value": shown}, action=action)
        return number

    def _exponents(self, ctx: Context, conn: Connection, state: _Meter, action: str) -> None:
        """2.x values are JSON numbers: only the frame's text shows how they were written."""
        event = ctx.event
        content = getattr(event, "content", None)
        if type(content) is not bytes:
            return
        found = _EXPONENT_2X.search(content)
        if found is None or ("*", "notation") in state.notations:
            return
        state.notations.add(("*", "notation"))
        written = found.group(1).decode()
        ctx.emit(VALUE_NOTATION, f"{action}: meter value written as {written} (scientific notation); decimal parsers "
                 "in backends refuse it", {"value": written}, action=action)

    # -- registers ---------------------------------------------------------------------------------------

    def _reading(self, ctx: Context, series: dict[tuple[Any, ...], _Series], tx: Any, key: tuple[Any, ...],
                 moment: float | None, wh: float, action: str, seq: int | None = None) -> None:
        """A register reading of ``wh`` watt-hours (or var-hours, volt-ampere-hours) in the ``key`` series of
        transaction ``tx``, stamped ``moment``, against the latest before it (and meterStop, Transaction.End
        against the start)."""
        previous = series.get(key)
        if previous is None:
            series[key] = _Series(moment, wh, seq if seq is not None else ctx.seq)
        else:
            later = moment is None or previous.time is None or moment >= previous.time
            if later:
                if wh < previous.wh:
                    self._decreased(ctx, tx, key, wh, previous, "the previous reading", action)
                    return
                previous.time, previous.wh, previous.seq = moment, wh, ctx.seq
            elif wh > previous.wh:
                self._decreased(ctx, tx, key, wh, previous, "the later reading", action, stamped_earlier=True)
                return
        start = _START_OF.get(key[3])
        if start is not None:
            begin = series.get((*key[:3], start[0]))
            if begin is not None and wh < begin.wh:
                self._decreased(ctx, tx, key, wh, begin, start[1], action)

    def _decreased(self, ctx: Context, tx: Any, key: tuple[Any, ...], wh: float, previous: _Series, before: str,
                   action: str, stamped_earlier: bool = False) -> None:
        measurand, phase, location, context = key
        if context in ("meterStart", "meterStop"):
            label = context
        else:
            label = (measurand + (f" {phase}" if phase else "") + (f" at {location}" if location != _OUTLET else "")
                     + f" ({context})")
        relation = f"{wh:g} Wh, stamped earlier, is above" if stamped_earlier else f"{wh:g} Wh is below"
        ctx.emit(REGISTER_DECREASED, f"transaction {tx}: {label} {relation} {before} {previous.wh:g} Wh",
                 {"transaction": tx, "measurand": measurand, "phase": phase, "location": location, "context": context,
                  "previous_wh": previous.wh, "reading_wh": wh, "previous_seq": previous.seq},
                 action=action)

    def _phase_switch(self, ctx: Context, state: _Meter, tx: Any, form_key: tuple[str, str], form: int,
                      action: str) -> None:
        """The register of ``form_key`` came in the other form than in the transaction's previous meterValue."""
        measurand, context = form_key
        if (tx, measurand) in state.switched:
            return
        state.switched.add((tx, measurand))
        change = "from one total to per-phase readings" if form == _PHASES else "from per-phase readings to one total"
        ctx.emit(PHASE_SWITCH, f"transaction {tx}: {measurand} ({context}) switched {change}",
                 {"transaction": tx, "measurand": measurand, "context": context, "per_phase": form == _PHASES},
                 action=action)
