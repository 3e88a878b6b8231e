"""An empty Pulumi program: the benchmark's baseline under the same mock engine."""

import pulumi  # noqa: F401  (a real program imports the SDK; nothing is registered)
