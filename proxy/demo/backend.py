"""A central system (OCPP 1.6) and CSMS (OCPP 2.0.1) built from the ``ocpp`` package, misbehaving to order.

The handlers are the ``ocpp`` package's own ``ChargePoint`` classes on a ``websockets`` server, so what they
send is what a real Python backend sends: its framing, its id style, its CALLERROR spellings. The faults a
scenario asks for (:class:`BackendBehaviour`) are injected around that machinery, after the package has
validated its own answer, the way a buggy serializer or a confused session layer would break them.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call_result as result16
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from ocppscope.proxy.core.connection import identity_from_path
from ocppscope.proxy.demo.clock import now_iso
from ocppscope.proxy.demo.wire import peek
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, NegotiationError
from websockets.http11 import Request, Response

log = logging.getLogger("ocppscope.demo.backend")
PEER_LOG = logging.getLogger("ocppscope.demo.peers")
"""The ``ocpp`` package's own logging for every demo peer; it logs deliberately broken traffic loudly."""

Tamper = Callable[[dict[str, Any]], dict[str, Any]]
"""Rewrites an answer payload after the ocpp package validated it."""

SUBPROTOCOLS = ("ocpp2.0.1", "ocpp1.6")


@dataclass(frozen=True)
class BackendBehaviour:
    """What the central system does, including the faults a scenario wants on the wire."""

    heartbeat_interval: int = 300
    boot_answers: tuple[tuple[str, int], ...] = ()
    """(status, interval) for each BootNotification of a charger, in turn; the last repeats.
    Empty: always Accepted with ``heartbeat_interval``."""
    requests_after_boot: tuple[Any, ...] = ()
    """ocpp call payloads sent, in order and once per connection, after a boot is Accepted."""
    never_answer: frozenset[str] = frozenset()
    """Actions whose first CALL gets no answer at all."""
    answer_twice: frozenset[str] = frozenset()
    """Actions whose answer is sent twice: the second one answers an id nobody is waiting for."""
    stray_error_after: frozenset[str] = frozenset()
    """After answering these actions, also send a CALLERROR with an id that was never used."""
    tamper: Mapping[str, Tamper] = field(default_factory=dict)
    """Per action: rewrite the (valid) answer payload before it goes on the wire."""
    without_subprotocol: Literal["reject", "close", "ocpp1.6"] = "reject"
    """A charger offering no OCPP subprotocol: HTTP 400 (the websockets default), accept then close at once
    (the ocpp package's example server), or accept and speak 1.6 anyway (many lenient backends)."""
    credentials: Mapping[str, str] | None = None
    """identity → Basic-auth password; None accepts any charger without credentials."""


class _Shared:
    """State that outlives one connection: boot attempts per identity, transaction ids."""

    def __init__(self) -> None:
        self.boots: dict[str, int] = {}
        self.transaction_ids = itertools.count(1)


class _Faults:
    """Mixin for the ocpp ChargePoint classes: injects :class:`BackendBehaviour` faults around them."""

    behaviour: BackendBehaviour
    shared: _Shared
    id: str

    def _init_faults(self, behaviour: BackendBehaviour, shared: _Shared) -> None:
        self.behaviour = behaviour
        self.shared = shared
        self._answering: str | None = None
        self._last_answer: str | None = None
        self._ignored: set[str] = set()
        self._accepted = False
        self._asked_after_boot = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def route_message(self, raw_msg: str | bytes) -> None:
        message_type, _, action = peek(raw_msg)
        behaviour = self.behaviour
        if message_type == 2 and action in behaviour.never_answer and action not in self._ignored:
            self._ignored.add(action)
            log.info("%s: leaving %s unanswered on purpose", self.id, action)
            return
        self._answering = action if message_type == 2 else None
        self._last_answer = None
        try:
            await super().route_message(raw_msg)  # type: ignore[misc]
        finally:
            self._answering = None
        if message_type != 2:
            return
        if action in behaviour.answer_twice and self._last_answer is not None:
            await super()._send(self._last_answer)  # type: ignore[misc]
        if action in behaviour.stray_error_after:
            stray = [4, str(uuid.uuid4()), "GenericError", "", {}]
            await super()._send(json.dumps(stray, separators=(",", ":")))  # type: ignore[misc]

    async def _send(self, message: str) -> None:
        action = self._answering
        if action is not None and message.startswith("[3,"):
            tamper = self.behaviour.tamper.get(action)
            if tamper is not None:
                frame = json.loads(message)
                frame[2] = tamper(frame[2])
                message = json.dumps(frame, separators=(",", ":"))
            self._last_answer = message
        await super()._send(message)  # type: ignore[misc]

    def _answer_boot(self, result: Callable[..., Any]) -> Any:
        """The next answer from ``boot_answers`` for this charger, as the version's BootNotification result."""
        answers = self.behaviour.boot_answers
        attempt = self.shared.boots.get(self.id, 0)
        self.shared.boots[self.id] = attempt + 1
        if answers:
            status, interval = answers[min(attempt, len(answers) - 1)]
        else:
            status, interval = "Accepted", self.behaviour.heartbeat_interval
        self._accepted = status == "Accepted"
        return result(current_time=now_iso(), interval=interval, status=status)

    def _after_boot(self) -> None:
        """Once Accepted, send the configured requests, once; ocpp runs after-hooks as fire-and-forget tasks."""
        if not self._accepted or self._asked_after_boot or not self.behaviour.requests_after_boot:
            return
        self._asked_after_boot = True
        task = asyncio.get_running_loop().create_task(self._ask_after_boot())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ask_after_boot(self) -> None:
        for payload in self.behaviour.requests_after_boot:
            try:
                await self.call(payload)  # type: ignore[attr-defined]
            except (ConnectionClosed, TimeoutError) as exc:
                log.info("%s: %s after boot not answered: %s", self.id, type(payload).__name__, exc)
                return


class CentralSystem16(_Faults, ChargePoint16):
    """The OCPP 1.6 side of a backend connection."""

    def __init__(self, identity: str, connection: ServerConnection, behaviour: BackendBehaviour,
                 shared: _Shared) -> None:
        super().__init__(identity, connection, response_timeout=5, logger=PEER_LOG)
        self._init_faults(behaviour, shared)

    @on(Action16.boot_notification)
    def on_boot_notification(self, **_: Any) -> result16.BootNotification:
        return self._answer_boot(result16.BootNotification)

    @after(Action16.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        self._after_boot()

    @on(Action16.heartbeat)
    def on_heartbeat(self, **_: Any) -> result16.Heartbeat:
        return result16.Heartbeat(current_time=now_iso())

    @on(Action16.status_notification)
    def on_status_notification(self, **_: Any) -> result16.StatusNotification:
        return result16.StatusNotification()

    @on(Action16.authorize)
    def on_authorize(self, **_: Any) -> result16.Authorize:
        return result16.Authorize(id_tag_info=IdTagInfo(status="Accepted"))

    @on(Action16.start_transaction)
    def on_start_transaction(self, **_: Any) -> result16.StartTransaction:
        return result16.StartTransaction(
            transaction_id=next(self.shared.transaction_ids), id_tag_info=IdTagInfo(status="Accepted")
        )

    @on(Action16.meter_values)
    def on_meter_values(self, **_: Any) -> result16.MeterValues:
        return result16.MeterValues()

    @on(Action16.stop_transaction)
    def on_stop_transaction(self, **_: Any) -> result16.StopTransaction:
        return result16.StopTransaction(id_tag_info=IdTagInfo(status="Accepted"))

    @on(Action16.data_transfer)
    def on_data_transfer(self, **_: Any) -> result16.DataTransfer:
        return result16.DataTransfer(status="UnknownVendorId")


class Csms201(_Faults, ChargePoint201):
    """The OCPP 2.0.1 side of a backend connection."""

    def __init__(self, identity: str, connection: ServerConnection, behaviour: BackendBehaviour,
                 shared: _Shared) -> None:
        super().__init__(identity, connection, response_timeout=5, logger=PEER_LOG)
        self._init_faults(behaviour, shared)

    @on(Action201.boot_notification)
    def on_boot_notification(self, **_: Any) -> result201.BootNotification:
        return self._answer_boot(result201.BootNotification)

    @after(Action201.boot_notification)
    def after_boot_notification(self, **_: Any) -> None:
        self._after_boot()

    @on(Action201.heartbeat)
    def on_heartbeat(self, **_: Any) -> result201.Heartbeat:
        return result201.Heartbeat(current_time=now_iso())

    @on(Action201.status_notification)
    def on_status_notification(self, **_: Any) -> result201.StatusNotification:
        return result201.StatusNotification()

    @on(Action201.authorize)
    def on_authorize(self, **_: Any) -> result201.Authorize:
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on(Action201.transaction_event)
    def on_transaction_event(self, event_type: str, **kwargs: Any) -> result201.TransactionEvent:
        # The CSMS reports the token's status when the station names one (E01.FR.07).
        if kwargs.get("id_token") is not None:
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()

    @on(Action201.meter_values)
    def on_meter_values(self, **_: Any) -> result201.MeterValues:
        return result201.MeterValues()

    @on(Action201.notify_event)
    def on_notify_event(self, **_: Any) -> result201.NotifyEvent:
        return result201.NotifyEvent()


def basic_auth_problem(header: str | None, identity: str | None, password: str | None) -> str | None:
    """Why ``header`` does not authenticate ``identity`` (OCPP-J 1.6 §6.2 / security profile 1), or None."""
    if password is None:
        return "unknown charger"
    if header is None:
        return "no Authorization header"
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return f"Authorization scheme {scheme!r} is not Basic"
    try:
        decoded = base64.b64decode(token.strip(), validate=True)
    except (binascii.Error, ValueError):
        return "Basic credentials are not valid base64"
    user, colon, secret = decoded.partition(b":")
    if not colon:
        return "Basic credentials have no user:password separator"
    if user.decode("utf-8", "replace") != identity:
        return "Basic user is not the charger identity"
    if secret != password.encode():
        return "wrong password"
    return None


class CentralSystem:
    """A running backend: a websockets server on loopback handing each charger to an ocpp ChargePoint."""

    def __init__(self, behaviour: BackendBehaviour | None = None, *, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.behaviour = behaviour or BackendBehaviour()
        self._bind = (host, port)
        self._shared = _Shared()
        self._server: Server | None = None
        self.refused: list[tuple[str, int, str]] = []
        """(path, HTTP status, why) of every handshake this backend refused."""

    @property
    def host(self) -> str:
        return self._address()[0]

    @property
    def port(self) -> int:
        return self._address()[1]

    @property
    def url(self) -> str:
        """The base URL chargers are configured with; they append their identity."""
        return f"ws://{self.host}:{self.port}/ocpp"

    @property
    def boots(self) -> Mapping[str, int]:
        """BootNotifications received per charger identity."""
        return self._shared.boots

    def _address(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("central system not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    async def start(self) -> CentralSystem:
        """Start listening; a no-op when already started (``async with await start_central_system()``)."""
        if self._server is not None:
            return self
        host, port = self._bind
        self._server = await serve(
            self._serve,
            host,
            port,
            subprotocols=list(SUBPROTOCOLS),
            select_subprotocol=self._select_subprotocol,
            process_request=self._authenticate,
            logger=log,
        )
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> CentralSystem:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _select_subprotocol(self, connection: ServerConnection, offered: Any) -> str | None:
        for subprotocol in offered:  # the charger's order of preference
            if subprotocol in SUBPROTOCOLS:
                return subprotocol
        if not offered and self.behaviour.without_subprotocol != "reject":
            return None
        why = "no OCPP subprotocol offered" if not offered else "no supported OCPP subprotocol offered"
        self.refused.append((connection.request.path if connection.request else "", 400, why))
        raise NegotiationError(why)  # websockets answers HTTP 400

    def _authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        credentials = self.behaviour.credentials
        if credentials is None:
            return None
        identity = identity_from_path(request.path)
        problem = basic_auth_problem(request.headers.get("Authorization"), identity,
                                     credentials.get(identity or ""))
        if problem is None:
            return None
        self.refused.append((request.path, 401, problem))
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
        return response

    async def _serve(self, connection: ServerConnection) -> None:
        request = connection.request
        identity = identity_from_path(request.path if request else "") or "unknown"
        subprotocol = connection.subprotocol
        if subprotocol is None and self.behaviour.without_subprotocol == "close":
            # What the ocpp package's example central system does.
            await connection.close(reason="no OCPP subprotocol")
            return
        cls = Csms201 if subprotocol == "ocpp2.0.1" else CentralSystem16
        peer = cls(identity, connection, self.behaviour, self._shared)
        with contextlib.suppress(ConnectionClosed):
            await peer.start()


async def start_central_system(behaviour: BackendBehaviour | None = None, *, host: str = "127.0.0.1",
                               port: int = 0) -> CentralSystem:
    """Start a backend on loopback (port 0: the OS picks); ``.host``/``.port``/``.url``, ``await .stop()``."""
    return await CentralSystem(behaviour, host=host, port=port).start()
