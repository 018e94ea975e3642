"""Synthetic but realistic OCPP 1.6 traffic for benchmarks: a charging-session frame mix over many chargers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from ocppscope.proxy.core.events import ConnectionClosed, ConnectionOpened, Direction, Event, Message

T0 = 1_700_000_000.0
TRAFFIC_VERSION = 2
"""Bumped when the frames change, so benchmarks regenerate the captures they keep in bench/out."""
_NOW = "2024-01-15T10:00:00.000Z"

# (charger request, backend answer) pairs in the proportions of a busy site. @WH@ is the energy register: it
# grows with every pair, so each charger's readings only go up, as a real meter's do.
_EXCHANGES: tuple[tuple[str, str], ...] = (
    ('"Heartbeat",{}', f'{{"currentTime":"{_NOW}"}}'),
    ('"StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Charging",'
     f'"timestamp":"{_NOW}"}}', "{}"),
    ('"MeterValues",{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"' + _NOW + '",'
     '"sampledValue":[{"value":"@WH@.5","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register",'
     '"unit":"Wh"},{"value":"16.1","measurand":"Current.Import","unit":"A","phase":"L1"},'
     '{"value":"230.2","measurand":"Voltage","unit":"V","phase":"L1"}]}]}', "{}"),
    ('"MeterValues",{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"' + _NOW + '",'
     '"sampledValue":[{"value":"@WH@.0","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}', "{}"),
    ('"Authorize",{"idTag":"04A2B3C4D5E6F7"}', '{"idTagInfo":{"status":"Accepted","expiryDate":"' + _NOW + '"}}'),
    ('"StartTransaction",{"connectorId":1,"idTag":"04A2B3C4D5E6F7","meterStart":@WH@,'
     f'"timestamp":"{_NOW}"}}', '{"idTagInfo":{"status":"Accepted"},"transactionId":42}'),
    ('"StopTransaction",{"transactionId":42,"meterStop":@WH@,"timestamp":"' + _NOW + '","reason":"EVDisconnected"}',
     '{"idTagInfo":{"status":"Accepted"}}'),
    ('"MeterValues",{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"' + _NOW + '",'
     '"sampledValue":[{"value":"@WH@.0","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}', "{}"),
)


def frame_pairs(frames: int) -> Iterator[tuple[bytes, bytes]]:
    """``frames // 2`` (CALL, CALLRESULT) byte pairs cycling through the mix, with unique ids."""
    for n, (request, answer) in zip(range(frames // 2), itertools.cycle(_EXCHANGES), strict=False):
        msg_id = f"{n:08x}-4b1f-9c2e-{n % 65536:04x}"
        request = request.replace("@WH@", str(1000 + n))
        yield f'[2,"{msg_id}",{request}]'.encode(), f'[3,"{msg_id}",{answer}]'.encode()


def events(frames: int, chargers: int = 100) -> Iterator[Event]:
    """Open ``chargers`` connections, interleave ``frames`` frames over them at 1 ms steps, close them."""
    seq = itertools.count(1)
    for c in range(chargers):
        yield ConnectionOpened(f"c{c}", T0, f"127.0.0.1:{40000 + c}", f"/ocpp/CP{c:04d}",
                               request_headers=(("Sec-WebSocket-Protocol", "ocpp1.6"),),
                               subprotocol="ocpp1.6", seq=next(seq))
    t = T0
    for n, (request, answer) in enumerate(frame_pairs(frames)):
        conn = f"c{n % chargers}"
        t += 0.001
        yield Message(conn, t, Direction.FROM_CHARGER, request, True, next(seq))
        yield Message(conn, t + 0.0005, Direction.FROM_BACKEND, answer, True, next(seq))
    for c in range(chargers):
        yield ConnectionClosed(f"c{c}", t + 1, 1000, "", "charger", next(seq))
