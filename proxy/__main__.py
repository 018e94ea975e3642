import sys

from ocppscope.proxy.cli import main

sys.exit(main())
