"""The restore drill: restore the latest backup into a scratch copy, prove it with LangGraph, tear it down."""
