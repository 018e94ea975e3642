"""Play the charger side of a capture against a live backend, with a real websockets client.

Per charger, the connections that opened in the recording are played in order, with the recorded pause
between them (scaled by ``speed``); chargers play concurrently, as they did. Refused handshakes of the
recording are not played: a redacted capture cannot repeat the wrong password that caused them.
"""

from __future__ import annotations

import asyncio
import base64
import math
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ocppscope.proxy.core.events import Direction, header
from ocppscope.proxy.errors import OcppscopeError
from ocppscope.proxy.replay.livelog import LiveLog
from ocppscope.proxy.replay.plan import ChargerScript, ConnectionScript
from ocppscope.proxy.replay.session import ReplayOptions, Session, SessionNotes
from ocppscope.proxy.replay.values import ValueMap
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

OPEN_TIMEOUT = 10.0
CLOSE_TIMEOUT = 5.0
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class ReplayError(OcppscopeError):
    """The replay cannot run at all (the target is unreachable, the capture holds nothing to play)."""


@dataclass(frozen=True)
class ChargerTarget:
    url: str
    """The backend's base URL; each charger appends '/' and its identity, as chargers do."""
    password: str | None = None
    ssl_context: ssl.SSLContext | None = None


@dataclass
class ReplayRun:
    """What a replay played and saw."""

    log: LiveLog
    played: list[str] = field(default_factory=list)
    """Recorded connection ids that were played."""
    skipped_refused: int = 0
    notes: SessionNotes = field(default_factory=SessionNotes)
    warnings: list[str] = field(default_factory=list)


def charger_url(base: str, script: ConnectionScript) -> str:
    """``base`` + '/' + the recorded identity segment, kept percent-encoded as the charger sent it."""
    segment = script.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return f"{base.rstrip('/')}/{segment}"


def authorization(script: ConnectionScript, password: str | None) -> tuple[str | None, str | None]:
    """The Authorization header to send, and a warning when the recording had one we cannot repeat."""
    recorded = header(script.opened.request_headers, "Authorization")
    auth = script.auth
    had_basic = (auth is not None and (auth.scheme or "").lower() == "basic") or (
        recorded is not None and recorded.lower().startswith("basic "))
    if password is not None:
        user = (auth.user if auth is not None else None) or script.charger or ""
        token = base64.b64encode(user.encode("utf-8") + b":" + password.encode("utf-8")).decode("ascii")
        return f"Basic {token}", None
    if recorded is not None and "<redacted" not in recorded:
        return recorded, None
    if had_basic:
        return None, (f"{script.charger}: the recording used Basic credentials, redacted in the capture; give "
                      "--password to send them")
    return None, None


async def replay_chargers(scripts: Sequence[ChargerScript], target: ChargerTarget, options: ReplayOptions,
                          log: LiveLog | None = None) -> ReplayRun:
    """Play every charger of ``scripts`` against ``target``; the returned run holds the live events."""
    run = ReplayRun(log or LiveLog())
    if not any(conn.succeeded for script in scripts for conn in script.connections):
        raise ReplayError("the capture has no connection that opened: nothing to replay")
    reached = asyncio.Event()
    try:
        async with asyncio.TaskGroup() as group:
            for script in scripts:
                group.create_task(_play_charger(script, target, options, run, reached))
    except* ReplayError as failed:
        raise failed.exceptions[0] from None
    return run


async def _play_charger(script: ChargerScript, target: ChargerTarget, options: ReplayOptions, run: ReplayRun,
                        reached: asyncio.Event) -> None:
    values = ValueMap()
    started = time.monotonic()
    first_open: float | None = None
    for conn in script.connections:
        if not conn.succeeded:
            run.skipped_refused += 1
            continue
        if first_open is None:
            first_open = conn.opened.time
        # The recorded gaps between connections, measured from the start of this charger's replay.
        due = started + _scaled(conn.opened.time - first_open, options.speed)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        await _play_connection(conn, script, target, options, run, values, reached)


def _scaled(seconds: float, speed: float) -> float:
    return seconds / speed if math.isfinite(speed) else 0.0


async def _play_connection(conn: ConnectionScript, script: ChargerScript, target: ChargerTarget,
                           options: ReplayOptions, run: ReplayRun, values: ValueMap, reached: asyncio.Event) -> None:
    url = charger_url(target.url, conn)
    value, warning = authorization(conn, target.password)
    if warning and warning not in run.warnings:
        run.warnings.append(warning)
    headers = [("Authorization", value)] if value is not None else []
    user_agent = header(conn.opened.request_headers, "User-Agent")
    conn_id = run.log.new_conn_id()
    path = urlsplit(url).path or "/"
    offered = conn.offered
    requested = (("Sec-WebSocket-Protocol", ", ".join(offered)),) if offered else ()
    tls = {"ssl": target.ssl_context} if url.startswith("wss:") and target.ssl_context is not None else {}
    try:
        ws = await connect(
            url,
            subprotocols=offered or None,  # type: ignore[arg-type]
            additional_headers=headers,
            user_agent_header=user_agent,
            open_timeout=OPEN_TIMEOUT,
            close_timeout=CLOSE_TIMEOUT,
            ping_interval=None,  # the recording's pace is the traffic; pings would add frames it did not have
            max_size=None,
            proxy=None if (urlsplit(url).hostname or "") in _LOOPBACK else True,
            **tls,
        )
    except InvalidStatus as exc:
        reached.set()
        response = exc.response
        run.log.opened(conn_id, client="", path=path, request_headers=(*requested, *headers),
                       status=response.status_code, response_headers=tuple(response.headers.raw_items()),
                       upstream=url)
        run.played.append(conn.conn_id)
        return
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        if not reached.is_set():
            raise ReplayError(f"cannot reach the backend at {url}: {type(exc).__name__}: {exc}") from None
        run.log.opened(conn_id, client="", path=path, request_headers=(*requested, *headers), status=0,
                       upstream=url, error=f"{type(exc).__name__}: {exc}")
        run.played.append(conn.conn_id)
        return
    reached.set()
    local = ws.local_address
    request, response = ws.request, ws.response
    assert request is not None and response is not None
    run.log.opened(conn_id, client=f"{local[0]}:{local[1]}" if local else "", path=request.path,
                   request_headers=tuple(request.headers.raw_items()), status=response.status_code,
                   response_headers=tuple(response.headers.raw_items()), subprotocol=ws.subprotocol, upstream=url)
    run.played.append(conn.conn_id)
    session = Session(ws, conn, script, Direction.FROM_CHARGER, conn_id, options, run.log, values, run.notes)
    await session.run()
