"""`capacity`: the seed's capacity model inputs; `stackconfig.capacity` turns them into pod counts."""

from __future__ import annotations

from pydantic import Field

from ..types import Int, Section

KEY = "capacity"


class CapacityConfig(Section):
    target_rps: float = Field(gt=0, le=1_000_000)
    """Target graph executions started per second at normal load."""
    avg_execution_seconds: float = Field(gt=0, le=86_400)
    """Average seconds one graph execution runs."""
    peak_factor: float = Field(2.0, ge=1, le=100)
    """Peak load over normal load (seed: 2.0)."""
    safety_margin: float = Field(0.3, ge=0, le=10)
    """Head-room on top of the peak (seed: 0.3 = 30 %)."""
    per_instance_concurrency: Int(1, 10_000) = 50
    """Concurrent executions one pod runs (seed: 50): the server's N_JOBS_PER_WORKER and the seed's MAX_CONCURRENT_EXECUTIONS. Measure it with the load benchmark."""
    api_rps_per_instance: Int(1, 100_000) = 50
    """Requests per second one API pod serves when queue workers run the jobs (sizes the API tier apart from the workers)."""
    min_instances: Int(1, 1000)
    """Floor of each tier's instance count (seed: 3 in prod)."""


MODEL = CapacityConfig
DEFAULTS: dict[str, dict] = {
    "dev": {"target_rps": 1, "avg_execution_seconds": 2.0, "min_instances": 1},
    "prod": {"min_instances": 3},
}
