"""Open311 GeoReport v2 for municipal portals: our categories are the services, our cases the
requests. The mapping lives here; the routes in intake_api/routes/open311.py only speak HTTP."""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

from services import privacy
from services.case.categories import CATEGORIES, label
from services.case.lifecycle import FINISHED
from services.case.presenter import STATUS_LABELS
from services.open311.responses import RequestOut, ServiceDefinition, ServiceOut
from shared import audit
from shared.enums import CaseStatus
from shared.models import Case
from shared.timeutil import shanghai_iso


def service_list() -> list[ServiceOut]:
    return [
        ServiceOut(
            service_code=c.value,
            service_name=name,
            description=desc,
            metadata=True,
            type="realtime",
            keywords="办不成事,搞得掂",
            group="办不成事反映",
        )
        for c, (name, desc) in CATEGORIES.items()
    ]


PUBLIC_PLACE = "public_place"
"""The one attribute every service has: whether the place is public, so the public feed may show
its address (sent as `attribute[public_place]=true`)."""


def definition(code: str) -> ServiceDefinition:
    return ServiceDefinition.model_validate(
        {
            "service_code": code,
            "attributes": [
                {
                    "variable": True,
                    "code": PUBLIC_PLACE,
                    "datatype": "singlevaluelist",
                    "required": False,
                    "datatype_description": "true if the address is a public place",
                    "order": 1,
                    "description": "地点是否为公共场所(是则公开列表显示地址,否则只显示区)",
                    "values": [{"key": "true", "name": "是"}, {"key": "false", "name": "否"}],
                }
            ],
        }
    )


def request_out(case: Case, agency: str | None) -> RequestOut:
    """The request as its own portal sees it (read with the api_key that created it): a keyed
    read is an export of what the citizen wrote, and where, so each request is on its audit row."""
    status = CaseStatus(case.status)
    location = case.location or {}
    words = " ".join(t for t in (case.description, case.reply, case.resolution_note) if t)
    audit.disclosed(
        case.case_no,
        [
            name
            for name, shown in (
                ("description", case.description),
                ("address", location and not location.get("public")),
                ("attachments", case.attachments),
                *privacy.found_in(words, **privacy.applicant_of(case)).items(),
            )
            if shown
        ],
    )
    return RequestOut(
        service_request_id=case.case_no,
        status="closed" if status in FINISHED else "open",
        status_notes=case.reply
        or case.resolution_note
        or case.explanation
        or STATUS_LABELS[status],
        service_name=label(case.category) if case.category else None,
        service_code=case.category,
        description=case.description,
        agency_responsible=agency,
        service_notice=f"跟踪码 {case.tracking_code}",
        requested_datetime=shanghai_iso(case.created_at),
        updated_datetime=shanghai_iso(case.updated_at),
        expected_datetime=shanghai_iso(case.handle_due_at),
        address=location.get("address"),
        lat=location.get("lat"),
        long=location.get("long"),
        media_url=case.attachments[0] if case.attachments else None,
    )


def public_request_out(case: Case, agency: str | None) -> RequestOut:
    """What a keyless reader of the public feed may see: which service, how it stands, who is
    responsible and by when. Nothing a person wrote (description, the department's answer, media),
    no tracking code (with four phone digits it opens the citizen's own view), and no place finer
    than the district unless the requester said the place is public (a road, a service hall)."""
    status = CaseStatus(case.status)
    location = case.location or {}
    public_place = bool(location.get("public"))
    return RequestOut(
        service_request_id=case.case_no,
        status="closed" if status in FINISHED else "open",
        status_notes=STATUS_LABELS[status],
        service_name=label(case.category) if case.category else None,
        service_code=case.category,
        description=None,
        agency_responsible=agency,
        service_notice=None,
        requested_datetime=shanghai_iso(case.created_at),
        updated_datetime=shanghai_iso(case.updated_at),
        expected_datetime=shanghai_iso(case.handle_due_at),
        address=location.get("address") if public_place else case.district,
        lat=location.get("lat") if public_place else None,
        long=location.get("long") if public_place else None,
        media_url=None,
    )


NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters XML 1.0 cannot carry at all, escaped or not: one in a stored text would make the
whole feed unreadable for every client."""


def xml_text(value: str) -> str:
    return NOT_XML.sub("\ufffd", value)


def to_xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    """Open311's XML: <root><item><field>value</field>…</item>…</root>."""
    top = ET.Element(root)
    for row in rows:
        node = ET.SubElement(top, item)
        for key, value in row.items():
            child = ET.SubElement(node, key)
            if isinstance(value, list):
                for v in value:
                    ET.SubElement(
                        child, "endpoint" if key == "endpoints" else "value"
                    ).text = xml_text(str(v))
            elif value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else xml_text(str(value))
    body: bytes = ET.tostring(top, encoding="unicode").encode()
    return b'<?xml version="1.0" encoding="utf-8"?>' + body
