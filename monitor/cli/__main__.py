"""``python -m monitor.cli``: the same as the ``riskmon`` command."""

from . import main

main()
