"""Recorded frames made fit to send again: a new message id, mapped values, everything else byte for byte."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from ocppscope.proxy.replay.values import ValueMap


def new_message_id() -> str:
    return str(uuid.uuid4())


def renew(content: bytes, is_text: bool, message_type: int, old_id: str | None, new_id: str | None,
          action: str | None, payload: Any, values: ValueMap) -> tuple[bytes, bool]:
    """The frame to send instead of recorded ``content``: ``old_id`` replaced by ``new_id`` and mapped
    values applied.

    Only the id changes when no value needs mapping, so pretty-printed or binary frames stay as recorded.
    When a value changes the frame is written again compactly; the payload's field order is kept.
    """
    # A CALLERROR's details are not worth rewriting the frame for; only its id changes.
    mapped = values.apply(payload) if message_type != 4 else payload
    if mapped is payload and old_id is not None and new_id is not None:
        needle = json.dumps(old_id, ensure_ascii=False).encode("utf-8")
        if needle in content:
            return content.replace(needle, json.dumps(new_id, ensure_ascii=False).encode("utf-8"), 1), is_text
    if mapped is payload and (old_id is None or new_id is None or old_id == new_id):
        return content, is_text
    frame: list[Any] = [message_type, new_id if new_id is not None else old_id]
    if action is not None:
        frame.append(action)
    frame.append(mapped)
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), True


def call_error(message_id: str, code: str, description: str) -> bytes:
    return json.dumps([4, message_id, code, description, {}], separators=(",", ":")).encode("utf-8")


_DATE_TIME = re.compile(
    rb'"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?"'
)


def shift_times(content: bytes, seconds: float) -> bytes:
    """Every JSON string in ``content`` that is an ISO 8601 date-time, moved by ``seconds``, written as before.

    A recorded session replayed a week later should carry today's times: backends refuse meter values from
    the past. The text is edited in place, so the frame's layout stays as recorded; a timestamp that is not a
    valid date stays untouched.
    """
    if not seconds:
        return content

    def moved(match: re.Match[bytes]) -> bytes:
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        fraction, zone = match.group(7) or b"", match.group(8) or b""
        try:
            when = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError:
            return match.group(0)
        micros = int((fraction[1:] + b"000000")[:6]) if fraction else 0
        when += timedelta(microseconds=micros, seconds=seconds)
        text = when.strftime("%Y-%m-%dT%H:%M:%S").encode()
        if fraction:
            digits = len(fraction) - 1
            text += b"." + f"{when.microsecond:06d}".encode()[:digits].ljust(digits, b"0")
        return b'"' + text + zone + b'"'

    return _DATE_TIME.sub(moved, content)
