"""Vendor capability profiles applied to traffic: what this model of charger really supports and accepts.

The checker receives profiles already loaded (``proxy.profiles.options.profile_checker`` builds it from the
command line); it picks a profile per charger, asks the pure judges in ``proxy.profiles`` about each
message and turns their verdicts into findings. Per charger it remembers the configuration values the
traffic revealed, so an answer on one connection informs the checks on the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocppscope.proxy.core.analyzer import Checker, Context
from ocppscope.proxy.core.checks.percharger import MAX_CHARGERS, charger_state
from ocppscope.proxy.core.connection import Connection, PendingCall
from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Ping, header
from ocppscope.proxy.core.findings import RULES, Severity, rule
from ocppscope.proxy.core.frames import Frame
from ocppscope.proxy.endpoint.reverse import Actual, differences, rebuild_url
from ocppscope.proxy.profiles import judge_config, judge_limits, judge_messages
from ocppscope.proxy.profiles.model import Profile
from ocppscope.proxy.profiles.selection import Choice, ProfileSelector, detection_match
from ocppscope.proxy.profiles.state import ChargerState
from ocppscope.proxy.profiles.verdicts import DISAGREES, Expectation, Verdict, compare

_EXAMPLE_EVC5 = "charger 1891351 booting as Ecotap"

SELECTED = rule(
    "profile.selected", Severity.INFO, "Profile applied to this charger, and why",
    "ocppscope judges each charger against a capability profile: the one mapped with --profile or a mapping "
    "file, else the one whose BootNotification patterns match (vendor, model, serial number), else "
    "ocpp16-generic. This finding says which one and why. Without a mapping, the choice is made at the "
    "connection's BootNotification and said there; a connection that never sends one is told at its end which "
    "profile applied.",
    "profile ecotap-evc5: BootNotification vendor 'Ecotap' matches 'Ecotap*', serial '1891351' matches '189*'",
)
BOOT_MISMATCH = rule(
    "profile.boot-mismatch", Severity.WARNING, "BootNotification does not fit the profile mapped to the charger",
    "The charger was mapped explicitly to a profile, but its BootNotification (vendor, model, serial number) "
    "matches another model. The mapping is kept; check it, or the findings judge the wrong model.",
    "--profile CP01=ecotap-evc4, BootNotification chargePointSerialNumber '1891351' (an EVC 5.x)",
)
BOOT_FIELD = rule(
    "profile.boot-field", Severity.WARNING, "BootNotification field missing or too long for this model",
    "The vendor says this model always sends these BootNotification fields, or limits their length. An "
    "empty vendor, model or serial on an Ecotap charger usually means its com_OCPPInfo was wiped, which "
    "hampers the connection to the backend.",
    '[2,"1","BootNotification",{"chargePointVendor":"","chargePointModel":""}] from an Ecotap EVC 5.x',
)
VERSION = rule(
    "profile.version", Severity.WARNING, "OCPP version or subprotocol the profile does not cover",
    "The connection negotiated an OCPP version or subprotocol that the charger's profile does not list; the "
    "profile's checks are skipped for this connection.",
    "Sec-WebSocket-Protocol: ocpp2.0.1 on a charger mapped to ecotap-evc5 (OCPP 1.6 only)",
)
IDENTITY = rule(
    "profile.identity", Severity.ERROR, "Charger identity breaks the model's identity rules",
    "The identity (last segment of the URL path) is longer than the model can store or has characters it "
    "does not accept; such a charger cannot be configured with this identity.",
    "/ocpp/ECOTAP-STATION-AMSTERDAM-0001 (32 characters) on an EVC 5.x (com_OCPPID holds 25)",
)
ACTION_UNSUPPORTED = rule(
    "profile.action-unsupported", Severity.ERROR, "Backend sends a message this model does not implement",
    "The vendor says this charger model does not implement the action; expect a CALLERROR NotImplemented or "
    "NotSupported, and no effect.",
    '[2,"1","SignedUpdateFirmware",{...}] to a charger whose profile lists it as unsupported',
)
ACTION_UNDOCUMENTED = rule(
    "profile.action-undocumented", Severity.WARNING, "Message not among those the vendor documents",
    "The vendor's list of supported messages does not mention this action (for example Zaptec's partial "
    "OCPP 1.6). It may work, or be answered NotImplemented. From the charger it is only an info.",
    '[2,"1","ReserveNow",{...}] to a Zaptec charger',
)
CAVEAT = rule(
    "profile.caveat", Severity.INFO, "Vendor caveat for this message",
    "The vendor documents a behaviour of this model for this message (a hard reset loses the transaction "
    "data, UnlockConnector does nothing on cable variants, an empty default idTag...). Severity is set by "
    "the profile.",
    '[2,"1","Reset",{"type":"Hard"}] to the AC wallbox: the transaction in progress is lost',
)
MEASURAND_UNSUPPORTED = rule(
    "profile.measurand-unsupported", Severity.WARNING, "Charger reports a measurand its profile does not list",
    "The vendor lists the measurands this model supports; this one is outside the list. Either the firmware "
    "does more than documented or the value is not what the backend thinks. Reported once per connection.",
    '{"sampledValue":[{"value":"50","measurand":"Frequency"}]} from the AC wallbox',
)
FIRMWARE_DISAGREES = rule(
    DISAGREES, Severity.WARNING, "Profile and firmware disagree",
    "The charger did something its profile says it cannot: accepted a value the vendor says it rejects, "
    "reported a key the model should not have, answered NotImplemented for a supported message... Either "
    "the firmware differs from the documentation or the profile needs correcting.",
    "ChangeConfiguration MeterValueSampleInterval = '2' answered Accepted by the AC wallbox (rejects below 4)",
)
NO_KEEPALIVE = rule(
    "profile.no-keepalive", Severity.WARNING, "Idle connection dropped; this model does not ping by default",
    "This model sends no WebSocket pings unless WebSocketPingInterval is set above 0, and no ping was seen in "
    "either direction before the connection dropped while idle. NAT routers and load balancers close idle "
    "connections: have the backend ping, or set WebSocketPingInterval. (Some inputs do not record pings.)",
    "Zaptec charger, no frames for 10 minutes, then close 1006",
)
ENDPOINT_MISMATCH = rule(
    "config.endpoint-mismatch", Severity.WARNING, "Configured endpoint differs from where the charger connected",
    "The URL rebuilt from the charger's own endpoint settings (GetConfiguration) is not the one it connected "
    "to: the settings were changed since, or the charger is reached through a different name, port or path. "
    "After its next restart it will use the configured one.",
    "com_Endpoint 'new.example.com:443/ocpp/#OSN#' reported on a connection to old.example.com",
)
UNSUPPORTED_KEY = rule(
    "config.unsupported-key", Severity.ERROR, "Configuration key this model does not have",
    "The vendor says this model lacks the key (or names it differently); ChangeConfiguration is answered "
    "NotSupported and nothing changes.",
    'ChangeConfiguration MinimumStatusDuration on the AC wallbox (listed as not supported)',
)
UNLISTED_KEY = rule(
    "config.unlisted-key", Severity.INFO, "Configuration key the profile does not list",
    "The key is neither a standard OCPP 1.6 key nor one of the vendor's documented keys. Vendor lists are "
    "rarely complete, so this is only a hint, with the nearest known names; the profile sets the severity.",
    "ChangeConfiguration com_OCPCID on an EVC 5.x (did you mean com_OCPPID?)",
)
READ_ONLY = rule(
    "config.read-only", Severity.ERROR, "ChangeConfiguration of a read-only key",
    "The key is read-only on this model (R); the charger answers Rejected.",
    "ChangeConfiguration GetConfigurationMaxKeys = '20'",
)
WRITE_ONLY = rule(
    "config.write-only", Severity.WARNING, "GetConfiguration asks for a write-only key",
    "Write-only keys such as AuthorizationKey are never read back; the charger leaves them out or returns an "
    "unrelated value.",
    'GetConfiguration {"key":["AuthorizationKey"]}',
)
WRONG_TYPE = rule(
    "config.wrong-type", Severity.ERROR, "Configuration value of the wrong type",
    "The key takes an integer or a boolean (true/false) and the value is not one; the charger answers "
    "Rejected.",
    "ChangeConfiguration HeartbeatInterval = '5min'",
)
OUT_OF_RANGE = rule(
    "config.out-of-range", Severity.ERROR, "Configuration value outside the model's range",
    "The vendor states the range the key accepts (\"0 or 10–65535\" shapes included) and the value is "
    "outside it, or the key may only be raised; the charger answers Rejected.",
    "ChangeConfiguration WebSocketPingInterval = '5' on the AC wallbox (0 or 10–65535)",
)
NOT_ALLOWED = rule(
    "config.not-allowed", Severity.ERROR, "Configuration value outside the allowed set",
    "The key (or one option of a structured key) takes one of a fixed set of values; the vendor's reason is "
    "quoted when it gives one.",
    "ChangeConfiguration com_Options = '...,useTLS=1,...' on an EVC 4.x (no TLS)",
)
CSL_ITEM = rule(
    "config.csl-item", Severity.ERROR, "Comma-separated list item the model does not support",
    "An item of a CSL key (measurands, feature profiles...) is not one the model supports; per the 1.6 "
    "errata the charger rejects the whole change.",
    "ChangeConfiguration MeterValuesSampledData = 'Voltage,Frequency' on the AC wallbox",
)
TOO_MANY_ITEMS = rule(
    "config.too-many-items", Severity.ERROR, "Comma-separated list longer than the model allows",
    "The list has more items than the key's maximum (its <Key>MaxLength).",
    "ChangeConfiguration MeterValuesAlignedData with 6 measurands (at most 5)",
)
BAD_FORMAT = rule(
    "config.bad-format", Severity.ERROR, "Configuration value not in the vendor's format",
    "The vendor describes a format (host:port/path without a scheme, name=value options, user:password, "
    "positional fields...) and the value breaks it. Chargers often store such values anyway and only fail "
    "when they use them, for example at the next connection attempt.",
    "ChangeConfiguration com_Endpoint = '192.168.255.8:443:80/ocpp1.6/secured/#OSN#' (two ports)",
)
TOO_LONG = rule(
    "config.too-long", Severity.ERROR, "Configuration value longer than the model stores",
    "The vendor limits the length of this value (an identity of at most 25 characters, an APN name of 39...).",
    "ChangeConfiguration com_OCPPID = 'ECOTAP-STATION-AMSTERDAM-0001'",
)
VALUE_CLAMPED = rule(
    "config.value-clamped", Severity.WARNING, "Value accepted but the charger uses another one",
    "The vendor documents that the charger accepts such values but runs a different one, so the backend "
    "believes a setting that is not in effect.",
    "ChangeConfiguration HeartbeatInterval = '5' on the AC wallbox (runs as 10)",
)
VALUE_NOTE = rule(
    "config.value-note", Severity.INFO, "Vendor note about this value",
    "The vendor says something about this value or key: deprecated protocols, a weak signal, a password "
    "change that reconnects the charger... Severity is set by the profile.",
    "ChangeConfiguration com_ProtType = 'LMS' (deprecated; the charger stops speaking OCPP)",
)
REBOOT_REQUIRED = rule(
    "config.reboot-required", Severity.INFO, "Change takes effect only after a reboot",
    "The vendor says this key is applied at the next reboot; expect RebootRequired and send Reset when all "
    "changes are made.",
    "ChangeConfiguration of a key marked reboot = true",
)
RESTARTS_CHARGER = rule(
    "config.restarts-charger", Severity.WARNING, "Change restarts the charger",
    "The vendor says the charger restarts by itself after this change (Ecotap: 60 s after the OCPP id "
    "changes) and then connects with the new setting: send it last, and expect the connection to drop.",
    "ChangeConfiguration com_OCPPID = 'NL*ECO*1000'",
)
INCONSISTENT = rule(
    "config.inconsistent", Severity.WARNING, "Settings that contradict each other",
    "Together with what is known of the charger's other settings, this value makes the endpoint or the "
    "authentication inconsistent: TLS on with the plain-ws port 80, an authorization key naming another "
    "user than the identity, a password that repeats the user name...",
    "com_Options useTLS=1 while com_Endpoint is 'example.com:80/ocpp/#OSN#'",
)
GET_TOO_MANY_KEYS = rule(
    "config.get-too-many-keys", Severity.ERROR, "GetConfiguration asks for more keys than the model answers",
    "GetConfigurationMaxKeys limits the keys per request; ask in several requests.",
    "GetConfiguration with 12 keys to the AC wallbox (GetConfigurationMaxKeys 10)",
)
LOCAL_LIST = rule(
    "limit.local-list", Severity.ERROR, "Local authorization list over the model's limits",
    "SendLocalList carries more idTags than SendLocalListMaxLength, or would leave more on the charger than "
    "LocalAuthListMaxLength (counted from a Full update seen earlier).",
    "SendLocalList with 6 idTags to the AC wallbox (5 per message, 20 in total)",
)
ID_TAG_LENGTH = rule(
    "limit.id-tag-length", Severity.ERROR, "idTag longer than the model stores",
    "The model stores idTags of a limited length.",
    "SendLocalList idTag of 21 characters to the AC wallbox (at most 20)",
)
STACK_LEVEL = rule(
    "limit.stack-level", Severity.ERROR, "Charging profile stack level above the model's maximum",
    "ChargeProfileMaxStackLevel is the highest stackLevel the model accepts.",
    "SetChargingProfile stackLevel 2 to the AC wallbox (ChargeProfileMaxStackLevel 1)",
)
SCHEDULE_PERIODS = rule(
    "limit.schedule-periods", Severity.ERROR, "Charging schedule with more periods than the model takes",
    "ChargingScheduleMaxPeriods limits the periods of one charging schedule.",
    "SetChargingProfile with 15 chargingSchedulePeriod entries to the AC wallbox (at most 14)",
)
PROFILES_INSTALLED = rule(
    "limit.profiles-installed", Severity.WARNING, "More charging profiles than the model can hold",
    "MaxChargingProfilesInstalled limits the charging profiles installed at once; counted from the profiles "
    "set, replaced and cleared in this input.",
    "two TxDefaultProfile on different stack levels to a charger that holds one",
)
TRIGGER_UNSUPPORTED = rule(
    "limit.trigger-unsupported", Severity.ERROR, "TriggerMessage for a message the model cannot trigger",
    "The vendor lists the messages TriggerMessage can request on this model; the charger answers "
    "NotImplemented for others.",
    'TriggerMessage {"requestedMessage":"DiagnosticsStatusNotification"} to a model without it',
)

_KEY = "profile"
_SEVERITY = {"info": Severity.INFO, "warning": Severity.WARNING, "error": Severity.ERROR}
_IDLE_DROP = 60.0
"""Seconds without frames before a close counts as an idle drop for the keepalive rule."""


class _ConnState:
    __slots__ = ("applies", "choice", "expectations", "measurands", "pings", "provisional")

    def __init__(self, choice: Choice, applies: bool) -> None:
        self.choice = choice
        self.applies = applies
        self.provisional = False
        """The default profile, chosen before any BootNotification: not announced until one decides."""
        self.expectations: dict[str, Expectation] = {}
        self.measurands: set[str] = set()
        self.pings = 0


_JUDGED_FROM_CHARGER = frozenset({"BootNotification", "MeterValues", "StopTransaction"})
_JUDGED_FROM_BACKEND = frozenset({"ChangeConfiguration", "GetConfiguration", "SendLocalList", "TriggerMessage",
                                  "SetChargingProfile", "RemoteStartTransaction", "ReserveNow"})


def _boot_words(boot: dict[str, Any]) -> str:
    """The fields detection looks at, as the charger sent them, for the finding that says none matched."""
    shown = [f"{label} {boot[name]!r}" for name, label in (
        ("chargePointVendor", "vendor"), ("chargePointModel", "model"), ("chargePointSerialNumber", "serial"),
        ("chargeBoxSerialNumber", "serial")) if isinstance(boot.get(name), str)]
    return ", ".join(shown[:3]) or "no vendor, model or serial"


def _nothing_to_judge(profile: Profile, direction: Direction | None, action: str) -> bool:
    """Whether a CALL of ``action`` from ``direction`` can never give a finding under ``profile``."""
    if profile.caveats_for(action):
        return False
    if direction is Direction.FROM_CHARGER:
        judged = action in _JUDGED_FROM_CHARGER and (action != "MeterValues" or profile.limits.measurands is not None)
        return not judged and judge_messages.action_from_charger(profile, action) is None
    return action not in _JUDGED_FROM_BACKEND and judge_messages.action_from_backend(profile, action) is None


class ProfileChecker(Checker):
    name = "profile"
    answers_to = Direction.FROM_BACKEND  # the charger's answers are judged; expectations are made for them

    def __init__(self, selector: ProfileSelector) -> None:
        self._quiet: dict[tuple[str, Direction | None, str], bool] = {}
        self.selector = selector
        self._chargers: dict[str, ChargerState] = {}
        self._renamed: dict[str, tuple[str, ChargerState]] = {}

    def fresh(self) -> ProfileChecker:
        """A checker with the same profiles and mapping and no memory of any charger."""
        return ProfileChecker(self.selector)

    def chargers(self) -> dict[str, ChargerState]:
        """What the traffic showed of each charger so far (``ocppscope endpoint --from`` reads it)."""
        return dict(self._chargers)

    # -- bookkeeping -----------------------------------------------------------------------------------

    def _charger(self, conn: Connection) -> ChargerState:
        return charger_state(self._chargers, conn, lambda: self._first_seen(conn.charger or conn.conn_id))

    def _first_seen(self, key: str) -> ChargerState:
        """A charger's state when it first shows: what was known of it under its old identity, if it got ``key``
        over OCPP."""
        renamed = self._renamed.pop(key, None)
        if renamed is None:
            return ChargerState()
        old_identity, state = renamed
        if state.choice is not None:
            state.choice = Choice(state.choice.profile, "renamed",
                                  f"was {old_identity} until its identity was changed over OCPP")
        return state

    def _start(self, ctx: Context, conn: Connection) -> _ConnState:
        """Choose the profile for a connection and say which one (once per connection)."""
        data = conn.data.get(_KEY)
        if data is not None:
            return data
        state = self._charger(conn)
        choice = self.selector.explicit(conn.charger)
        if choice is None and state.choice is not None and state.choice.how != "default":
            remembered = state.choice
            suffix = " (on an earlier connection)" if remembered.how == "detected" else ""
            choice = Choice(remembered.profile, remembered.how, remembered.reason + suffix)
        else:
            if choice is None:
                choice = self.selector.default("no --profile mapping for this charger and no BootNotification on "
                                               "this connection")
            state.choice = choice
        applies = conn.version is None or conn.version in choice.profile.versions
        data = conn.data[_KEY] = _ConnState(choice, applies)
        if applies and choice.how == "default":
            # Said once the BootNotification decides, or at the end: a guess at the open would badge every
            # connection with a reason the boot makes stale a moment later.
            data.provisional = True
        elif applies or choice.how == "explicit":
            self._announce(ctx, conn, choice)
        if not applies:
            if choice.how == "explicit":
                ctx.emit(VERSION, f"{choice.profile.id} describes OCPP {', '.join(choice.profile.versions)}, this "
                         f"connection speaks {conn.version}: its checks are off here",
                         {"profile": choice.profile.id, "version": conn.version})
            else:
                ctx.emit(SELECTED, f"no profile: the bundled profiles describe OCPP 1.6 chargers, this connection "
                         f"speaks {conn.version}", {"profile": None, "how": "none", "version": conn.version})
        return data

    def _announce(self, ctx: Context, conn: Connection, choice: Choice, whole_connection: bool = False) -> None:
        """``whole_connection``: about the connection, on no frame (the TUI's ``n`` does not stop on it)."""
        profile = choice.profile
        title = f" ({profile.title})" if profile.title else ""
        evidence = {"profile": profile.id, "how": choice.how, "reason": choice.reason, "chain": list(profile.chain)}
        if whole_connection:
            ctx.emit(SELECTED, f"profile {profile.id}{title}: {choice.reason}", evidence, conn=conn, seq=None)
        else:
            ctx.emit(SELECTED, f"profile {profile.id}{title}: {choice.reason}", evidence, conn=conn)
        data = conn.data.get(_KEY)
        if data is not None:
            data.provisional = False

    def _announce_undecided(self, ctx: Context, conn: Connection) -> None:
        """The end of a connection that never sent a BootNotification: say which profile applied to it."""
        data = conn.data.get(_KEY)
        if data is not None and data.provisional:
            self._announce(ctx, conn, data.choice, whole_connection=True)

    def _active(self, ctx: Context, conn: Connection) -> _ConnState | None:
        data = self._start(ctx, conn)
        if conn.version is not None and conn.version not in data.choice.profile.versions:
            data.applies = False
        return data if data.applies else None

    def _emit(self, ctx: Context, verdicts: list[Verdict], action: str | None) -> None:
        for verdict in verdicts:
            severity = _SEVERITY[verdict.severity] if verdict.severity else None
            ctx.emit(RULES[verdict.rule], verdict.message, verdict.evidence, action=action, severity=severity)

    # -- hooks -----------------------------------------------------------------------------------------

    def on_open(self, ctx: Context, conn: Connection, event: ConnectionOpened) -> None:
        if event.status != 101:
            return  # a refused handshake carries no OCPP to judge
        data = self._start(ctx, conn)
        if not data.applies:
            return
        profile = data.choice.profile
        if event.subprotocol and event.subprotocol not in profile.subprotocols:
            ctx.emit(VERSION, f"subprotocol {event.subprotocol} is not one {profile.id} speaks "
                     f"({', '.join(profile.subprotocols)})", {"profile": profile.id, "subprotocol": event.subprotocol})
        self._emit(ctx, judge_messages.identity_problems(profile, conn.charger), None)
        if event.client_tls is not None and profile.transport.tls is False:
            ctx.emit(FIRMWARE_DISAGREES, f"the charger connected with TLS, but {profile.id} says the model has no "
                     "TLS: profile and firmware disagree", {"profile": profile.id})

    def on_call(self, ctx: Context, conn: Connection, frame: Frame) -> None:
        action = frame.action
        data = conn.data.get(_KEY)
        if data is not None and action is not None:
            # Most CALLs are of actions the profile has nothing to say about: answer that from a cache.
            key = (data.choice.profile.id, ctx.direction, action)
            quiet = self._quiet.get(key)
            if quiet is None:
                quiet = self._quiet[key] = _nothing_to_judge(data.choice.profile, ctx.direction, action)
            if quiet:
                return
        data = self._active(ctx, conn)
        if data is None or action is None:
            return
        payload: dict[str, Any] = frame.payload if isinstance(frame.payload, dict) else {}
        if ctx.direction is Direction.FROM_CHARGER:
            self._charger_call(ctx, conn, data, action, payload)
            return
        profile = data.choice.profile
        verdict = judge_messages.action_from_backend(profile, action)
        verdicts = [verdict] if verdict else []
        verdicts += judge_messages.caveats(profile, action, payload)
        found, expectation = self._backend_request(profile, self._charger(conn), conn, action, payload)
        self._emit(ctx, verdicts + found, action)
        if expectation is not None and frame.message_id is not None:
            data.expectations[frame.message_id] = expectation

    def _backend_request(self, profile: Profile, state: ChargerState, conn: Connection, action: str,
                         payload: dict[str, Any]) -> tuple[list[Verdict], Expectation | None]:
        if action == "ChangeConfiguration":
            return judge_config.change_configuration(profile, state, conn.charger, payload)
        if action == "GetConfiguration":
            return judge_config.get_configuration(profile, state, payload), None
        if action == "SendLocalList":
            return judge_limits.send_local_list(profile, state, payload), None
        if action == "TriggerMessage":
            # The default profile lists what OCPP lets a backend trigger, not what this model implements.
            return judge_limits.trigger_message(profile, payload, profile.id != self.selector.default_id)
        if action == "SetChargingProfile":
            return judge_limits.charging_profile(profile, state, action, payload.get("csChargingProfiles"),
                                                 payload.get("connectorId"))
        if action == "RemoteStartTransaction":
            verdicts, _ = judge_limits.charging_profile(profile, state, action, payload.get("chargingProfile"))
            return verdicts + judge_limits.id_tags(profile, action, [("idTag", payload.get("idTag"))]), None
        if action == "ReserveNow":
            return judge_limits.id_tags(profile, action, [("idTag", payload.get("idTag")),
                                                          ("parentIdTag", payload.get("parentIdTag"))]), None
        return [], None

    def _charger_call(self, ctx: Context, conn: Connection, data: _ConnState, action: str,
                      payload: dict[str, Any]) -> None:
        state = self._charger(conn)
        if action == "BootNotification":
            self._boot(ctx, conn, data, state, payload)
        profile = data.choice.profile
        verdict = judge_messages.action_from_charger(profile, action)
        self._emit(ctx, ([verdict] if verdict else []) + judge_messages.caveats(profile, action, payload), action)
        if action == "BootNotification":
            self._emit(ctx, judge_messages.boot_fields(profile, payload), action)
        elif action == "MeterValues":
            self._measurands(ctx, data, profile, payload, "meterValue", action)
        elif action == "StopTransaction":
            self._measurands(ctx, data, profile, payload, "transactionData", action)
            state.transaction_ended(payload.get("transactionId"))

    def _boot(self, ctx: Context, conn: Connection, data: _ConnState, state: ChargerState,
              payload: dict[str, Any]) -> None:
        state.boot = payload
        serial = payload.get("chargePointSerialNumber") or payload.get("chargeBoxSerialNumber")
        state.serial = serial if isinstance(serial, str) else state.serial
        current = data.choice
        detected = self.selector.detect(payload)
        if current.how == "explicit":
            mismatch = self._mismatch(current.profile, payload, detected)
            if mismatch:
                ctx.emit(BOOT_MISMATCH, f"{current.profile.id} is {current.reason}, but {mismatch}",
                         {"profile": current.profile.id, "detected": detected.profile.id if detected else None},
                         action="BootNotification")
            return
        choice = detected or self.selector.default(f"its BootNotification ({_boot_words(payload)}) matches no "
                                                   "profile's vendor, model or serial patterns")
        if data.provisional or choice.profile.id != current.profile.id or choice.how != current.how:
            data.choice = state.choice = choice
            data.applies = conn.version is None or conn.version in choice.profile.versions
            self._announce(ctx, conn, choice)

    def _mismatch(self, mapped: Profile, boot: dict[str, Any], detected: Choice | None) -> str | None:
        """Why the BootNotification contradicts the mapped profile, or None."""
        anchor = next((self.selector.profiles[i] for i in mapped.chain
                       if i in self.selector.profiles and self.selector.profiles[i].detect.criteria), None)
        elsewhere = f"; it looks like {detected.profile.id} ({detected.reason})" if detected else ""
        if anchor is not None:
            if detection_match(anchor, boot) is None:
                return f"its BootNotification does not match {anchor.id}'s patterns{elsewhere}"
            return None
        if detected and not mapped.extends(detected.profile.id) and not detected.profile.extends(mapped.id):
            return f"its BootNotification{elsewhere.removeprefix(';')}"
        return None

    def _measurands(self, ctx: Context, data: _ConnState, profile: Profile, payload: dict[str, Any], key: str,
                    action: str) -> None:
        supported = profile.limits.measurands
        if supported is None:
            return
        for measurand in judge_limits.measurands(payload, key):
            if measurand not in supported and measurand not in data.measurands:
                data.measurands.add(measurand)
                ctx.emit(MEASURAND_UNSUPPORTED, f"{action}: the charger reports {measurand}, which is not among the "
                         f"measurands {profile.id} supports ({', '.join(supported)})",
                         {"profile": profile.id, "measurand": measurand}, action=action)

    def on_result(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        data = self._active(ctx, conn)
        action = call.action
        if data is None or action is None:
            return
        expectation = data.expectations.pop(call.message_id, None)
        profile = data.choice.profile
        state = self._charger(conn)
        payload: dict[str, Any] = frame.payload if isinstance(frame.payload, dict) else {}
        request: dict[str, Any] = call.payload if isinstance(call.payload, dict) else {}
        status = payload.get("status")
        verdicts = []
        if profile.actions.from_backend.status(action) == "unsupported":
            verdicts.append(Verdict(DISAGREES, f"{action}: the charger answered it normally, but {profile.id} says "
                                    "the model does not implement it: profile and firmware disagree",
                                    {"profile": profile.id, "action": action}))
        if expectation is not None and isinstance(status, str):
            disagreement = compare(expectation, status, profile.id)
            if disagreement:
                verdicts.append(disagreement)
        if action == "ChangeConfiguration":
            self._changed(conn, profile, state, request, status)
        elif action == "GetConfiguration":
            verdicts += judge_config.configuration_reported(profile, state, conn.charger, payload)
            verdicts += self._endpoint_mismatch(conn, profile, state)
        elif action == "SendLocalList":
            judge_limits.local_list_answered(state, request, status)
        elif action == "SetChargingProfile":
            judge_limits.charging_profile_answered(state, request, status)
        elif action == "ClearChargingProfile" and status == "Accepted":
            state.clear_profiles(request)
        self._emit(ctx, verdicts, action)

    def _changed(self, conn: Connection, profile: Profile, state: ChargerState, request: dict[str, Any],
                 status: Any) -> None:
        judge_config.change_answered(profile, state, request, status)
        identity_key = profile.identity.key or profile.endpoint.identity_key
        new_identity = request.get("value")
        if (status in ("Accepted", "RebootRequired") and identity_key and isinstance(new_identity, str)
                and str(request.get("key", "")).casefold() == identity_key.casefold()
                and conn.charger and new_identity != conn.charger):
            # After its restart the charger connects under the new identity: keep what we know of it.
            self._renamed[new_identity] = (conn.charger, state)
            if len(self._renamed) > MAX_CHARGERS:
                del self._renamed[next(iter(self._renamed))]

    def _endpoint_mismatch(self, conn: Connection, profile: Profile, state: ChargerState) -> list[Verdict]:
        opened = conn.opened
        if opened is None or profile.endpoint.style not in ("ecotap-template", "ecotap-split"):
            return []
        host = header(opened.request_headers, "Host")
        rebuilt = rebuild_url(profile, state.values(), state.serial)
        if host is None or (rebuilt.host is None and rebuilt.path is None):
            return []
        actual = Actual.from_handshake(host, opened.path, True if opened.client_tls is not None else None)
        found = differences(rebuilt, actual)
        if not found:
            return []
        return [Verdict("config.endpoint-mismatch", "GetConfiguration: the charger's endpoint settings point "
                        f"elsewhere than this connection: {'; '.join(found)}",
                        {"profile": profile.id, "configured": rebuilt.url, "actual": actual.url,
                         "differences": found})]

    def on_error(self, ctx: Context, conn: Connection, call: PendingCall, frame: Frame) -> None:
        data = self._active(ctx, conn)
        action = call.action
        if data is None or action is None:
            return
        data.expectations.pop(call.message_id, None)
        profile = data.choice.profile
        if action in profile.actions.from_backend.supported and frame.error_code in ("NotImplemented", "NotSupported"):
            ctx.emit(FIRMWARE_DISAGREES, f"{action}: the charger answered {frame.error_code}, but {profile.id} "
                     "lists it as supported: profile and firmware disagree",
                     {"profile": profile.id, "action": action, "error_code": frame.error_code}, action=action)

    def on_ping(self, ctx: Context, conn: Connection, event: Ping) -> None:
        data = conn.data.get(_KEY)
        if data is not None:
            data.pings += 1

    def on_finish(self, ctx: Context, open_connections: Sequence[Connection]) -> None:
        for conn in open_connections:
            self._announce_undecided(ctx, conn)

    def on_close(self, ctx: Context, conn: Connection, event: ConnectionClosed) -> None:
        self._announce_undecided(ctx, conn)
        data = conn.data.get(_KEY)
        if data is None or not data.applies or data.pings or event.code == 1000:
            return
        profile = data.choice.profile
        if profile.transport.charger_ping_default != 0 or self._charger(conn).integer("WebSocketPingInterval"):
            return
        last = max(conn.last_from.values(), default=conn.opened_at or event.time)
        idle = event.time - last
        if idle < _IDLE_DROP:
            return
        ctx.emit(NO_KEEPALIVE, f"connection closed ({event.code or 'no close code'}) after {idle:.0f} s without "
                 f"frames and no WebSocket ping seen: {profile.id} does not ping unless WebSocketPingInterval > 0; "
                 "have the backend ping or set WebSocketPingInterval",
                 {"profile": profile.id, "idle": round(idle, 1), "close_code": event.code})
