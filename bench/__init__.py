"""Benchmarks: ``make bench`` or ``python -m bench [NAME ...]``. Each prints ratios against a baseline measured in
the same run, so the figures compare across machines."""
