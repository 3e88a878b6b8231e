"""Monitoring: dashboards, datasources, alert rules and routing for the kube-prometheus-stack."""
