"""``python -m ocppscope``: the same command as ``ocppscope``."""

import sys

from ocppscope.proxy.cli import main

sys.exit(main())
