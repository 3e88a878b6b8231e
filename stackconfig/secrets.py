"""The credentials the stack takes as Pulumi config secrets (one list), and how we never echo one.

A credential is only ever accepted as a secret (`pulumi config set --secret KEY VALUE`), and only
under the keys below; a `secure:` value anywhere else is refused. Messages that show a config
value pass it through `redact` first: URL user-info, values under keys that name a credential,
and values under keys we do not know (a near-miss such as `database_url`) are never printed.
"""

from __future__ import annotations

import re
from typing import Any

SECRET_KEYS: dict[str, str] = {
    "langgraph_license_key": "LangGraph Platform license key, given to the server as LANGGRAPH_CLOUD_LICENSE_KEY.",
    "langsmith_api_key": "LangSmith API key, given to the server as LANGSMITH_API_KEY (tracing, license check).",
    "checkpoint_store_access_key_id": "Access key of the external S3-compatible store (checkpoints.backend external).",
    "checkpoint_store_secret_access_key": "Secret key of the external S3-compatible store.",
    "alerting_pager_key": "PagerDuty Events v2 routing key (monitoring.pager pagerduty).",
    "alerting_pager_token": "Bearer token sent to monitoring.pager_webhook_url (monitoring.pager webhook; optional).",
    "alerting_chat_url": "Slack incoming-webhook URL (monitoring.chat slack): it carries its own secret.",
    "alerting_chat_token": "Bearer token sent to monitoring.chat_webhook_url (monitoring.chat webhook; optional).",
    "alerting_deadman_token": "Bearer token sent to monitoring.deadman_url with the Watchdog heartbeat (optional).",
}


def required_secrets(config) -> list[tuple[str, str]]:
    """(secret key, why) for every credential this stack's config needs."""
    needed = []
    if config.checkpoints.backend == "external":
        needed += [(key, "checkpoints.backend is external") for key in
                   ("checkpoint_store_access_key_id", "checkpoint_store_secret_access_key")]
    if config.monitoring.enabled:
        if config.monitoring.pager == "pagerduty":
            needed.append(("alerting_pager_key", "monitoring.pager is pagerduty"))
        if config.monitoring.chat == "slack":
            needed.append(("alerting_chat_url", "monitoring.chat is slack"))
    return needed

_CREDENTIAL_NAME = re.compile(r"pass(word|wd)?|secret|token|credential|api_?key|private|auth|license|(^|_)key($|_)",
                              re.IGNORECASE)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s@]*@")

HIDDEN = "(hidden)"


def names_credential(key: str) -> bool:
    """True when the last segment of a dotted config key names a credential (password, token, api_key, ...)."""
    return bool(_CREDENTIAL_NAME.search(key.rsplit(".", 1)[-1].rsplit(":", 1)[-1]))


def has_userinfo(text: str) -> bool:
    """True for a URL carrying `user[:password]@` before its host."""
    return bool(_USERINFO.search(text))


def redact(value: Any) -> Any:
    """`value` with every URL user-info replaced by `***@`, through maps and lists."""
    if isinstance(value, str):
        return _USERINFO.sub(lambda m: m["scheme"] + "***@", value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


def userinfo_paths(value: Any, path: str) -> list[str]:
    """Dotted paths below `path` whose string value carries URL user-info."""
    if isinstance(value, str):
        return [path] if has_userinfo(value) else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in userinfo_paths(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in userinfo_paths(v, f"{path}[{i}]")]
    return []
