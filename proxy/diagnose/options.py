"""Thresholds of the cause detectors (defaults fit real chargers; tests use short idle times)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DiagnoseOptions:
    min_idle: float = 1.0
    """Seconds of silence before a close for it to count as a possible idle timeout."""
    idle_tolerance: float = 0.04
    """Closes cluster at one idle time when within this fraction of it (at least ``idle_slack`` seconds)."""
    idle_slack: float = 0.3
    storm_handshakes: int = 5
    """Handshakes of one charger, at most ``storm_period`` apart (median), that make a reconnect storm."""
    storm_period: float = 60.0
    error_window: float = 60.0
    """CALLERRORs this long before a close count towards a burst."""
    close_window: float = 10.0
    """A close this soon after a timeout or the last CALLERROR of a burst follows from it."""
    concurrent_window: float = 30.0
    clock_jump: float = 60.0
    """Seconds the charger's clock must move, and stay moved, to be a jump."""
