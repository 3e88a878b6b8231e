"""Labels of the restore drill's pods and copies (no dependencies: the Pulumi program imports them too)."""

DRILL_LABELS = {"app.kubernetes.io/name": "langgraph-restore-drill", "app.kubernetes.io/part-of": "langgraph"}
