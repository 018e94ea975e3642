"""The reverse direction: from a capture's GetConfiguration answer back to the URL, compared with the handshake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ocppscope.proxy.capture.writer import CaptureWriter
from ocppscope.proxy.cli import main
from ocppscope.proxy.core.events import ConnectionOpened, Direction, Event, Message, TlsInfo
from ocppscope.proxy.endpoint.reverse import Actual, differences, rebuild_url

from tests.test_profile_support import bundled

BOOT = {"chargePointVendor": "Ecotap", "chargePointModel": "DC60", "chargePointSerialNumber": "1891351"}


def _events(host: str, path: str, config: dict[str, str], tls: bool = False, boot: bool = True) -> list[Event]:
    frames = []
    if boot:
        frames += [(Direction.FROM_CHARGER, [2, "b", "BootNotification", BOOT]),
                   (Direction.FROM_BACKEND, [3, "b", {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z",
                                                      "interval": 300}])]
    frames += [(Direction.FROM_BACKEND, [2, "g", "GetConfiguration", {}]),
               (Direction.FROM_CHARGER, [3, "g", {"configurationKey": [
                   {"key": k, "readonly": False, "value": v} for k, v in config.items()]}])]
    events: list[Event] = [ConnectionOpened("c1", 1.0, "10.0.0.7:40000", path, (("Host", host),),
                                            subprotocol="ocpp1.6", seq=1,
                                            client_tls=TlsInfo(version="TLSv1.2") if tls else None)]
    for seq, (direction, frame) in enumerate(frames, start=2):
        events.append(Message("c1", float(seq), direction, json.dumps(frame).encode(), seq=seq))
    return events


def _capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, events: list[Event]) -> Path:
    monkeypatch.setenv("OCPPSCOPE_HOME", str(tmp_path / "home"))
    path = tmp_path / "site.ocppscope"
    with CaptureWriter(path) as writer:
        for event in events:
            writer.write(event)
    return path


ECCLITE_CONFIG = {"com_Endpoint": "devices.ecotap.com:443/registry/ocpp/#OSN#", "com_OCPPID": "NL*ECO*1000",
                  "com_Options": "comMaster=0,Events=1,BlockBeforeBoot=1,Wdt=0,updSendInIdle=0,UseTLS=1,blockLgFull=0"}


def test_consistent_capture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    capture = _capture(tmp_path, monkeypatch, _events("devices.ecotap.com", "/registry/ocpp/NL*ECO*1000",
                                                      ECCLITE_CONFIG, tls=True))
    assert main(["endpoint", "--from", str(capture)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("NL*ECO*1000 (ecotap-evc5: BootNotification")
    assert "configured URL: wss://devices.ecotap.com:443/registry/ocpp/NL*ECO*1000" in out
    assert "connected to:   wss://devices.ecotap.com:443/registry/ocpp/NL*ECO*1000" in out


def test_settings_pointing_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = {**ECCLITE_CONFIG, "com_Endpoint": "192.168.255.8:443:80/ocpp1.6/secured/#OSN#"}
    capture = _capture(tmp_path, monkeypatch, _events("devices.ecotap.com:443", "/registry/ocpp/NL*ECO*1000",
                                                      config, tls=True))
    assert main(["endpoint", "--from", str(capture), "--json"]) == 1
    [result] = json.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["configured_url"] is None
    assert result["differences"] == [
        "host: the configuration says 192.168.255.8, the charger connected to devices.ecotap.com",
        "path: the configuration says /ocpp1.6/secured/NL*ECO*1000, the charger asked for /registry/ocpp/NL*ECO*1000"]
    assert any("2 ports" in p for p in result["problems"])


def test_cpa_needs_a_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    config = {"BackOffice-URL": "ws://www.example.com", "BackOffice-Portnr": "80", "BackOffice-Path": "/ocpp1.6/path/",
              "OCPPID": "TEST-OCPPID"}
    capture = _capture(tmp_path, monkeypatch, _events("www.example.com", "/ocpp1.6/path/TEST-OCPPID", config,
                                                      boot=False))
    assert main(["endpoint", "--from", str(capture), "--profile", "TEST-OCPPID=ecotap-cpa"]) == 0
    assert "configured URL: ws://www.example.com:80/ocpp1.6/path/TEST-OCPPID" in capsys.readouterr().out
    assert main(["endpoint", "--from", str(capture)]) == 1  # generic: the URL is not in its configuration
    assert "cannot be rebuilt" in capsys.readouterr().out


def test_serial_number_placeholder() -> None:
    # ECClite User Guide ch. 11: com_Endpoint ws.evc.net:80/#SN#, the serial coming from the BootNotification
    rebuilt = rebuild_url(bundled()["ecotap-evc5"], {"com_endpoint": "ws.evc.net:80/#SN#",
                                                     "com_options": "useTLS=0", "com_ocppid": "X"}, "1891351")
    assert rebuilt.url == "ws://ws.evc.net:80/1891351" and rebuilt.problems == []
    unknown = rebuild_url(bundled()["ecotap-evc5"], {"com_endpoint": "ws.evc.net:80/#SN#", "com_options": "useTLS=0",
                                                     "com_ocppid": "X"})
    assert unknown.url is None and "serial number" in unknown.problems[0]


def test_what_cannot_be_told_is_not_compared() -> None:
    rebuilt = rebuild_url(bundled()["ecotap-evc5"], {"com_endpoint": "h.example.com:443/ocpp/#OSN#",
                                                     "com_options": "useTLS=1", "com_ocppid": "CP1"})
    assert differences(rebuilt, Actual.from_handshake("h.example.com", "/ocpp/CP1", None)) == []
    assert differences(rebuilt, Actual.from_handshake("h.example.com:443", "/ocpp/CP1", False)) == \
        ["scheme: the configuration says wss://, the charger connected with ws://"]
    assert Actual.from_handshake("[::1]:9000", "/x", None).port == 9000
    assert Actual.from_handshake("[::1]", "/x", True).port == 443


def test_no_traffic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    capture = _capture(tmp_path, monkeypatch, [])
    assert main(["endpoint", "--from", str(capture)]) == 1
    assert "no charger traffic" in capsys.readouterr().out
    assert main(["endpoint", "ws://h/CP1", "--from", str(capture)]) == 4  # a URL or --from: a usage error
