"""Charge points built from the ``ocpp`` package, on a ``websockets`` client.

They answer what a backend asks (configuration, triggers, remote start) the way simple firmware does, and
they can put frames on the wire that the ``ocpp`` package refuses to build (:meth:`send_raw`), because the
scenarios need broken traffic that only a plain WebSocket send can produce.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.datatypes import KeyValue
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from ocppscope.proxy.demo.backend import PEER_LOG
from ocppscope.proxy.demo.wire import peek
from websockets.asyncio.client import ClientConnection, connect

OPEN_TIMEOUT = 5.0
"""Seconds a charger waits for the WebSocket handshake: the peers only ever talk over loopback."""


def basic_authorization(user: str, password: str | bytes) -> str:
    """An HTTP Basic ``Authorization`` value (RFC 7617) as OCPP-J chargers send it."""
    secret = password if isinstance(password, bytes) else password.encode()
    return "Basic " + base64.b64encode(user.encode() + b":" + secret).decode("ascii")


class _Firmware:
    """Mixin: what the scenarios need beyond the ocpp package's ChargePoint."""

    _connection: ClientConnection
    _response_queue: asyncio.Queue[Any]

    def _init_firmware(self) -> None:
        self.requests_seen: list[str] = []
        self._seen = asyncio.Condition()

    async def route_message(self, raw_msg: str | bytes) -> None:
        message_type, _, action = peek(raw_msg)
        await super().route_message(raw_msg)  # type: ignore[misc]
        if message_type == 2:
            async with self._seen:
                self.requests_seen.append(str(action))
                self._seen.notify_all()

    async def wait_for_request(self, action: str, count: int = 1, timeout: float = 3.0) -> None:
        """Wait until the backend's ``count``-th ``action`` request has been answered.

        Scenarios wait here so backend-initiated CALLs land at the same place in every recording.
        """
        async with asyncio.timeout(timeout), self._seen:
            await self._seen.wait_for(lambda: self.requests_seen.count(action) >= count)

    async def send_raw(self, message: str | bytes, *, answer_id: Any = None, timeout: float = 3.0) -> Any:
        """Send ``message`` exactly as given (bytes go out as a binary frame).

        With ``answer_id``, wait for the backend's CALLRESULT/CALLERROR carrying that id and return it;
        answers with other ids that arrive meanwhile are dropped, as the ocpp package itself does.
        """
        await self._connection.send(message)
        if answer_id is None:
            return None
        async with asyncio.timeout(timeout):
            while True:
                response = await self._response_queue.get()
                if response.unique_id == answer_id:
                    return response


class Charger16(_Firmware, ChargePoint16):
    """An OCPP 1.6 charge point with one connector."""

    def __init__(self, identity: str, connection: ClientConnection, response_timeout: float = 5.0) -> None:
        super().__init__(identity, connection, response_timeout=response_timeout, logger=PEER_LOG)
        self._init_firmware()
        self.configuration: dict[str, str] = {
            "HeartbeatInterval": "300",
            "MeterValueSampleInterval": "60",
            "NumberOfConnectors": "1",
        }

    @on(Action16.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> result16.ChangeConfiguration:
        self.configuration[key] = value
        return result16.ChangeConfiguration(status="Accepted")

    @on(Action16.get_configuration)
    def on_get_configuration(self, key: Sequence[str] | None = None, **_: Any) -> result16.GetConfiguration:
        wanted = list(key) if key else [k for k in self.configuration if k != "AuthorizationKey"]
        known = [KeyValue(key=k, readonly=k == "NumberOfConnectors", value=self.configuration[k])
                 for k in wanted if k in self.configuration and k != "AuthorizationKey"]
        unknown = [k for k in wanted if k not in self.configuration]
        return result16.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action16.trigger_message)
    def on_trigger_message(self, **_: Any) -> result16.TriggerMessage:
        return result16.TriggerMessage(status="Accepted")

    @on(Action16.remote_start_transaction)
    def on_remote_start_transaction(self, **_: Any) -> result16.RemoteStartTransaction:
        return result16.RemoteStartTransaction(status="Accepted")


class Charger201(_Firmware, ChargePoint201):
    """An OCPP 2.0.1 charging station with one EVSE and one connector."""

    def __init__(self, identity: str, connection: ClientConnection, response_timeout: float = 5.0) -> None:
        super().__init__(identity, connection, response_timeout=response_timeout, logger=PEER_LOG)
        self._init_firmware()
        self.variables: dict[tuple[str, str], str] = {
            ("OCPPCommCtrlr", "HeartbeatInterval"): "300",
            ("SampledDataCtrlr", "TxUpdatedInterval"): "60",
        }

    @on(Action201.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> result201.GetVariables:
        results = []
        for item in get_variable_data:
            name = (item["component"]["name"], item["variable"]["name"])
            value = self.variables.get(name)
            result: dict[str, Any] = {
                "attribute_status": "Accepted" if value is not None else "UnknownVariable",
                "component": item["component"],
                "variable": item["variable"],
            }
            if value is not None:
                result["attribute_value"] = value
            results.append(result)
        return result201.GetVariables(get_variable_result=results)

    @on(Action201.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> result201.SetVariables:
        results = []
        for item in set_variable_data:
            self.variables[(item["component"]["name"], item["variable"]["name"])] = item["attribute_value"]
            results.append({"attribute_status": "Accepted", "component": item["component"],
                            "variable": item["variable"]})
        return result201.SetVariables(set_variable_result=results)

    @on(Action201.trigger_message)
    def on_trigger_message(self, **_: Any) -> result201.TriggerMessage:
        return result201.TriggerMessage(status="Accepted")


ChargerT = TypeVar("ChargerT", Charger16, Charger201)


@contextlib.asynccontextmanager
async def charger_connection(
    url: str,
    identity: str,
    cls: type[ChargerT],
    *,
    subprotocols: Sequence[str] = ("ocpp1.6",),
    authorization: str | None = None,
    response_timeout: float = 5.0,
) -> AsyncIterator[ChargerT]:
    """Connect charger ``identity`` to ``url``/``identity`` and run its receive loop while the block runs.

    Leaving the block closes the WebSocket normally (1000), as a charger going offline cleanly does.
    A refused handshake raises ``websockets.exceptions.InvalidStatus``.
    """
    headers = {"Authorization": authorization} if authorization is not None else None
    async with connect(
        f"{url.rstrip('/')}/{identity}",
        subprotocols=list(subprotocols) or None,  # type: ignore[arg-type]
        additional_headers=headers,
        proxy=None,  # loopback only: never route through an HTTP proxy from the environment
        open_timeout=OPEN_TIMEOUT,
        close_timeout=2,
    ) as websocket:
        charger = cls(identity, websocket, response_timeout=response_timeout)
        receiver = asyncio.create_task(charger.start())
        try:
            yield charger
        finally:
            await websocket.close()
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)
