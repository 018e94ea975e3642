"""Repeated log lines are counted, not printed: a storm cannot fill a disk."""

from __future__ import annotations

import io
import logging

from ocppscope.proxy.engine.lograte import RepeatLimit


def _logger(limit: RepeatLimit) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(limit)
    logger = logging.getLogger(f"test.lograte.{id(limit)}")
    logger.propagate = False
    logger.handlers = [handler]
    return logger, out


def test_a_storm_of_one_error_prints_a_few_then_says_how_many_were_held_back() -> None:
    now = [0.0]
    logger, out = _logger(RepeatLimit(burst=3, window=60, clock=lambda: now[0]))
    for n in range(1000):
        try:
            raise OSError(24, "Too many open files")
        except OSError:
            logger.exception("accept failed for connection %d", n)
    assert out.getvalue().count("accept failed") == 3
    assert out.getvalue().count("Traceback") == 3
    now[0] = 61.0
    try:
        raise OSError(24, "Too many open files")
    except OSError:
        logger.exception("accept failed for connection %d", 1000)
    assert "(and 997 more like it in the last 60 s, not shown)" in out.getvalue()


def test_different_lines_and_slow_repeats_all_pass() -> None:
    now = [0.0]
    logger, out = _logger(RepeatLimit(burst=2, window=10, clock=lambda: now[0]))
    for n in range(50):
        logger.warning("charger CP%02d connected", n)  # one template, so this is one kind ...
        logger.error(f"distinct line {n}")  # ... and these are fifty kinds
        now[0] += 11  # ... repeated slower than the window: each passes
    text = out.getvalue()
    assert text.count("connected") == 50 and text.count("distinct line") == 50
    assert "not shown" not in text
