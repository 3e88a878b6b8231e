"""`logging`: Fluent Bit -> Elasticsearch (ECK) + Kibana, daily `langgraph-YYYY.MM.dd` indices."""

from __future__ import annotations

from ..types import DnsLabel, Int, Quantity, Section

KEY = "logging"


class LoggingConfig(Section):
    enabled: bool = True
    """Deploy Fluent Bit -> Elasticsearch (ECK) + Kibana."""
    namespace: DnsLabel = "logging"
    """Namespace of Elasticsearch, Kibana and Fluent Bit."""
    elasticsearch_nodes: Int(1, 15)
    """Elasticsearch nodes (prod floor: 3)."""
    storage_size: Quantity
    """Volume per Elasticsearch node."""
    memory: Quantity
    """Memory per Elasticsearch node (the JVM heap is half of it)."""
    retention_days: Int(1, 3650)
    """Days the daily langgraph-YYYY.MM.dd indices are kept (ILM delete phase)."""


MODEL = LoggingConfig
DEFAULTS: dict[str, dict] = {
    "dev": {"elasticsearch_nodes": 1, "storage_size": "5Gi", "memory": "2Gi", "retention_days": 3},
    "prod": {"elasticsearch_nodes": 3, "storage_size": "100Gi", "memory": "4Gi", "retention_days": 30},
}
