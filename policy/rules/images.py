"""Image reference rules shared by the stack config and the policy pack (no dependencies).

The grammar is the distribution reference grammar: an optional registry host (with a dot, a
port or `localhost`), lowercase path components, an optional tag and an optional digest whose
hex length matches its algorithm. A malformed digest (`@sha256:abc`) is not a pin.
"""

from __future__ import annotations

import re

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?"
_REFERENCE = re.compile(
    rf"(?:(?P<host>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<algorithm>sha256|sha512):(?P<hex>[0-9a-f]+))?",
    re.ASCII,
)
_DIGEST_LENGTH = {"sha256": 64, "sha512": 128}


def _parts(image: str) -> re.Match | None:
    if not isinstance(image, str) or len(image) > 512:
        return None
    match = _REFERENCE.fullmatch(image)
    if match is None:
        return None
    host = match["host"]
    # A first component without a dot or port (and not localhost) is a path, not a registry:
    # `library/app` is fine, but then it must be lowercase like any path.
    if host is not None and "." not in host and ":" not in host and host != "localhost":
        if not re.fullmatch(_COMPONENT, host, re.ASCII):
            return None
    if match["algorithm"] and len(match["hex"]) != _DIGEST_LENGTH[match["algorithm"]]:
        return None
    return match


def image_problem(image: str) -> str | None:
    """Why `image` is not a valid reference, or None when it is."""
    if _parts(image) is None:
        return ("is not an image reference: [registry[:port]/]lowercase/path[:tag][@sha256:<64 hex>] "
                "(a digest must be complete, the path lowercase)")
    return None


def image_is_pinned(image: str) -> bool:
    """True for a valid reference with a complete digest, or a tag other than latest."""
    match = _parts(image)
    if match is None:
        return False
    return bool(match["algorithm"]) or (match["tag"] is not None and match["tag"] != "latest")
