"""Known findings CI accepts, so a job fails only on new ones.

A finding's baseline key is (rule, charger, action, occurrence): the n-th finding of that rule for that
charger and action. It survives re-recording the same traffic, where message ids and sequence numbers change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import orjson
from ocppscope.proxy.core import render as safe
from ocppscope.proxy.core.findings import Finding
from ocppscope.proxy.errors import OcppscopeError

BaselineKey = tuple[str, str, str, int]
_FORMAT = "ocppscope-baseline"


def keys_of(findings: Iterable[Finding]) -> list[BaselineKey]:
    """The baseline key of each finding, in order."""
    seen: Counter[tuple[str, str, str]] = Counter()
    keys = []
    for finding in findings:
        base = (finding.rule, finding.charger or "", finding.action or "")
        keys.append((*base, seen[base]))
        seen[base] += 1
    return keys


def load(path: Path) -> set[BaselineKey]:
    try:
        data = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise OcppscopeError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except orjson.JSONDecodeError as exc:
        raise OcppscopeError(f"{path}: baseline is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("findings"), list):
        raise OcppscopeError(f"{path}: not an ocppscope baseline (expected format {_FORMAT!r})")
    keys: set[BaselineKey] = set()
    for index, item in enumerate(data["findings"]):
        try:
            keys.add((str(item["rule"]), str(item["charger"]), str(item["action"]), int(item["occurrence"])))
        except (KeyError, TypeError, ValueError):
            raise OcppscopeError(f"{path}: baseline entry {index} lacks rule/charger/action/occurrence") from None
    return keys


def write(path: Path, findings: Iterable[Finding]) -> int:
    entries = [
        {"rule": rule, "charger": charger, "action": action, "occurrence": occurrence}
        for rule, charger, action, occurrence in keys_of(findings)
    ]
    document = {"format": _FORMAT, "version": 1, "findings": entries}
    path.write_bytes(safe.json_bytes(document, indent=True) + b"\n")
    return len(entries)
