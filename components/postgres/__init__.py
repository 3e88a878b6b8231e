"""PostgreSQL for LangGraph's checkpoints: the checkpoint retention job (SQL and its Kubernetes objects)."""
