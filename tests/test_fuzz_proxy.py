"""Fuzzed frames through the live proxy: relayed byte for byte both ways while the analysis gets the junk.

The same run as ``make fuzz`` (tests/fuzz_run.py), at a size CI affords.
"""

from __future__ import annotations

import pytest

from tests import engine_support
from tests.fuzz_run import relay

ocppscope_home = engine_support.ocppscope_home  # the session's own config directory, as a fixture
pytestmark = [pytest.mark.usefixtures("ocppscope_home"), pytest.mark.timeout(120)]


async def test_fuzzed_frames_are_relayed_byte_for_byte_and_analysed_without_internal_errors() -> None:
    figures = await relay(600, seed=14)
    assert figures.frames >= 600
    assert figures.problems == []  # every frame arrived as sent, text as text, binary as binary
    assert (figures.crashes, figures.internal_errors) == (0, 0)
