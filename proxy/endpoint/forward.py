"""``ocppscope endpoint URL --profile P``: the exact settings that make a charger model reach a backend.

Each endpoint style (``[endpoint] style`` in the profile) stores the URL its own way; every value produced
is then checked against the profile's own key constraints, so the helper never hands out a value the
profile would flag.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from ocppscope.proxy.endpoint.urls import BackendUrl, quote_identity, split_backend_url, split_via
from ocppscope.proxy.profiles.model import Profile
from ocppscope.proxy.profiles.values import check_value, split_csl

_HEX_KEY = re.compile(r"^[0-9A-Fa-f]{32,40}$")


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    value: str
    where: str
    """How to set it: "ChangeConfiguration", or the vendor's tool (web page, app, portal)."""


@dataclass(slots=True)
class Plan:
    profile_id: str
    style: str
    identity: str
    charger_url: str
    """The URL the charger will open."""
    backend_url: str
    """Where its traffic ends up (the backend), through ocppscope when ``via`` is set."""
    settings: list[Setting] = field(default_factory=list)
    authorization: str | None = None
    """The Authorization header the charger will send, when a key was given."""
    via: str | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def changes(self) -> list[tuple[str, str]]:
        """The ChangeConfiguration list a backend can send, in a safe order (identity last: it restarts)."""
        return [(s.name, s.value) for s in self.settings if s.where == "ChangeConfiguration"]


def plan_endpoint(profile: Profile, url: str, identity: str | None = None, key: str | None = None,
                  via: str | None = None) -> Plan:
    endpoint = profile.endpoint
    placeholders = tuple(p for p in (endpoint.placeholder,) if p and endpoint.style == "url-template")
    backend = split_backend_url(url, identity, placeholders)
    target = backend
    if via is not None:
        scheme, host, port = split_via(via)
        target = BackendUrl(scheme, host, port, True, backend.base_path, backend.identity, backend.template)
    charger_id = backend.identity or (endpoint.placeholder or "")
    # Ecotap controllers always store a port; elsewhere the URL is shown as the user wrote it.
    always_port = endpoint.style.startswith("ecotap")
    shown_id = quote_identity(charger_id) if backend.identity else charger_id
    plan = Plan(profile.id, endpoint.style, charger_id, f"{target.base(always_port or target.port_written)}/{shown_id}",
                f"{backend.base(always_port or backend.port_written)}/{shown_id}")
    if backend.replaced is not None:
        plan.notes.append(f"the URL ends in {backend.replaced}, not {charger_id}: taken as a typo for the identity, "
                          f"so the charger connects to .../{quote_identity(charger_id)}")
    if via is not None:
        plan.via = f"{target.origin()}"
        plan.notes.append(f"run ocppscope listening on {target.host}:{target.port} and forwarding to "
                          f"{backend.origin()}; the charger connects to ocppscope, ocppscope to the backend")
    _STYLES[endpoint.style](profile, target, plan)
    if profile.transport.tls is False and target.tls:
        plan.notes.append(f"{profile.id} cannot open wss:// connections: give it a ws:// URL, or use --via so "
                          "that the charger speaks ws:// to ocppscope and ocppscope wss:// to the backend")
    if key is not None:
        _authorization(profile, plan, key, target.tls)
    _identity_problems(profile, plan)
    _validate(profile, plan)
    return plan


def _url_style(profile: Profile, target: BackendUrl, plan: Plan) -> None:
    where = "the charger's own configuration tool (web page or app)"
    plan.settings.append(Setting(profile.endpoint.url_setting, target.base(always_port=target.port_written), where))
    plan.settings.append(Setting(profile.endpoint.identity_setting, plan.identity, where))
    plan.notes.append("OCPP 1.6 has no standard key for the backend URL: set it on the charger itself")


def _template_style(profile: Profile, target: BackendUrl, plan: Plan) -> None:
    placeholder = profile.endpoint.placeholder or ""
    template = f"{target.base(always_port=target.port_written)}/{placeholder}"
    plan.settings.append(Setting(profile.endpoint.url_setting, template, "the vendor portal (per installation)"))
    if plan.identity and plan.identity != placeholder:
        plan.notes.append(f"{placeholder} is replaced by each charger's device id: {plan.identity} connects to "
                          f"{template.replace(placeholder, quote_identity(plan.identity))}")
    else:
        plan.notes.append(f"{placeholder} is replaced by each charger's device id (serial number)")


def _ecotap_split(profile: Profile, target: BackendUrl, plan: Plan) -> None:
    endpoint = profile.endpoint
    for name, value in (
        (endpoint.url_key, f"{target.scheme}://{target.host}"),
        (endpoint.port_key, str(target.port)),
        (endpoint.path_key, target.base_path + "/"),
        (endpoint.identity_key, plan.identity),
    ):
        plan.settings.append(Setting(name or "", value, "ChangeConfiguration"))


def _ecotap_template(profile: Profile, target: BackendUrl, plan: Plan) -> None:
    endpoint = profile.endpoint
    plan.settings.append(Setting(endpoint.endpoint_key or "",
                                 f"{target.host}:{target.port}{target.base_path}/{endpoint.placeholder}",
                                 "ChangeConfiguration"))
    if endpoint.protocol_key and endpoint.protocol_value:
        plan.settings.append(Setting(endpoint.protocol_key, endpoint.protocol_value, "ChangeConfiguration"))
    options = with_option(endpoint.options_default or f"{endpoint.tls_option}=0", endpoint.tls_option or "",
                          "1" if target.tls else "0")
    plan.settings.append(Setting(endpoint.options_key or "", options, "ChangeConfiguration"))
    plan.settings.append(Setting(endpoint.identity_key or "", plan.identity, "ChangeConfiguration"))


def with_option(options: str, name: str, value: str) -> str:
    """``options`` (name=value,...) with option ``name`` set to ``value``, keeping order and spelling."""
    items = split_csl(options)
    for index, item in enumerate(items):
        if item.partition("=")[0].strip().casefold() == name.casefold():
            items[index] = f"{item.partition('=')[0].strip()}={value}"
            return ",".join(items)
    return ",".join([*items, f"{name}={value}"])


_STYLES = {
    "url": _url_style,
    "url-template": _template_style,
    "ecotap-split": _ecotap_split,
    "ecotap-template": _ecotap_template,
}


def _authorization(profile: Profile, plan: Plan, key: str, tls: bool) -> None:
    auth = profile.auth
    user, password = plan.identity, key
    if ":" in key and auth.format in ("user:password", "password"):
        given_user, _, given_password = key.partition(":")
        if given_user == plan.identity:
            password = given_password
            if auth.format == "password":
                plan.notes.append(f"{profile.id} takes the password only (the user name is the identity): "
                                  f"dropped the {given_user}: in front of the key")
        elif auth.format == "user:password":
            plan.problems.append(f"the key's user {given_user!r} is not the identity {plan.identity!r}: the "
                                 "backend checks the user name against the identity")
            user, password = given_user, given_password
    value = f"{user}:{password}" if auth.format == "user:password" else password
    if auth.format == "hex" and not _HEX_KEY.match(value):
        plan.notes.append("OCPP-J 1.6 §6.2.2 sets AuthorizationKey as the hexadecimal form of a 16–20 byte key "
                          "(32–40 hex digits); this key is used as given")
    if auth.requires_tls and not tls:
        plan.notes.append(f"{profile.id}: the charger only sends the key over wss:// (useTLS=1)")
    plan.settings.insert(_auth_position(plan), Setting(auth.key, value, "ChangeConfiguration"))
    header = base64.b64encode(f"{user}:{password}".encode()).decode()
    plan.authorization = f"Basic {header}"
    if auth.note:
        plan.notes.append(auth.note)


def _auth_position(plan: Plan) -> int:
    """Before the identity key of the split and template styles, which restarts the charger."""
    for index, setting in enumerate(plan.settings):
        if setting.where == "ChangeConfiguration" and setting.value == plan.identity:
            return index
    return len(plan.settings)


def _identity_problems(profile: Profile, plan: Plan) -> None:
    identity = profile.identity
    if plan.style == "url-template" and plan.identity == profile.endpoint.placeholder:
        return
    if identity.max_length is not None and len(plan.identity) > identity.max_length:
        plan.problems.append(f"identity {plan.identity!r} has {len(plan.identity)} characters; {profile.id} "
                             f"allows at most {identity.max_length}")
    if identity.pattern is not None and not identity.pattern.fullmatch(plan.identity):
        plan.problems.append(f"identity {plan.identity!r} does not have the form "
                             f"{identity.pattern_hint or identity.pattern.pattern}")


def _validate(profile: Profile, plan: Plan) -> None:
    for setting in plan.settings:
        spec = profile.key(setting.name) if setting.where == "ChangeConfiguration" else None
        if spec is None:
            continue
        for problem in check_value(spec, setting.value):
            plan.problems.append(f"{setting.name}: {problem.text}")
        if spec.restart_after is not None:
            plan.notes.append(f"changing {setting.name} restarts the charger {spec.restart_after} s later: send it "
                              "last")
        elif spec.reboot:
            plan.notes.append(f"{setting.name} takes effect after a reboot (send Reset when all are set)")
