"""The pack's policies, importable without the Pulumi CLI; `catalog.POLICIES` lists them all.

Kept free of imports so that `rules.images` serves the stack config without pulling in pulumi_policy.
"""
