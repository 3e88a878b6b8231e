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
# Panels and queries are built from the SDK's models: its panel and query builders also load the
# dashboard v2 models, which a plan would pay for (about 0.017 s) and never use.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from grafana_foundation_sdk.builders import dashboard as dashboard_builders
    from grafana_foundation_sdk.cog import builder as cogbuilder
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common, prometheus, stat, timeseries
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

Panel = dashboard_model.Panel


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
    return [prometheus.Dataquery(expr=query.expr, legend_format=query.legend, ref_id=chr(ord("A") + index))
            for index, query in enumerate(queries)]


def _panel(kind: str, options: object, title: str, description: str, queries: Sequence[Query],
           field: dashboard_model.FieldConfig, width: int, height: int) -> Panel:
    if not (0 < width <= 24 and height > 0):
        raise ValueError(f"panel {title!r}: width must be 1-24 and height positive, not {width}x{height}")
    return dashboard_model.Panel(type_val=kind, title=title, description=description, datasource=PROMETHEUS,
                                 grid_pos=dashboard_model.GridPos(h=height, w=width), options=options,
                                 field_config=dashboard_model.FieldConfigSource(defaults=field),
                                 targets=_targets(queries))


def _thresholds(threshold: Threshold | None) -> dashboard_model.ThresholdsConfig:
    steps = [dashboard_model.Threshold(value=None, color="green")]
    if threshold is not None:
        steps.append(dashboard_model.Threshold(value=threshold.value, color="red"))
    return dashboard_model.ThresholdsConfig(mode=dashboard_model.ThresholdsMode.ABSOLUTE, steps=steps)


def timeseries_panel(title: str, description: str, queries: Sequence[Query], unit: str, *,
                     threshold: Threshold | None = None, width: int = 12, height: int = 8) -> Panel:
    """A time series with a table legend (mean, max, last), one series per label set."""
    options = timeseries.Options(
        legend=common.VizLegendOptions(show_legend=True, display_mode=common.LegendDisplayMode.TABLE,
                                       placement=common.LegendPlacement.BOTTOM, calcs=["mean", "max", "lastNotNull"]),
        tooltip=common.VizTooltipOptions(mode=common.TooltipDisplayMode.MULTI, sort=common.SortOrder.DESCENDING))
    custom = timeseries.FieldConfig()
    if threshold is not None:
        custom.thresholds_style = common.GraphThresholdsStyleConfig(mode=common.GraphThresholdsStyleMode.LINE)
    field = dashboard_model.FieldConfig(unit=unit, thresholds=_thresholds(threshold), custom=custom)
    return _panel("timeseries", options, title, description, queries, field, width, height)


def stat_panel(title: str, description: str, queries: Sequence[Query], unit: str, *,
               threshold: Threshold | None = None, width: int = 6, height: int = 8) -> Panel:
    """A big number per series: the last value, coloured by the threshold."""
    options = stat.Options(reduce_options=common.ReduceDataOptions(calcs=["lastNotNull"], values=False))
    field = dashboard_model.FieldConfig(unit=unit, thresholds=_thresholds(threshold))
    return _panel("stat", options, title, description, queries, field, width, height)


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
            panel.id_val = panel_id
            board = board.with_panel(_Built(panel))
    return json.loads(json.dumps(board.build(), cls=JSONEncoder))


class _Built(cogbuilder.Builder[Panel]):
    """A panel made from the models, as the dashboard builder takes it (it lays panels out)."""

    def __init__(self, panel: Panel):
        self.panel = panel

    def build(self) -> Panel:
        return self.panel


_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def substitute(expr: str, values: dict[str, str]) -> str:
    """`expr` with each `$name` / `${name}` replaced by `values[name]`; KeyError names an unknown one."""
    return _VARIABLE.sub(lambda match: values[match.group(1) or match.group(2)], expr)
