"""Fluent Bit's pipeline for the app's logs, rendered as the chart's classic-format sections (pure).

Classic format, not YAML: the fluent/fluent-bit chart's `config.inputs/filters/outputs/customParsers`
values are classic-format text that its own `[SERVICE]` section includes, and the same text runs
unchanged in the engine test (a real Fluent Bit reads it from a file).

The pipeline: tail the app namespace's container logs (CRI format) -> parse the `log` text as the
app's JSON line, the line's own `timestamp` becoming the record time -> add Kubernetes metadata ->
Elasticsearch, `Logstash_Format` naming the daily index `langgraph-YYYY.MM.dd` from that time
(the seed's Logstash output, without Logstash).
"""

from __future__ import annotations

from dataclasses import dataclass

from .index_template import INDEX_PREFIX

TAG = "kube"
PARSER_NAME = "langgraph_json"
# The app writes ISO 8601 UTC with microseconds (structlog's TimeStamper(fmt="iso", utc=True)).
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%L%z"
LOGSTASH_DATE_FORMAT = "%Y.%m.%d"


@dataclass(frozen=True)
class FluentBitPipeline:
    """Where the pipeline reads and writes; paths default to where the chart's pods mount them."""

    app_namespace: str
    """Only this namespace's container logs are collected."""
    es_host: str
    es_user: str
    es_password_env: str
    """Environment variable holding the password (Fluent Bit expands `${VAR}` in its config)."""
    es_ca_file: str
    es_port: int = 9200
    log_dir: str = "/var/log/containers"
    db_file: str | None = "/var/fluent-bit/state/tail.db"
    """Offsets of the tailed files, on the node, so a restarted pod neither loses nor repeats lines."""
    kube_url: str = "https://kubernetes.default.svc:443"
    kube_meta_preload_cache_dir: str | None = None
    """Pod metadata read from files instead of the API server (the engine test has no API server)."""

    @property
    def tag_prefix(self) -> str:
        """The tail input's tag of a file: `kube.` + its path with `/` as `.`; the filter strips this prefix."""
        return f"{TAG}.{self.log_dir.strip('/').replace('/', '.')}."


def section(kind: str, entries: list[tuple[str, object]]) -> str:
    """One classic-format section: `[KIND]` and its `key value` lines, keys aligned."""
    width = max(len(key) for key, _ in entries)
    lines = [f"[{kind}]"]
    for key, value in entries:
        text = ("On" if value else "Off") if isinstance(value, bool) else str(value)
        if not text or "\n" in text:
            raise ValueError(f"[{kind}] {key}: a value must be one non-empty line, not {text!r}")
        lines.append(f"    {key.ljust(width)} {text}")
    return "\n".join(lines) + "\n"


def inputs(p: FluentBitPipeline) -> str:
    entries: list[tuple[str, object]] = [
        ("Name", "tail"),
        ("Tag", f"{TAG}.*"),
        # kubelet names the files <pod>_<namespace>_<container>-<container id>.log
        ("Path", f"{p.log_dir}/*_{p.app_namespace}_*.log"),
        ("multiline.parser", "cri"),
        # A new node's (or a first install's) existing lines are shipped too; the DB then keeps the place.
        ("Read_from_Head", True),
        ("Refresh_Interval", 5),
        ("Skip_Long_Lines", True),
        # Backpressure: tailing pauses while this much waits for Elasticsearch, instead of growing memory.
        ("Mem_Buf_Limit", "16MB"),
    ]
    if p.db_file:
        entries.append(("DB", p.db_file))
    return section("INPUT", entries)


def filters(p: FluentBitPipeline) -> str:
    parse = section("FILTER", [
        ("Name", "parser"),
        ("Match", f"{TAG}.*"),
        ("Key_Name", "log"),
        ("Parser", PARSER_NAME),
        # Keep the CRI fields (stream) beside the app's; a line that is not JSON keeps its raw `log`.
        ("Reserve_Data", True),
    ])
    kubernetes = [
        ("Name", "kubernetes"),
        ("Match", f"{TAG}.*"),
        ("Kube_URL", p.kube_url),
        ("Kube_Tag_Prefix", p.tag_prefix),
        # The parser filter above already turned the line into fields.
        ("Merge_Log", False),
        # Pods must not pick their own parser or drop their logs through annotations.
        ("K8S-Logging.Parser", False),
        ("K8S-Logging.Exclude", False),
        ("Labels", True),
        ("Annotations", False),
    ]
    if p.kube_meta_preload_cache_dir:
        kubernetes.append(("Kube_Meta_Preload_Cache_Dir", p.kube_meta_preload_cache_dir))
    # The CRI parser's partial-line flag (multiline.parser cri has joined partial lines already) and
    # its `time` text (already the record time, so @timestamp): neither is worth indexing.
    drop = section("FILTER", [("Name", "modify"), ("Match", f"{TAG}.*"), ("Remove", "_p"), ("Remove", "time")])
    return parse + section("FILTER", kubernetes) + drop


def outputs(p: FluentBitPipeline) -> str:
    return section("OUTPUT", [
        ("Name", "es"),
        ("Match", f"{TAG}.*"),
        ("Host", p.es_host),
        ("Port", p.es_port),
        ("HTTP_User", p.es_user),
        ("HTTP_Passwd", f"${{{p.es_password_env}}}"),
        ("tls", True),
        ("tls.verify", True),
        ("tls.ca_file", p.es_ca_file),
        ("Logstash_Format", True),
        ("Logstash_Prefix", INDEX_PREFIX),
        ("Logstash_DateFormat", LOGSTASH_DATE_FORMAT),
        # Elasticsearch 8+ has no mapping types; without this every bulk request is refused.
        ("Suppress_Type_Name", True),
        # Label keys such as app.kubernetes.io/name would otherwise become nested objects.
        ("Replace_Dots", True),
        # Keep retrying while Elasticsearch is away (tail pauses at Mem_Buf_Limit) rather than dropping.
        ("Retry_Limit", "no_limits"),
        ("Trace_Error", True),
    ])


def custom_parsers() -> str:
    return section("PARSER", [
        ("Name", PARSER_NAME),
        ("Format", "json"),
        ("Time_Key", "timestamp"),
        ("Time_Format", TIME_FORMAT),
        # The app's `timestamp` stays a field (the template maps it) besides becoming @timestamp.
        ("Time_Keep", True),
    ])


def pipeline_config(p: FluentBitPipeline) -> dict[str, str]:
    """The chart's `config` keys this pipeline sets (its `service` section stays the chart's)."""
    return {"inputs": inputs(p), "filters": filters(p), "outputs": outputs(p), "customParsers": custom_parsers()}


def standalone_config(p: FluentBitPipeline, parsers_file: str, flush_seconds: int = 1) -> str:
    """The pipeline as one main config file for a Fluent Bit process outside the chart (the
    engine test), with a `[SERVICE]` section equivalent to the chart's minus its HTTP server."""
    service = section("SERVICE", [("Flush", flush_seconds), ("Daemon", False), ("Log_Level", "info"),
                                  ("Parsers_File", parsers_file)])
    return service + inputs(p) + filters(p) + outputs(p)
