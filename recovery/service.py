"""The HTTP side: Alertmanager posts its webhook here, authenticated by a shared bearer token."""

from __future__ import annotations

import hmac
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from . import logs
from .actions import Remediator
from .payload import PayloadError, parse_payload

MAX_BODY_BYTES = 1 << 20
WEBHOOK_PATH = "/alerts"


def read_token(path: str) -> bytes:
    """The shared token, stripped of the trailing newline a Secret file may carry; refuses an empty one."""
    token = Path(path).read_bytes().strip()
    if not token:
        raise ValueError(f"the webhook token file {path} is empty")
    return token


def _authorized(request: Request, token_file: str) -> bool:
    # Read on every request: a rotated Secret reaches the mounted file without a restart.
    expected = b"Bearer " + read_token(token_file)
    offered = request.headers.get("authorization", "").encode()
    return hmac.compare_digest(offered, expected)


def create_app(remediator: Remediator) -> Starlette:
    settings = remediator.settings

    async def alerts(request: Request) -> JSONResponse:
        if not _authorized(request, settings.webhook_token_file):
            logs.log("webhook_refused", level="warning", reason="missing or wrong bearer token",
                     client=request.client.host if request.client else None)
            return JSONResponse({"error": "unauthorized"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "payload too large"}, status_code=413)
        try:
            batch = parse_payload(json.loads(body))
        except (ValueError, PayloadError) as error:
            logs.log("webhook_invalid", level="warning", error=str(error))
            return JSONResponse({"error": str(error)}, status_code=400)
        # The Kubernetes and Redis clients block: run the batch off the event loop.
        decisions = await run_in_threadpool(lambda: [remediator.handle(alert) for alert in batch])
        # 200 even when an action failed: Alertmanager would only resend the same alert, which the rate
        # limit then refuses; failures are in the audit log and the Events.
        return JSONResponse({"decisions": [
            {"alert": d.alert, "action": d.action, "target": d.target, "outcome": d.outcome} for d in decisions]})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "dry_run": settings.dry_run})

    return Starlette(routes=[Route(WEBHOOK_PATH, alerts, methods=["POST"]), Route("/healthz", healthz)])
