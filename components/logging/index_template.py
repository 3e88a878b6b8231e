"""The ILM policy and the index template of the daily `langgraph-YYYY.MM.dd` indices (pure builders).

The app's fields and their types come from the reference app's log contract
(`reference_app/refapp/log_fields.py`): the template is generated from it, so a field the app
starts writing is mapped the day its contract says so. Beside them the template maps what the
pipeline adds to every document: Fluent Bit's `@timestamp` (the line's own `timestamp`, parsed),
the container's `stream`, the raw `log` of a line that was not JSON, and the Kubernetes filter's
`kubernetes` object.

`dynamic: false` at the top: a field that nobody declared is kept in `_source` (nothing is lost,
the document is not refused as with `strict`) but not indexed, so a noisy library cannot grow the
mapping until the index hits its field limit.
"""

from __future__ import annotations

from reference_app.refapp.log_fields import LOG_FIELDS

INDEX_PREFIX = "langgraph"
INDEX_PATTERN = f"{INDEX_PREFIX}-*"
POLICY_NAME = "langgraph-logs"
TEMPLATE_NAME = "langgraph-logs"
# Above the built-in `logs-*-*` template (priority 100) would not matter (other pattern), but a
# positive priority keeps ours ahead of any catch-all template an operator adds later.
TEMPLATE_PRIORITY = 200
ELASTICSEARCH_TYPES = frozenset({"keyword", "text", "date", "float", "long", "boolean"})

# What Fluent Bit's tail input (CRI parser) and Kubernetes filter add, with their types. Labels are
# `flattened`: their keys differ per pod and would otherwise each become a mapped field.
PIPELINE_FIELDS: dict[str, dict] = {
    "@timestamp": {"type": "date"},
    "stream": {"type": "keyword"},
    "log": {"type": "text"},
    "kubernetes": {"properties": {
        "pod_name": {"type": "keyword"},
        "namespace_name": {"type": "keyword"},
        "pod_id": {"type": "keyword"},
        "host": {"type": "keyword"},
        "container_name": {"type": "keyword"},
        "docker_id": {"type": "keyword"},
        "container_hash": {"type": "keyword"},
        "container_image": {"type": "keyword"},
        "labels": {"type": "flattened"},
    }},
}


def app_mappings(fields: dict[str, str] = LOG_FIELDS) -> dict[str, dict]:
    """The app's fields as mapping properties; refuses a type outside what the contract allows."""
    unknown = {name: kind for name, kind in fields.items() if kind not in ELASTICSEARCH_TYPES}
    if unknown:
        raise ValueError(f"log fields with types the template does not map: {unknown}")
    clash = set(fields) & set(PIPELINE_FIELDS)
    if clash:
        raise ValueError(f"log fields {sorted(clash)} collide with fields the pipeline adds")
    properties = {}
    for name, kind in fields.items():
        if kind == "keyword":
            # A value longer than this is kept in _source but not indexed (Lucene's term limit is 32 KiB).
            properties[name] = {"type": "keyword", "ignore_above": 1024}
        else:
            properties[name] = {"type": kind}
    return properties


def ilm_policy(retention_days: int) -> dict:
    """Body of `PUT _ilm/policy/<POLICY_NAME>`: delete an index `retention_days` after its creation.

    No rollover: the index name already changes every day, so each index ages out on its own."""
    if retention_days < 1:
        raise ValueError(f"retention_days must be at least 1, not {retention_days}")
    return {"policy": {
        "_meta": {"managed_by": "langgraph-platform"},
        "phases": {
            "hot": {"min_age": "0ms", "actions": {}},
            "delete": {"min_age": f"{retention_days}d", "actions": {"delete": {}}},
        },
    }}


def index_template(replicas: int, fields: dict[str, str] = LOG_FIELDS) -> dict:
    """Body of `PUT _index_template/<TEMPLATE_NAME>` for the daily indices.

    One primary shard: a day of one platform's logs is far below a shard's useful size.
    `replicas` is 0 on a single node (a replica could never be placed and the index would stay yellow).
    """
    if replicas < 0:
        raise ValueError(f"replicas must be >= 0, not {replicas}")
    return {
        "index_patterns": [INDEX_PATTERN],
        "priority": TEMPLATE_PRIORITY,
        "_meta": {"managed_by": "langgraph-platform"},
        "template": {
            "settings": {
                "index.lifecycle.name": POLICY_NAME,
                "index.number_of_shards": 1,
                "index.number_of_replicas": replicas,
            },
            "mappings": {
                "dynamic": False,
                "properties": {**PIPELINE_FIELDS, **app_mappings(fields)},
            },
        },
    }
