"""`python -m cli`: the `gaodedim` command line."""

import sys

from cli.main import main

sys.exit(main())
