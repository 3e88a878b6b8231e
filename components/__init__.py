"""Pulumi components of the LangGraph platform, one per file."""
