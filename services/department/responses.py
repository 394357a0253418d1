"""What the departments' calls answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class DepartmentOut(BaseModel):
    code: str = Field(examples=["GZ-BDC"])
    name: str = Field(examples=["广州市不动产登记中心"])
    parent: str | None = Field(examples=["GZ-GHZY"])
    contact: str | None = Field(examples=["020-83190000"])
    webhook: str | None = Field(description="where its notices are POSTed, signed")
    notice_mobile: str | None = Field(
        default=None,
        examples=["13800138000"],
        description="where its 督办 orders are texted; masked (138****8000) but for admins and "
        "coordinators",
    )
    role: str | None = Field(description="`coordinator` for the office that assigns cases")
    active: bool
    level: str = Field(examples=["city", "district", "street"], description="层级")
