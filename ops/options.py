"""Options every subcommand shares (where the stack outputs come from, URL overrides, Kubernetes
access, --json) and the context a subcommand receives."""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Callable

import click
from rich.console import Console

from .outputs import URL_KEYS, OutputsError, StackOutputs
from .report import Report

if TYPE_CHECKING:
    from .kube import Kube

PORT_FORWARD_NOTE = """\b
Stack outputs: `pulumi stack output --json --show-secrets | python -m ops ...`, or --outputs FILE.
In-cluster services (Prometheus, PostgreSQL, Redis, Sentinels) are reachable from a laptop only
through port-forwards, e.g. `kubectl -n monitoring port-forward svc/prometheus-operated 9090`; then
point the CLI at them: --prometheus-url http://localhost:9090, or keep a URL's credentials and change
only its host: --via database_url=localhost:15432, --sentinel localhost:26379 (repeat per Sentinel).

\b
Exit codes: 0 all OK, 1 a WARN, 2 a FAIL, 3 usage or configuration error."""


@dataclass
class OpsContext:
    """What a subcommand works with."""

    outputs: StackOutputs
    as_json: bool
    kubeconfig: str | None
    kube_context: str | None
    console: Console
    """The report's console (stdout)."""
    progress: Console
    """Progress bars and notes (stderr, so that --json output stays clean)."""

    @cached_property
    def kube(self) -> Kube:
        # Imported on first use: the Kubernetes client costs half a second to import.
        from .kube import Kube

        return Kube(self.kubeconfig, self.kube_context)

    def finish(self, report: Report) -> int:
        report.render(self.console, self.as_json)
        return report.exit_code


def _load(path: str | None, overrides: bool) -> StackOutputs:
    if path in (None, "-"):
        if path is None and sys.stdin.isatty():
            if overrides:
                # Nothing piped in and URLs given: run on those alone (e.g. `ops bench --app-url ...`).
                return StackOutputs.from_json("{}")
            raise click.UsageError("no stack outputs: pipe `pulumi stack output --json --show-secrets` in, "
                                   "pass --outputs FILE, or give the URLs the command needs (--app-url ...)")
        text = sys.stdin.read()
    else:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise click.UsageError(f"--outputs {path}: {error.strerror}") from None
    return StackOutputs.from_json(text)


def _key_value(values: tuple[str, ...], option: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep:
            raise click.UsageError(f"{option} {value!r}: expected KEY=HOST:PORT")
        pairs[key] = rest
    return pairs


def stack_command(name: str, help_text: str) -> Callable[[Callable[..., int]], click.Command]:
    """Make `func(ctx: OpsContext, **options) -> exit code` a subcommand with the shared options."""

    def decorate(func: Callable[..., int]) -> click.Command:
        @functools.wraps(func)
        def run(outputs_path: str | None, as_json: bool, via: tuple[str, ...], sentinel: tuple[str, ...],
                kubeconfig: str | None, kube_context: str | None, **options) -> int:
            urls = {key: options.pop(key) for key in URL_KEYS}
            try:
                outputs = _load(outputs_path, any(urls.values()) or bool(sentinel)).overridden(urls, _key_value(via, "--via"), sentinel)
            except OutputsError as error:
                raise click.UsageError(str(error)) from None
            width = None if sys.stdout.isatty() else 160
            ctx = OpsContext(outputs, as_json, kubeconfig, kube_context, Console(width=width, soft_wrap=False),
                             Console(stderr=True, log_path=False))
            return func(ctx, **options)

        params = [
            click.Option(["--outputs", "outputs_path"], metavar="FILE",
                         help="Stack outputs JSON (`-` or omitted: read stdin)."),
            click.Option(["--json", "as_json"], is_flag=True, help="Print the report as JSON."),
            *(click.Option([f"--{key.replace('_', '-')}", key], metavar="URL",
                           help=f"Replace the stack's {key}.") for key in URL_KEYS),
            click.Option(["--via"], multiple=True, metavar="KEY=HOST:PORT",
                         help="Keep URL output KEY's credentials, connect to HOST:PORT (a port-forward)."),
            click.Option(["--sentinel"], multiple=True, metavar="HOST:PORT",
                         help="Replace the stack's redis_sentinels (repeat)."),
            click.Option(["--kubeconfig"], metavar="FILE", help="kubeconfig (default: $KUBECONFIG, ~/.kube/config, "
                                                                 "or the pod's service account)."),
            click.Option(["--context", "kube_context"], metavar="NAME", help="kubeconfig context."),
        ]
        command = click.command(name, help=help_text, epilog=PORT_FORWARD_NOTE)(run)
        command.params[:0] = params
        return command

    return decorate
