"""The load balancer's health (the app's health path through the public URL) and the days left on
the certificate it serves, as a client sees them."""

from __future__ import annotations

import socket
import ssl
import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from ..prom import THRESHOLDS
from ..report import Check, Status
from ..runbooks import RUNBOOKS

if TYPE_CHECKING:
    from ..doctor import Doctor


def _tls_context(doctor: Doctor) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=doctor.settings.ca_file)


def load_balancer(doctor: Doctor) -> list[Check]:
    url = doctor.outputs.require("app_url").rstrip("/") + doctor.settings.health_path
    began = time.monotonic()
    try:
        response = httpx.get(url, verify=_tls_context(doctor), timeout=doctor.settings.timeout)
    except httpx.HTTPError as error:
        return [Check("load-balancer", Status.FAIL, "unreachable", f"GET {url}: {error}", RUNBOOKS["load-balancer"])]
    millis = (time.monotonic() - began) * 1000
    value = f"HTTP {response.status_code} in {millis:.0f} ms"
    data = {"status_code": response.status_code, "milliseconds": round(millis, 1)}
    if response.status_code != 200:
        return [Check("load-balancer", Status.FAIL, value, f"GET {url}", RUNBOOKS["load-balancer"], data)]
    return [Check("load-balancer", Status.OK, value, f"GET {url}", None, data)]


def certificate(doctor: Doctor) -> list[Check]:
    parts = urlsplit(doctor.outputs.require("app_url"))
    if parts.scheme != "https":
        return [Check("certificate", Status.WARN, "no TLS", f"app_url is {parts.scheme}://", RUNBOOKS["certificate"])]
    host, port = parts.hostname, parts.port or 443
    try:
        with socket.create_connection((host, port), timeout=doctor.settings.timeout) as raw, \
                _tls_context(doctor).wrap_socket(raw, server_hostname=host) as tls:
            certificate = tls.getpeercert()
    except ssl.SSLCertVerificationError as error:
        # An expired, wrongly named or untrusted certificate fails every client: say why.
        return [Check("certificate", Status.FAIL, "invalid", f"{host}:{port}: {error.verify_message}",
                      RUNBOOKS["certificate"])]
    except OSError as error:
        return [Check("certificate", Status.FAIL, "unreachable", f"{host}:{port}: {error}", RUNBOOKS["certificate"])]
    days = (ssl.cert_time_to_seconds(certificate["notAfter"]) - time.time()) / 86400
    value = f"{days:.1f} days left"
    data = {"days_left": round(days, 2), "not_after": certificate["notAfter"]}
    detail = f"{host}: expires {certificate['notAfter']}"
    if days < THRESHOLDS.certificate_min_days:
        return [Check("certificate", Status.WARN, value, detail + f" (renewal expected before "
                      f"{THRESHOLDS.certificate_min_days:g} days)", RUNBOOKS["certificate"], data)]
    return [Check("certificate", Status.OK, value, detail, None, data)]
