"""One module per config section: its classes, its per-environment defaults, its cross-checks.

Each module names its top-level key (`KEY`), its model (`MODEL`), its defaults
(`DEFAULTS`: "common" and per environment, merged under the stack file's values) and may define
`cross_checks(config)`, which sees the whole validated stack and yields (key, value, message).
"""

from . import app, aws, capacity, checkpoints, edge, kubernetes, logging, monitoring, operations, postgres, redis, tracing

SECTIONS = (kubernetes, aws, app, capacity, edge, postgres, redis, checkpoints, monitoring, logging, tracing, operations)
