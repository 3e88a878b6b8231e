"""An S3-compatible endpoint the user already runs (MinIO/AIStor, Ceph RGW): nothing to deploy, only
where it is, which credentials to use, and which network the app's egress must reach."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi

from ..connections import Endpoint


@dataclass(frozen=True)
class ExternalParams:
    """The store's endpoint and credentials (config secrets `checkpoint_store_access_key_id` and
    `checkpoint_store_secret_access_key`); the bucket must exist there already."""

    endpoint: str
    """https URL of its S3 API."""
    region: str
    """Region name the store expects in request signatures."""
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]
    cidr: str | None = None
    """Network the store lives in, for the clients' egress; derived when the endpoint's host is an address."""

    def __post_init__(self) -> None:
        if urlsplit(self.endpoint).scheme != "https":
            raise ValueError(f"checkpoints.external_endpoint {self.endpoint!r}: the credentials travel with every "
                             "request, so the endpoint must be https")


def port(endpoint: str) -> int:
    """The TCP port of `endpoint` (443 unless the URL names one)."""
    return urlsplit(endpoint).port or 443


def store_cidr(params: ExternalParams) -> str | None:
    """The network to open egress to: the one given, else the endpoint's own address as a /32 (or /128)."""
    if params.cidr:
        return params.cidr
    try:
        address = ipaddress.ip_address(urlsplit(params.endpoint).hostname or "")
    except ValueError:
        return None  # a host name: its addresses are not known here
    return str(ipaddress.ip_network(address))


def endpoints(params: ExternalParams) -> tuple[Endpoint, ...]:
    """Where clients connect; empty when the store's network is unknown (the component warns)."""
    cidr = store_cidr(params)
    return (Endpoint("object-store", (port(params.endpoint),), cidr=cidr),) if cidr else ()
