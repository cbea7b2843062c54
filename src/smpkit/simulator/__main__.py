"""`python -m smpkit.simulator ARGS` runs the same command as `smpkit simulate ARGS`."""

import sys

from smpkit.cli.simulate import main

sys.exit(main())
