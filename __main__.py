"""The LangGraph production platform: one environment per Pulumi stack."""

import pulumi

from components.platform import LangGraphPlatform, LangGraphPlatformArgs
from stackconfig.from_pulumi import read_settings

# Validation runs first: a bad config stops the program before any resource is registered.
settings, secrets = read_settings()
platform = LangGraphPlatform(f"langgraph-{settings.stack}", LangGraphPlatformArgs(settings, secrets))
for key, value in platform.outputs.items():
    pulumi.export(key, value)
