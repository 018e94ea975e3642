"""Where benchmarks leave their figures: ``bench/out/NAME.json``, for comparing runs by hand or in CI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "out"


def save_results(name: str, results: dict[str, Any]) -> Path:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(results, indent=2))
    return path
