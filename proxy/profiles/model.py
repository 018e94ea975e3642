"""What a vendor capability profile says about one charger model, as plain immutable data.

Profiles are written in TOML (see docs/profiles.md and :mod:`proxy.profiles.parse`); this module only holds
the result. Nothing here reads files, so the inspection core can use these objects directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ocppscope.proxy.profiles.ranges import IntRanges

ValueType = Literal["integer", "boolean", "string"]
KeyType = Literal["integer", "boolean", "string", "csl", "structured"]
Access = Literal["R", "RW", "W", "R-or-RW"]
"""R read-only, RW read-write, W write-only; R-or-RW where the spec leaves it to the charger."""
Presence = Literal["present", "absent", "optional"]
"""Whether the model has the key: the vendor lists it, says it lacks it, or nobody knows (generic profile)."""
Severity = Literal["info", "warning", "error"]
Unlisted = Literal["supported", "undocumented", "unsupported"]
"""How to treat an action a profile's lists do not mention."""

KEY_TYPES: tuple[str, ...] = ("integer", "boolean", "string", "csl", "structured")
VALUE_TYPES: tuple[str, ...] = ("integer", "boolean", "string")
ACCESS: tuple[str, ...] = ("R", "RW", "W", "R-or-RW")
PRESENCE: tuple[str, ...] = ("present", "absent", "optional")
SEVERITIES: tuple[str, ...] = ("info", "warning", "error")
UNLISTED: tuple[str, ...] = ("supported", "undocumented", "unsupported")
AUTH_FORMATS: tuple[str, ...] = ("hex", "password", "user:password")
NAMED_FORMATS: tuple[str, ...] = ("ecotap-endpoint", "scheme-host", "url-path", "ipv4")
"""Vendor formats too irregular for a pattern; :mod:`proxy.profiles.formats` implements them."""


@dataclass(frozen=True, slots=True)
class ValueSpec:
    """Constraints on one value: a whole key, one CSL item, one option or one positional field."""

    type: ValueType = "string"
    range: IntRanges | None = None
    allowed: tuple[str, ...] = ()
    """Allowed values, compared case-insensitively (configuration values are CiStrings)."""
    pattern: re.Pattern[str] | None = None
    pattern_hint: str = ""
    format: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    bitmask_levels: int | None = None
    """The value is a bitmask of levels 1..n (1, 2, 4, ...), so 0 to 2**n - 1."""
    why: str = ""
    """Said with every violation: the vendor's reason, e.g. "EVC 4.x has no TLS"."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One ``name=value`` option or one positional field of a structured value."""

    name: str
    value: ValueSpec
    required: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class ValueNote:
    """Something the vendor says happens for certain values (clamped, deprecated, weak signal...)."""

    text: str
    ranges: IntRanges | None = None
    values: tuple[str, ...] = ()
    """Matching values when the key is not an integer; both empty means every value."""
    severity: Severity = "info"
    runs_as: str | None = None
    """The value the charger really uses when it accepts one of these values."""


@dataclass(frozen=True, slots=True)
class KeySpec:
    name: str
    type: KeyType = "string"
    access: Access = "RW"
    presence: Presence = "present"
    value: ValueSpec = field(default_factory=ValueSpec)
    """Constraints of the whole value (integer, boolean and string keys)."""
    item: ValueSpec | None = None
    """Constraints of each CSL item."""
    phase_suffix: bool = False
    """CSL items may carry an OCPP phase suffix (``Voltage.L1``)."""
    min_items: int | None = None
    max_items: int | None = None
    options: tuple[FieldSpec, ...] = ()
    """A structured ``name=value,name=value`` key: the names it knows (compared case-insensitively)."""
    fields: tuple[FieldSpec, ...] = ()
    """A structured positional key ``a,b,c``: its fields in order."""
    default: str | None = None
    unit: str = ""
    reboot: bool = False
    """A change only takes effect after a reboot (the charger should answer RebootRequired)."""
    restart_after: int | None = None
    """The charger restarts itself this many seconds after the change."""
    secret: bool = False
    only_increase: bool = False
    notes: tuple[ValueNote, ...] = ()
    change_note: str = ""
    """Said whenever the key is changed, whatever the value."""
    description: str = ""
    source: str = ""

    @property
    def writable(self) -> bool | None:
        return {"R": False, "RW": True, "W": True}.get(self.access)

    def option(self, name: str) -> FieldSpec | None:
        folded = name.casefold()
        for option in self.options:
            if option.name.casefold() == folded:
                return option
        return None


@dataclass(frozen=True, slots=True)
class Transport:
    tls: bool | None = None
    """The charger can connect with wss://."""
    charger_ping: bool | None = None
    """The charger can send WebSocket pings itself."""
    charger_ping_default: int | None = None
    """Seconds between the charger's own pings out of the box; 0 = it does not ping unless configured."""
    answers_ping: bool | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Identity:
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    pattern_hint: str = ""
    key: str | None = None
    """The configuration key holding the identity (com_OCPPID, OCPPID)."""
    source: str = ""


@dataclass(frozen=True, slots=True)
class Auth:
    key: str = "AuthorizationKey"
    format: str | None = None
    """hex (OCPP-J 1.6: 40 hex digits), password (the user name is the identity), user:password."""
    requires_tls: bool = False
    """The charger only sends the key over wss://."""
    note: str = ""


@dataclass(frozen=True, slots=True)
class Detect:
    """BootNotification patterns (case-insensitive globs); all given criteria must match."""

    vendor: tuple[str, ...] = ()
    model: tuple[str, ...] = ()
    serial: tuple[str, ...] = ()
    """Matched against chargePointSerialNumber and chargeBoxSerialNumber."""

    @property
    def criteria(self) -> int:
        return sum(1 for patterns in (self.vendor, self.model, self.serial) if patterns)


@dataclass(frozen=True, slots=True)
class Boot:
    required: tuple[str, ...] = ()
    """BootNotification fields that must be present and non-empty."""
    max_length: tuple[tuple[str, int], ...] = ()
    """Vendor limits on BootNotification fields, stricter or looser than the schema."""
    hint: str = ""


@dataclass(frozen=True, slots=True)
class ActionPolicy:
    supported: frozenset[str] = frozenset()
    unsupported: frozenset[str] = frozenset()
    unlisted: Unlisted = "supported"

    def status(self, action: str) -> Unlisted:
        # unsupported wins: a model profile may withdraw an action its vendor profile lists as supported
        if action in self.unsupported:
            return "unsupported"
        if action in self.supported:
            return "supported"
        return self.unlisted


@dataclass(frozen=True, slots=True)
class Actions:
    from_backend: ActionPolicy = field(default_factory=ActionPolicy)
    from_charger: ActionPolicy = field(default_factory=ActionPolicy)
    note: str = ""


LIMIT_KEYS: dict[str, str] = {
    "get_configuration_max_keys": "GetConfigurationMaxKeys",
    "send_local_list_max_length": "SendLocalListMaxLength",
    "local_auth_list_max_length": "LocalAuthListMaxLength",
    "charge_profile_max_stack_level": "ChargeProfileMaxStackLevel",
    "charging_schedule_max_periods": "ChargingScheduleMaxPeriods",
    "max_charging_profiles_installed": "MaxChargingProfilesInstalled",
}
"""Numeric limits and the read-only configuration key that reports each of them."""


@dataclass(frozen=True, slots=True)
class Limits:
    get_configuration_max_keys: int | None = None
    send_local_list_max_length: int | None = None
    local_auth_list_max_length: int | None = None
    id_tag_max_length: int | None = None
    charge_profile_max_stack_level: int | None = None
    charging_schedule_max_periods: int | None = None
    max_charging_profiles_installed: int | None = None
    trigger_messages: tuple[str, ...] | None = None
    measurands: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Caveat:
    """A vendor remark about a message, said whenever a matching message is sent."""

    action: str
    text: str
    match: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Top-level payload field → globs (any may match; ``!glob`` must not match). All fields must match."""
    severity: Severity = "info"


ENDPOINT_STYLES: dict[str, tuple[str, ...]] = {
    "url": (),
    "url-template": ("placeholder",),
    "ecotap-split": ("url_key", "port_key", "path_key", "identity_key"),
    "ecotap-template": ("endpoint_key", "identity_key", "options_key", "tls_option", "placeholder"),
}
"""How each model stores where it connects; the parameters each style needs (see proxy.endpoint)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    style: str = "url"
    url_key: str | None = None
    port_key: str | None = None
    path_key: str | None = None
    endpoint_key: str | None = None
    identity_key: str | None = None
    protocol_key: str | None = None
    protocol_value: str | None = None
    options_key: str | None = None
    tls_option: str | None = None
    options_default: str | None = None
    placeholder: str | None = None
    serial_placeholder: str | None = None
    url_setting: str = "OCPP server URL"
    identity_setting: str = "Charge point identity"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    title: str = ""
    chain: tuple[str, ...] = ()
    """This profile's id followed by the ids it extends, nearest first."""
    vendor: str = ""
    models: tuple[str, ...] = ()
    firmware: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("1.6",)
    subprotocols: tuple[str, ...] = ("ocpp1.6",)
    transport: Transport = field(default_factory=Transport)
    identity: Identity = field(default_factory=Identity)
    auth: Auth = field(default_factory=Auth)
    detect: Detect = field(default_factory=Detect)
    boot: Boot = field(default_factory=Boot)
    actions: Actions = field(default_factory=Actions)
    limits: Limits = field(default_factory=Limits)
    unlisted_keys: Severity = "info"
    """Severity of changing a key this profile does not list (vendor lists are rarely complete)."""
    keys: dict[str, KeySpec] = field(default_factory=dict)
    """Keyed by the case-folded name: OCPP configuration keys are case-insensitive."""
    caveats: tuple[Caveat, ...] = ()
    endpoint: Endpoint = field(default_factory=Endpoint)
    secret_names: tuple[str, ...] = ()
    """Keys, payload members or ``name=value`` items holding secrets though their names do not say so."""
    path: Path | None = None

    def key(self, name: str) -> KeySpec | None:
        return self.keys.get(name.casefold())

    def extends(self, other_id: str) -> bool:
        return other_id in self.chain

    def caveats_for(self, action: str) -> tuple[Caveat, ...]:
        return tuple(c for c in self.caveats if c.action == action)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every name this profile says holds a secret: ``secret_names`` and the keys marked ``secret``."""
        return (*self.secret_names, *(spec.name for spec in self.keys.values() if spec.secret))
