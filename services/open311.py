"""Open311 GeoReport v2 for municipal portals: our categories are the services, our cases the
requests. The mapping lives here; the routes in intake_api/routes/open311.py only speak HTTP."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from services.case.categories import CATEGORIES, label
from services.case.presenter import STATUS_LABELS
from shared.enums import CaseStatus
from shared.models import Case
from shared.timeutil import shanghai_iso

FINISHED = {CaseStatus.closed, CaseStatus.resolved_on_spot, CaseStatus.out_of_scope}


def service_list() -> list[dict[str, Any]]:
    return [
        {
            "service_code": c.value,
            "service_name": name,
            "description": desc,
            "metadata": False,
            "type": "realtime",
            "keywords": "办不成事,搞得掂",
            "group": "办不成事反映",
        }
        for c, (name, desc) in CATEGORIES.items()
    ]


def definition(code: str) -> dict[str, Any]:
    return {"service_code": code, "attributes": []}


def request_out(case: Case, agency: str | None) -> dict[str, Any]:
    status = CaseStatus(case.status)
    location = case.location or {}
    return {
        "service_request_id": case.case_no,
        "status": "closed" if status in FINISHED else "open",
        "status_notes": case.reply
        or case.resolution_note
        or case.explanation
        or STATUS_LABELS[status],
        "service_name": label(case.category) if case.category else None,
        "service_code": case.category,
        "description": case.description,
        "agency_responsible": agency,
        "service_notice": f"跟踪码 {case.tracking_code}",
        "requested_datetime": shanghai_iso(case.created_at),
        "updated_datetime": shanghai_iso(case.updated_at),
        "expected_datetime": shanghai_iso(case.handle_due_at),
        "address": location.get("address"),
        "lat": location.get("lat"),
        "long": location.get("long"),
        "media_url": case.attachments[0] if case.attachments else None,
    }


def to_xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    """Open311's XML: <root><item><field>value</field>…</item>…</root>."""
    top = ET.Element(root)
    for row in rows:
        node = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(node, key)
            if isinstance(value, list):
                for v in value:
                    ET.SubElement(child, "endpoint" if key == "endpoints" else "value").text = str(
                        v
                    )
            elif value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    body: bytes = ET.tostring(top, encoding="unicode").encode()
    return b'<?xml version="1.0" encoding="utf-8"?>' + body
