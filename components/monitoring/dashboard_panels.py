"""The few grafana-foundation-sdk building blocks every platform dashboard is made of.

Panels query Prometheus through a `datasource` template variable (kube-prometheus-stack
provisions the Prometheus datasource; the variable picks it up whatever its uid). Label
filters are template variables whose "All" value is the regex `.*`, so a query with every
variable at "All" is plain PromQL once `$name` is replaced by `.*` (see `substitute`).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

# The SDK marks the classic dashboard model deprecated in favour of dashboard v2, which is
# Grafana's Kubernetes-style API; file provisioning (what the sidecar feeds) loads the classic one.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import common as common_builders
    from grafana_foundation_sdk.builders import dashboard as dashboard_builders
    from grafana_foundation_sdk.builders import prometheus, stat, timeseries
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common
    from grafana_foundation_sdk.models import dashboard as dashboard_model

DATASOURCE_VARIABLE = "datasource"
PROMETHEUS = common.DataSourceRef(type_val="prometheus", uid=f"${{{DATASOURCE_VARIABLE}}}")
# The value of "All" in every label variable: `=~".*"` also matches series without the label,
# so a dashboard at "All" shows what a bare selector would.
ALL = ".*"
# Per-target panels group by both: `pod` names the target under a Service/PodMonitor,
# `instance` is the one label every scrape carries (static configs have no `pod`).
TARGET = "pod, instance"
TARGET_LEGEND = "{{pod}} {{instance}}"

Panel = timeseries.Panel | stat.Panel


@dataclass(frozen=True)
class Query:
    """One PromQL target of a panel and its legend."""

    expr: str
    legend: str


@dataclass(frozen=True)
class Threshold:
    """A value drawn on a panel, in red from there up: the matching alert's threshold."""

    value: float


def selector(*variables: str, **fixed: str) -> str:
    """A label selector: each variable as `name=~"$name"`, then fixed `name="value"` matchers."""
    matchers = [f'{name}=~"${name}"' for name in variables] + [f'{name}="{value}"' for name, value in fixed.items()]
    return "{" + ", ".join(matchers) + "}"


def _targets(queries: Sequence[Query]) -> list[prometheus.Dataquery]:
    return [prometheus.Dataquery().expr(query.expr).legend_format(query.legend).ref_id(chr(ord("A") + index))
            for index, query in enumerate(queries)]


def _thresholds(threshold: Threshold | None) -> dashboard_builders.ThresholdsConfig:
    steps = [dashboard_model.Threshold(value=None, color="green")]
    if threshold is not None:
        steps.append(dashboard_model.Threshold(value=threshold.value, color="red"))
    return dashboard_builders.ThresholdsConfig().mode(dashboard_model.ThresholdsMode.ABSOLUTE).steps(steps)


def timeseries_panel(title: str, description: str, queries: Sequence[Query], unit: str, *,
                     threshold: Threshold | None = None, width: int = 12, height: int = 8) -> timeseries.Panel:
    """A time series with a table legend (mean, max, last), one series per label set."""
    legend = (common_builders.VizLegendOptions().show_legend(True).display_mode(common.LegendDisplayMode.TABLE)
              .placement(common.LegendPlacement.BOTTOM).calcs(["mean", "max", "lastNotNull"]))
    panel = (timeseries.Panel().title(title).description(description).datasource(PROMETHEUS).unit(unit)
             .span(width).height(height).legend(legend).thresholds(_thresholds(threshold))
             .tooltip(common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI)
                      .sort(common.SortOrder.DESCENDING)))
    if threshold is not None:
        panel = panel.thresholds_style(common_builders.GraphThresholdsStyleConfig()
                                       .mode(common.GraphThresholdsStyleMode.LINE))
    for target in _targets(queries):
        panel = panel.with_target(target)
    return panel


def stat_panel(title: str, description: str, queries: Sequence[Query], unit: str, *,
               threshold: Threshold | None = None, width: int = 6, height: int = 8) -> stat.Panel:
    """A big number per series: the last value, coloured by the threshold."""
    panel = (stat.Panel().title(title).description(description).datasource(PROMETHEUS).unit(unit)
             .span(width).height(height).thresholds(_thresholds(threshold))
             .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)))
    for target in _targets(queries):
        panel = panel.with_target(target)
    return panel


def datasource_variable() -> dashboard_builders.DatasourceVariable:
    """The Prometheus datasource every panel queries."""
    return dashboard_builders.DatasourceVariable(DATASOURCE_VARIABLE).label("Prometheus").type("prometheus")


def label_variable(name: str, label: str, series: str) -> dashboard_builders.QueryVariable:
    """A multi-value filter on label `name`, its values read from `series`, "All" by default."""
    query = f"label_values({series}, {name})"
    return (dashboard_builders.QueryVariable(name).label(label).datasource(PROMETHEUS).query(query).definition(query)
            .multi(True).include_all(True).all_value(ALL)
            .current(dashboard_model.VariableOption(selected=True, text="All", value="$__all"))
            .refresh(dashboard_model.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dashboard_model.VariableSort.ALPHABETICAL_ASC))


@dataclass(frozen=True)
class Row:
    """A titled row of panels."""

    title: str
    panels: Sequence[Panel]


def render(uid: str, title: str, description: str, variables: Sequence[dashboard_builders.QueryVariable],
           rows: Sequence[Row]) -> dict:
    """The dashboard as Grafana's JSON model (a plain dict), panel ids numbered in order."""
    board = (dashboard_builders.Dashboard(title).uid(uid).description(description).tags(["langgraph"])
             .readonly().refresh("30s").time("now-3h", "now")
             .tooltip(dashboard_model.DashboardCursorSync.CROSSHAIR)
             .link(dashboard_builders.DashboardLink("LangGraph").type(dashboard_model.DashboardLinkType.DASHBOARDS)
                   .tags(["langgraph"]).as_dropdown(True).include_vars(True).keep_time(True))
             .with_variable(datasource_variable()))
    for variable in variables:
        board = board.with_variable(variable)
    panel_id = 0
    for row in rows:
        panel_id += 1
        board = board.with_row(dashboard_builders.Row(row.title).id(panel_id))
        for panel in row.panels:
            panel_id += 1
            board = board.with_panel(panel.id(panel_id))
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def substitute(expr: str, values: dict[str, str]) -> str:
    """`expr` with each `$name` / `${name}` replaced by `values[name]`; KeyError names an unknown one."""
    return _VARIABLE.sub(lambda match: values[match.group(1) or match.group(2)], expr)
