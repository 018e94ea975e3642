"""The pure parts of the regression diff: field paths, payload comparison, volatile values."""

from __future__ import annotations

import pytest
from ocppscope.proxy.diff.paths import PathError, format_path, parse
from ocppscope.proxy.diff.payload import IgnoreRules, compare


@pytest.mark.parametrize(("pattern", "path", "action", "matches"), [
    ("$.idTagInfo.status", ("idTagInfo", "status"), None, True),
    ("$.idTagInfo.status", ("idTagInfo",), None, False),
    ("$..status", ("setVariableResult", 0, "attributeStatus"), None, False),
    ("$..status", ("idTagInfo", "status"), None, True),
    ("$..status", ("status",), None, True),
    ("$.configurationKey[*].value", ("configurationKey", 3, "value"), None, True),
    ("$.configurationKey[1].value", ("configurationKey", 3, "value"), None, False),
    ("$['odd key'].x", ("odd key", "x"), None, True),
    ("$.*", ("anything",), None, True),
    ("$..*", ("a", 1, "b"), None, True),
    ("StartTransaction:$.idTagInfo.expiryDate", ("idTagInfo", "expiryDate"), "StartTransaction", True),
    ("StartTransaction:$.idTagInfo.expiryDate", ("idTagInfo", "expiryDate"), "Authorize", False),
])
def test_path_patterns(pattern: str, path: tuple, action: str | None, matches: bool) -> None:
    assert parse(pattern).matches(path, action) is matches


@pytest.mark.parametrize("bad", ["idTagInfo.status", "$.a[?(@.x)]", "$.a[1:2]", ":$.a", "$ .a"])
def test_bad_patterns_are_refused_with_the_reason(bad: str) -> None:
    with pytest.raises(PathError, match="--ignore"):
        parse(bad)


def test_format_path() -> None:
    assert format_path(("idTagInfo", "status")) == "idTagInfo.status"
    assert format_path(("configurationKey", 1, "value")) == "configurationKey[1].value"
    assert format_path(()) == "(payload)"
    assert format_path(("a b",)) == "['a b']"


def test_missing_added_changed_and_status() -> None:
    recorded = {"idTagInfo": {"status": "Accepted", "parentIdTag": "P"}, "interval": 300, "list": [1, 2]}
    live = {"idTagInfo": {"status": "Blocked"}, "interval": "300", "list": [1], "extra": True}
    changes = {(c.path, c.kind): c for c in compare(recorded, live)}
    assert set(changes) == {
        (("idTagInfo", "status"), "changed"),
        (("idTagInfo", "parentIdTag"), "missing"),
        (("interval",), "changed"),  # a number became a string
        (("list", 1), "missing"),
        (("extra",), "added"),
    }
    assert changes[(("idTagInfo", "status"), "changed")].is_status
    assert not changes[(("interval",), "changed")].is_status


def test_volatile_values_are_ignored_but_their_presence_is_not() -> None:
    recorded = {"currentTime": "2024-01-01T00:00:00Z", "transactionId": 1, "expiry": "2024-01-02T00:00:00.000Z"}
    assert compare(recorded, {"currentTime": "2025-06-01T10:00:00.5Z", "transactionId": 7,
                              "expiry": "2025-06-02T00:00:00+02:00"}) == []
    [missing] = compare(recorded, {"transactionId": 7, "expiry": "2025-06-02T00:00:00Z"})
    assert (missing.path, missing.kind) == (("currentTime",), "missing")
    # A date-time that became something else is a change.
    [changed] = compare({"expiry": "2024-01-02T00:00:00Z"}, {"expiry": "never"})
    assert changed.kind == "changed"


def test_ignore_patterns_drop_fields_entirely() -> None:
    rules = IgnoreRules.build(["$..parentIdTag", "Authorize:$.idTagInfo.status"])
    recorded = {"idTagInfo": {"status": "Accepted", "parentIdTag": "P"}}
    assert compare(recorded, {"idTagInfo": {"status": "Blocked"}}, rules, "Authorize") == []
    [status] = compare(recorded, {"idTagInfo": {"status": "Blocked"}}, rules, "StartTransaction")
    assert status.is_status


def test_redacted_secrets_are_not_compared() -> None:
    recorded = {"key": "AuthorizationKey", "value": "<redacted kind=hex-text bytes=40 hmac=0123456789abcdef>"}
    assert compare(recorded, {"key": "AuthorizationKey", "value": "00112233"}) == []
