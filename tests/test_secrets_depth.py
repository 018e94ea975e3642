"""``find_secrets`` walks any depth without recursing: 100,000 levels built in code, 1,000 from the wire."""

from __future__ import annotations

from typing import Any

from ocppscope.proxy.capture.redact import Redactor
from ocppscope.proxy.core.events import Direction, Message
from ocppscope.proxy.core.secrets import find_secrets, frame_secrets

DEPTH = 100_000


def nested(bottom: Any, depth: int, as_object: bool) -> Any:
    value = bottom
    for level in range(depth):  # built bottom-up in a loop: no recursion in the test either
        value = {"level": level, "next": value} if as_object else [value]
    return value


def test_a_secret_100k_levels_deep_is_found_in_lists_and_objects() -> None:
    bottom = {"key": "Cfg_UserPin", "value": "9931"}
    for as_object in (False, True):
        found = [(s.name, s.secret) for s in find_secrets(nested(bottom, DEPTH, as_object))]
        assert found == [("Cfg_UserPin", "9931")]


def test_document_order_is_kept_around_deep_members() -> None:
    payload = {"configurationKey": [{"key": "WifiPassword", "value": "first-pw"},
                                    nested({"apiKey": "deep-key"}, DEPTH, True),
                                    {"key": "HeartbeatInterval", "value": "300"},
                                    {"key": "AuthorizationKey", "value": "last-key"}],
               "vpn": {"key": "vpn-key"}}
    assert [(s.name, s.secret) for s in find_secrets(payload)] == [
        ("WifiPassword", "first-pw"), ("apiKey", "deep-key"), ("AuthorizationKey", "last-key"), ("key", "vpn-key")]


def test_nothing_deep_that_names_no_secret_yields_nothing() -> None:
    assert list(find_secrets(nested({"key": "GetConfigurationMaxKeys", "value": "20"}, DEPTH, False))) == []


FRAME = ('[3,"1",{"configurationKey":' + "[" * 1000 + '{"key":"Cfg_UserPin","value":"9931"}' + "]" * 1000
         + "}]").encode()
"""A frame as deep as the JSON parser goes (1,024 levels): deeper than Python's recursion limit."""


def test_a_frame_as_deep_as_the_parser_goes_still_has_its_secret_found_and_redacted() -> None:
    message = Message("c1", 1_709_280_000.0, Direction.FROM_BACKEND, FRAME, True, 1)
    assert [(s.name, s.secret) for s in frame_secrets(message)] == [("Cfg_UserPin", "9931")]
    redacted = Redactor(b"salt").frame(FRAME)
    assert redacted is not None and b"9931" not in redacted and b"Cfg_UserPin" in redacted
