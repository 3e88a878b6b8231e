"""Logs: Fluent Bit -> Elasticsearch (ECK) + Kibana, daily `langgraph-YYYY.MM.dd` indices kept by ILM."""

from .component import ElasticsearchAccess, Logging
from .eck_manifests import LoggingSpec

__all__ = ["ElasticsearchAccess", "Logging", "LoggingSpec"]
