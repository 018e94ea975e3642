"""The live replay as ``ocppscope replay`` loads it: ``add_replay_arguments(parser)`` and ``run(args)``.

``proxy/commands/replay.py`` (the terminal UI's replay) imports this module and hands over when ``--target``
is given; the work is in :mod:`proxy.replay.cli`.
"""

from __future__ import annotations

import argparse

from ocppscope.proxy.replay.cli import add_live_replay_arguments, run_live_replay


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    add_live_replay_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return run_live_replay(args.inputs, args)
