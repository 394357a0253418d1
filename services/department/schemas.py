"""A department as `examples/departments.sample.json` writes it."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints

from services.validation import MOBILE, normalise_phone
from shared.enums import Level


def _mobile(value: str) -> str:
    value = normalise_phone(value)
    if not MOBILE.match(value):
        raise ValueError("not a mainland mobile number (1xxxxxxxxxx): a text goes to a mobile")
    return value


Mobile = Annotated[str, StringConstraints(max_length=32), AfterValidator(_mobile)]

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
]


class DepartmentIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "GZ-BDC",
                    "name": "广州市不动产登记中心",
                    "parent": "GZ-GHZY",
                    "contact": "020-83190000",
                    "level": "city",
                },
                {
                    "code": "YX-BJJD",
                    "name": "越秀区北京街道党群服务中心",
                    "parent": "YX-ZWFW",
                    "contact": "020-83000001",
                },
            ]
        },
        extra="forbid",
        str_strip_whitespace=True,
    )

    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    parent: Code | None = None
    contact: Annotated[str, Field(max_length=100)] | None = None
    webhook: HttpUrl | None = None
    notice_mobile: Mobile | None = Field(
        default=None,
        description="the mobile its 督办 orders are texted to (the configured SMS provider); "
        "shown in full to admins and coordinators only",
    )
    role: Annotated[str, StringConstraints(pattern=r"^(coordinator)$")] | None = None
    level: Level | None = Field(
        default=None,
        description="层级: `city`, `district` or `street` (街镇); none: one below its parent's "
        "(a root is the city's). Never above its parent's.",
    )


class DepartmentUpdate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "广州市不动产登记中心", "parent": "GZ-GHZY", "contact": "020-83190000"}
            ]
        },
        extra="forbid",
        str_strip_whitespace=True,
    )

    name: Annotated[str, Field(min_length=1, max_length=200)]
    parent: Code | None = None
    contact: Annotated[str, Field(max_length=100)] | None = None
    webhook: HttpUrl | None = None
    notice_mobile: Mobile | None = Field(
        default=None,
        description="the mobile its 督办 orders are texted to (the configured SMS provider); "
        "shown in full to admins and coordinators only",
    )
    role: Annotated[str, StringConstraints(pattern=r"^(coordinator)$")] | None = None
    level: Level | None = Field(
        default=None,
        description="层级: `city`, `district` or `street` (街镇); none: one below its parent's "
        "(a root is the city's). Never above its parent's.",
    )
