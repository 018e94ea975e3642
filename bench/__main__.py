"""``python -m bench [NAME ...] [--quick]``: run the named benchmarks (default: all)."""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = {
    "check": "bench.check_bench",
    "proxy": "bench.proxy_bench",
    "tui": "bench.tui_bench",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    status = 0
    for name in args.names or list(BENCHMARKS):
        module = importlib.import_module(BENCHMARKS[name])
        status |= module.main(quick=args.quick)
    return status


if __name__ == "__main__":
    sys.exit(main())
