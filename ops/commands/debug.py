"""`python -m ops debug`"""

from __future__ import annotations

import re

import click

from ..options import OpsContext, stack_command


def _regexes(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        try:
            re.compile(value)
        except re.error as error:
            raise click.BadParameter(f"{value!r} is not a regular expression: {error}") from None
    return values


@click.argument("thread_id")
@click.option("--graph", "graph_spec", metavar="MODULE:ATTR",
              help="Take the graph structure from this graph (compiled, a StateGraph, or a factory of one) "
                   "instead of the checkpoints; it must be importable here.")
@click.option("--redact-key", multiple=True, callback=_regexes, metavar="REGEX",
              help="Also mask values under keys matching this (repeat). Credential-like keys are always masked.")
@click.option("--redact-pattern", multiple=True, callback=_regexes, metavar="REGEX",
              help="Also mask text matching this in any value (repeat). URL user-info, bearer tokens and AWS "
                   "access key ids are always masked.")
@click.option("--limit", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Read at most this many of the thread's newest checkpoints (all namespaces).")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the JSON report here too.")
def _debug(ctx: OpsContext, thread_id: str, graph_spec: str | None, redact_key: tuple[str, ...],
           redact_pattern: tuple[str, ...], limit: int, out: str | None) -> int:
    # Imported here: --help stays fast without LangGraph and psycopg.
    from ..debug import Redactor, run

    return run(ctx, thread_id, graph_spec, Redactor(redact_key, redact_pattern), limit, out)


command = stack_command("debug", """Debug report of one thread, from its checkpoints in PostgreSQL (database_url).

The seed's LangGraphDebugger report without touching the app: graph structure, execution trace
(node, timing from checkpoint timestamps, status), performance per node, state evolution between
checkpoints, interrupts and their resume values, errors (type and message) and retries (a failed
node run again on the thread). Read through langgraph-checkpoint-postgres in one read-only
transaction. Secrets are masked everywhere: keys that name credentials, URL user-info, bearer
tokens, AWS key ids, and --redact-key / --redact-pattern. Exit 0: the thread finished; 1: it
waits on an interrupt or has tasks pending; 2: its last step failed, or no such thread.""")(_debug)
