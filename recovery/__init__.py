"""The auto-recovery service: Alertmanager webhooks in, bounded remediations out (see README.md)."""
