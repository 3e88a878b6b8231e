"""The reference LangGraph app: real graphs served over HTTP, checkpointed to PostgreSQL, with the
seed's Prometheus metrics, JSON logs and OTLP traces. Run it with `python -m refapp`.

Kept import-free: the Pulumi program imports `log_fields` without the app's dependencies.
"""
