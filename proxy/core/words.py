"""Wording shared by findings and reports, so the same quantity reads the same everywhere."""


def duration(seconds: float) -> str:
    """``2.0 s``, ``5 min``, ``1.5 h``."""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
