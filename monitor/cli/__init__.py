"""The ``riskmon`` command line: one click group, one module per command family."""

from __future__ import annotations

import click

from ._import import import_group

# Sub-command modules add themselves to this group below.
main = click.Group(
    name="riskmon",
    help="Order Risk Monitor: risk rules over order, stock and logistics events.",
)
main.add_command(import_group)
