"""``python -m langgames``: the same command line as ``langgames``."""

from langgames.cli import main

raise SystemExit(main())
