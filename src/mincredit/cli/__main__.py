"""``python -m mincredit.cli``: the command line."""

from mincredit.cli import main

raise SystemExit(main())
