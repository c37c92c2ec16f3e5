"""``python -m aekit``: the command line."""

from aekit.cli.main import main

raise SystemExit(main())
