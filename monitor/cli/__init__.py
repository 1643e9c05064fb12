"""The ``riskmon`` command line: one click group, one module per command family."""

from __future__ import annotations

from typing import Any

import click

from rules import RuleError

from .._errors import RiskMonitorError
from ._commands import rules_group, run_command, tickets_group
from ._demo import demo_command
from ._import import import_group
from ._report import report_group
from ._ticket_work import TICKET_WORK
from ._worker import produce_command, worker_command


class _Main(click.Group):
    """The root group: our own errors become a one-line message and exit status 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), "alerts"])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "alerts":
            from alerts.cli import alerts_group  # alerts imports monitor, never the reverse

            return alerts_group
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (RiskMonitorError, RuleError) as error:
            raise click.ClickException(str(error)) from None


main = _Main(
    name="riskmon",
    help="Order Risk Monitor: risk rules over order, stock and logistics events.",
)
for command in (
    import_group,
    run_command,
    tickets_group,
    rules_group,
    demo_command,
    report_group,
    worker_command,
    produce_command,
):
    main.add_command(command)
for command in TICKET_WORK:
    tickets_group.add_command(command)
