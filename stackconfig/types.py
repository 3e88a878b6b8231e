"""Building blocks of the config model: the strict `Section` base and constrained value types.

Sections validate in pydantic's strict JSON mode (`validate` hands them JSON): a boolean is never
a number, `3.0` is not an integer, infinities and NaN are refused. Every integer carries an upper
bound no larger than Kubernetes' int32 so that nothing changes on its way through the engine
(Pulumi's wire format carries numbers as doubles: integers above 2^53 would be rounded). Patterns
use `[0-9]`, never `\\d` (which matches any Unicode digit), and are matched against the whole value.
"""

from __future__ import annotations

import ipaddress
import re
from types import UnionType
from typing import Annotated, Union, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo

from .quantity import parse_quantity

INT32_MAX = 2**31 - 1

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
HOSTNAME = r"^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
AWS_ACCOUNT = r"^[0-9]{12}$"


class FieldProblem(ValueError):
    """Raised by cross-field validators so the error names the one field at fault."""

    def __init__(self, field: str, value: object, message: str):
        super().__init__(message)
        self.field, self.value, self.message = field, value, message


class Section(BaseModel):
    """A config section: strict types, unknown keys refused, immutable, each field documented by the
    docstring under it (read by `stackconfig.reference` for the README).

    Validators are built when first used (`defer_build`): a plan validates the whole config once,
    through `StackConfig`, so a section's own validator, which would repeat its part of that
    one, is never built."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, defer_build=True)


def number_field(info: FieldInfo) -> tuple[type, dict[str, float]] | None:
    """A numeric field's type (int or float) and bounds (`ge`, `gt`, `le`, `lt`), through `| None`
    and `Annotated`; None for other fields."""
    annotation, metadata = info.annotation, list(info.metadata)
    if get_origin(annotation) in (Union, UnionType):  # `Int(1, 10) | None`: the bounds are inside
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = members[0] if len(members) == 1 else None
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata += [item for extra_item in extra for item in getattr(extra_item, "metadata", [extra_item])]
    if annotation not in (int, float):
        return None
    return annotation, {name: getattr(item, name) for item in metadata for name in ("ge", "gt", "le", "lt")
                        if getattr(item, name, None) is not None}


def Int(ge: int, le: int = INT32_MAX):  # noqa: N802 - reads as a type in annotations
    """An integer in [ge, le]; `le` may not exceed int32."""
    if le > INT32_MAX:
        raise ValueError("integer fields are bounded by int32")
    return Annotated[int, Field(ge=ge, le=le)]


def _quantity(value: str) -> str:
    if parse_quantity(value) <= 0:
        raise ValueError(f"{value!r} must be greater than zero")
    return value


def _cidr(value: str) -> str:
    if "/" not in value:
        raise ValueError(f"{value!r} has no prefix length; write a network such as 10.0.0.0/16")
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a network: {error}") from None
    return value


def _routable_cidr(value: str) -> str:
    if ipaddress.ip_network(_cidr(value)).prefixlen == 0:
        raise ValueError(f"{value!r} is every address; name the networks you mean")
    return value


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if (parts.scheme != "https" or not parts.hostname or parts.username or parts.password
            or re.search(r"\s", value, re.ASCII) or not value.isascii()):
        raise ValueError(f"{value!r} is not an https URL (https://host/path, no credentials)")
    return value


Quantity = Annotated[str, AfterValidator(_quantity)]
"""A positive Kubernetes resource quantity (500m, 2Gi)."""
Cidr = Annotated[str, AfterValidator(_cidr)]
"""An IPv4 or IPv6 network with its prefix length (10.0.0.0/16)."""
RoutableCidr = Annotated[str, AfterValidator(_routable_cidr)]
"""A network narrower than everything (not 0.0.0.0/0 or ::/0)."""
HttpsUrl = Annotated[str, AfterValidator(_https_url)]
"""An https URL without credentials."""
DnsLabel = Annotated[str, Field(pattern=DNS_LABEL)]
"""A Kubernetes object or namespace name (RFC 1123 label)."""
Duration = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,5}(s|m|h|d|w|y)$")]
"""A positive Prometheus duration with one unit (30s, 15d)."""
Seconds = Int(1, 86_400 * 7)
"""A positive number of seconds, at most a week."""
