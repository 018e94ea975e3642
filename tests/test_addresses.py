"""HOST:PORT as the command line takes it, for listeners and the UI stream alike."""

from __future__ import annotations

import pytest
from ocppscope.proxy.addresses import parse_host_port
from ocppscope.proxy.errors import OcppscopeError


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("127.0.0.1:8080", {}, ("127.0.0.1", 8080)),
        (":8080", {}, ("0.0.0.0", 8080)),
        ("[::1]:8080", {}, ("::1", 8080)),
        ("charger-lan", {"default_port": 8080}, ("charger-lan", 8080)),
        ("7777", {"default_host": "127.0.0.1"}, ("127.0.0.1", 7777)),
        (":7777", {"default_host": "127.0.0.1"}, ("127.0.0.1", 7777)),
    ],
)
def test_accepted_forms(text: str, kwargs: dict, expected: tuple[str, int]) -> None:
    assert parse_host_port(text, **kwargs) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [("localhost", "a port is required"), ("host:http", "is not a number"), ("host:70000", "out of range"),
     ("[::1", "expected [IPv6]:PORT"), ("8080", "a port is required")],
)
def test_errors_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(OcppscopeError, match=message.replace("[", r"\[")):
        parse_host_port(text, "listen address")
