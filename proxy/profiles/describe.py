"""A resolved profile as text for people (``ocppscope profiles show ID``)."""

from __future__ import annotations

from ocppscope.proxy.profiles.model import LIMIT_KEYS, ActionPolicy, KeySpec, Profile, ValueSpec


def _value(spec: ValueSpec) -> list[str]:
    parts = []
    if spec.range is not None:
        parts.append(str(spec.range))
    if spec.bitmask_levels:
        parts.append(f"bitmask of levels 1–{spec.bitmask_levels} (0–{2 ** spec.bitmask_levels - 1})")
    if spec.allowed:
        parts.append("one of " + ", ".join(spec.allowed))
    if spec.max_length is not None:
        parts.append(f"at most {spec.max_length} characters")
    if spec.min_length is not None:
        parts.append(f"at least {spec.min_length} characters")
    if spec.pattern is not None:
        parts.append(spec.pattern_hint or f"matches {spec.pattern.pattern}")
    if spec.format:
        parts.append(f"{spec.format} format")
    return parts


def key_summary(spec: KeySpec) -> str:
    if spec.presence == "absent":
        return "not on this model" + (f": {spec.description}" if spec.description else "")
    parts = _value(spec.value)
    if spec.item is not None:
        items = _value(spec.item)
        if spec.item.allowed and len(spec.item.allowed) > 8:
            items = [f"one of {len(spec.item.allowed)} values", *items[1:]]
        if items:
            parts.append("items: " + "; ".join(items) + (" (phase suffix allowed)" if spec.phase_suffix else ""))
    if spec.max_items is not None:
        parts.append(f"at most {spec.max_items} items")
    if spec.options:
        parts.append("options " + ", ".join(o.name + ("*" if o.required else "") for o in spec.options))
    if spec.fields:
        parts.append("fields " + ",".join(f.name for f in spec.fields))
    if spec.unit:
        parts.append(f"in {spec.unit}")
    if spec.default is not None:
        parts.append(f"default {spec.default}")
    for note in spec.notes:
        which = note.ranges.text if note.ranges is not None else ", ".join(note.values) or "any value"
        parts.append(f"{which}: runs as {note.runs_as}" if note.runs_as else f"{which}: {note.text}")
    if spec.only_increase:
        parts.append("may only be raised")
    if spec.reboot:
        parts.append("needs a reboot")
    if spec.restart_after is not None:
        parts.append(f"restarts the charger {spec.restart_after} s after a change")
    if spec.secret:
        parts.append("secret")
    if spec.presence == "optional":
        parts.append("optional")
    return "; ".join(parts)


def _policy(policy: ActionPolicy) -> str:
    if not policy.supported and not policy.unsupported and policy.unlisted == "supported":
        return "no restrictions documented"
    parts = []
    if policy.supported:
        parts.append("supported: " + ", ".join(sorted(policy.supported)))
    if policy.unsupported:
        parts.append("NOT supported: " + ", ".join(sorted(policy.unsupported)))
    parts.append(f"anything else: {policy.unlisted}")
    return "; ".join(parts)


def _yes(value: bool | None) -> str:
    return {True: "yes", False: "no", None: "not documented"}[value]


def describe(profile: Profile, origin: str) -> str:
    lines = [f"{profile.id}: {profile.title}", f"  from: {origin}" + (f" ({profile.path})" if profile.path else "")]
    if len(profile.chain) > 1:
        lines.append("  extends: " + " → ".join(profile.chain[1:]))
    for label, values in (("vendor", (profile.vendor,) if profile.vendor else ()), ("models", profile.models),
                          ("firmware", profile.firmware), ("sources", profile.sources), ("notes", profile.notes)):
        if values:
            lines.append(f"  {label}:")
            lines += [f"    - {value}" for value in values]
    transport = profile.transport
    ping = transport.charger_ping_default
    lines += [
        "",
        f"OCPP: {', '.join(profile.versions)} (subprotocols {', '.join(profile.subprotocols)})",
        f"TLS (wss://): {_yes(transport.tls)}; charger sends pings: {_yes(transport.charger_ping)}"
        + (f", every {ping} s by default" if ping else ", not by default" if ping == 0 else ""),
    ]
    lines += [f"  {note}" for note in transport.notes]
    identity = profile.identity
    rules = [f"at most {identity.max_length} characters"] if identity.max_length else []
    if identity.pattern is not None:
        rules.append(identity.pattern_hint or identity.pattern.pattern)
    if identity.key:
        rules.append(f"set with {identity.key}")
    lines.append(f"Identity: {'; '.join(rules) or 'no rules beyond OCPP'}" + (f" ({identity.source})" if
                                                                              identity.source else ""))
    auth = profile.auth
    lines.append(f"Authorization key: {auth.key}, format {auth.format or 'not documented'}"
                 + ("; only used over wss://" if auth.requires_tls else ""))
    detect = profile.detect
    detection = [f"{label} {' | '.join(p)}" for label, p in (("vendor", detect.vendor), ("model", detect.model),
                                                              ("serial", detect.serial)) if p]
    lines.append("Detected from BootNotification: " + (", ".join(detection) or "never (map it with --profile)"))
    if profile.boot.required or profile.boot.max_length:
        lines.append(f"BootNotification always has: {', '.join(profile.boot.required)}")
    lines.append(f"Messages from the backend: {_policy(profile.actions.from_backend)}")
    lines.append(f"Messages from the charger: {_policy(profile.actions.from_charger)}")
    limits = [f"{key} {getattr(profile.limits, name)}" for name, key in LIMIT_KEYS.items()
              if getattr(profile.limits, name) is not None]
    if profile.limits.id_tag_max_length is not None:
        limits.append(f"idTag at most {profile.limits.id_tag_max_length} characters")
    lines.append("Limits: " + ("; ".join(limits) or "none beyond what the charger reports"))
    if profile.limits.trigger_messages is not None:
        lines.append("TriggerMessage can request: " + ", ".join(profile.limits.trigger_messages))
    if profile.limits.measurands is not None:
        lines.append("Measurands: " + ", ".join(profile.limits.measurands))
    lines.append(f"Endpoint style: {profile.endpoint.style}" + (f" ({profile.endpoint.note})"
                                                                 if profile.endpoint.note else ""))
    lines += ["", f"Configuration keys ({len(profile.keys)}; unlisted keys are {profile.unlisted_keys}):"]
    width = max((len(spec.name) for spec in profile.keys.values()), default=0)
    for spec in sorted(profile.keys.values(), key=lambda s: (s.presence == "absent", s.name.casefold())):
        kind = "-" if spec.presence == "absent" else f"{spec.type:<10} {spec.access:<7}"
        lines.append(f"  {spec.name.ljust(width)}  {kind:<18} {key_summary(spec)}")
    if profile.caveats:
        lines += ["", "Caveats:"]
        for caveat in profile.caveats:
            when = ", ".join(f"{name}={'|'.join(p)}" for name, p in caveat.match)
            lines.append(f"  {caveat.action}{f' ({when})' if when else ''} [{caveat.severity}]: {caveat.text}")
    return "\n".join(lines) + "\n"
