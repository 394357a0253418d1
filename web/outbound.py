"""What the service sends out, in the OpenAPI documents' `webhooks`: the 12345 hotline's
callbacks (in the intake document, where the hotline's orders come in) and departments'
webhooks (in the routing document, where departments are configured). The worker sends them
from the outbox; these declarations only describe them, so a receiver can be generated and
checked against the same contract as the rest."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from services.case.responses import DepartmentNotice, HotlineCallback


def _signed(prefix: str, secret: str) -> dict[str, Any]:
    def header(name: str, description: str) -> dict[str, Any]:
        return {
            "name": f"{prefix}-{name}",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": description,
        }

    return {
        "parameters": [
            header("Timestamp", "Unix seconds when it was signed"),
            header("Signature", f'sha256=<hex HMAC-SHA256 of "timestamp.body" with {secret}>'),
            header("Event-Id", "the same on every retry of one message: deduplicate on it"),
        ]
    }


def document_hotline_callbacks(app: FastAPI) -> None:
    @app.webhooks.post(
        "hotline-callback",
        summary="12345 回调 · A status change or card on a hotline order",
        openapi_extra=_signed("X-Hotline", "HOTLINE_WEBHOOK_SECRET"),
    )
    def hotline_callback(body: HotlineCallback) -> None:
        """POSTed to the order's `callback_url` from the outbox: at least once, in order per
        case, retried with back-off; answer 2xx to acknowledge."""


def document_department_notices(app: FastAPI) -> None:
    @app.webhooks.post(
        "department-notice",
        summary="部门通知 · A step, warning or card on a department's case",
        openapi_extra=_signed("X-Gaodedim", "WEBHOOK_SIGNING_SECRET"),
    )
    def department_notice(body: DepartmentNotice) -> None:
        """POSTed to the department's `webhook` from the outbox: at least once, in order per
        case and department, retried with back-off; answer 2xx to acknowledge."""
