"""Image reference rules shared by the stack config and the policy pack (no dependencies)."""

from __future__ import annotations

import re

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_is_pinned(image: str) -> bool:
    """True for `repo@sha256:...` or `repo:tag` with a tag other than latest."""
    if _DIGEST.search(image):
        return True
    name = image.rsplit("/", 1)[-1]
    return ":" in name and name.rsplit(":", 1)[1] not in ("", "latest")
