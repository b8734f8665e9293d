"""``python -m mincredit``: the command line."""

from mincredit.cli import main

raise SystemExit(main())
