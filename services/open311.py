"""Open311 GeoReport v2 for municipal portals: our categories are the services, our cases the
requests. The mapping lives here; the routes in intake_api/routes/open311.py only speak HTTP."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from services.case.presenter import STATUS_LABELS
from shared.enums import CaseStatus, Category
from shared.models import Case
from shared.timeutil import shanghai_iso

SERVICES: dict[Category, tuple[str, str]] = {
    Category.policy: ("政策原因办不成", "法律法规或政策限制导致无法办理"),
    Category.system: ("系统原因办不成", "业务系统故障、数据不通"),
    Category.materials: ("材料原因办不成", "缺少关键材料、材料被拒收或反复补正"),
    Category.attitude: ("服务态度问题", "推诿、刁难、态度恶劣等作风问题"),
    Category.acceptance: ("受理问题", "取不到号、不予受理、未一次性告知"),
    Category.consultation: ("咨询无果", "问不清、找不到该办理的部门"),
    Category.approval: ("审批问题", "审批超时、反复退回"),
    Category.multi_department: ("多部门事项", "需要多个部门协同办理"),
}
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
        for c, (name, desc) in SERVICES.items()
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
        "service_name": SERVICES[Category(case.category)][0] if case.category else None,
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
