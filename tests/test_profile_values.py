"""Range expressions and the value judge on their own."""

from __future__ import annotations

import pytest
from ocppscope.proxy.profiles.formats import ecotap_endpoint_problems, parse_ecotap_endpoint
from ocppscope.proxy.profiles.ranges import parse_ranges
from ocppscope.proxy.profiles.values import check_value, option_value, shown

from tests.test_profile_support import bundled


@pytest.mark.parametrize(("text", "inside", "outside", "shown_as"), [
    ("0 | 10..65535", [0, 10, 65535], [-1, 1, 9, 65536], "0 or 10–65535"),
    ("0, 30 – 86399", [0, 30, 86399], [29, 86400], "0 or 30–86399"),
    ("..9", [-5, 9], [10], "at most 9"),
    ("10..", [10, 10**9], [9], "10 or more"),
    ("-3..-1", [-3, -1], [0, -4], "-3–-1"),
])
def test_range_expressions(text: str, inside: list[int], outside: list[int], shown_as: str) -> None:
    ranges = parse_ranges(text)
    assert all(v in ranges for v in inside) and not any(v in ranges for v in outside)
    assert str(ranges) == shown_as


@pytest.mark.parametrize("text", ["", "ten", "1..2..3", "5..1", "1 | | 2"])
def test_bad_range_expressions(text: str) -> None:
    with pytest.raises(ValueError):
        parse_ranges(text)


def test_ecotap_endpoint_reading() -> None:
    endpoint = parse_ecotap_endpoint("192.168.255.8:443:80/ocpp1.6/secured/#OSN#")
    assert (endpoint.host, endpoint.ports, endpoint.path, endpoint.port) == \
        ("192.168.255.8", ("443", "80"), "/ocpp1.6/secured/#OSN#", None)
    assert ecotap_endpoint_problems("devices.ecotap.com:443/registry/ocpp/#OSN#") == []
    assert ecotap_endpoint_problems("ws.evc.net:80/#SN#") == []
    assert ecotap_endpoint_problems("host:http/x") == ["port 'http' is not a number from 1 to 65535"]


def test_options_and_secrets() -> None:
    assert option_value("Events=1, UseTLS=1 ,comMaster=0", "useTLS") == "1"
    assert option_value("Events=1", "useTLS") is None
    key = bundled()["ecotap-evc5"].key("authorizationKey")
    assert shown(key, "user:secret") == "<11 characters hidden>"
    assert shown(bundled()["ecotap-evc5"].key("com_OCPPID"), "A") == "'A'"


def test_every_problem_of_a_value_is_reported() -> None:
    spec = bundled()["ecotap-evc4"].key("com_Options")
    assert spec is not None
    problems = check_value(spec, "Events=3,useTLS=1,Bogus=1,Wdt")
    assert [p.kind for p in problems] == ["not-allowed", "not-allowed", "bad-format", "bad-format"]
    assert [p.rejected for p in problems] == [True, True, False, False]
