"""Open311 GeoReport v2's shapes as models (see `shared.view`), for the OpenAPI document: the
routes send JSON arrays (or XML with the same members) as the specification has them."""

from __future__ import annotations

from pydantic import Field

from shared.view import View


class Discovery(View):
    changeset: str
    contact: str
    key_service: str = Field(description="how to get an api_key")
    endpoints: list[str]


class ServiceOut(View):
    service_code: str = Field(examples=["materials"])
    service_name: str = Field(examples=["材料原因办不成"])
    description: str
    metadata: bool = Field(description="true: GET services/{code} lists its attributes")
    type: str = Field(examples=["realtime"])
    keywords: str
    group: str


class AttributeValue(View):
    key: str
    name: str


class Attribute(View):
    variable: bool
    code: str = Field(examples=["public_place"])
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue]


class ServiceDefinition(View):
    service_code: str
    attributes: list[Attribute]


class Created(View):
    service_request_id: str = Field(description="the case number")
    service_notice: str = Field(description="跟踪码 and the tracking code, for the citizen")
    account_id: str | None


class RequestOut(View):
    """A request. Read with the api_key that created it: in full. Without a key, the public
    feed: `description`, `service_notice` and `media_url` are null, and the place is the district
    unless the requester said it is public."""

    service_request_id: str = Field(examples=["GZ-20261123-000001"])
    status: str = Field(examples=["open", "closed"])
    status_notes: str | None
    service_name: str | None
    service_code: str | None
    description: str | None
    agency_responsible: str | None
    service_notice: str | None
    requested_datetime: str | None
    updated_datetime: str | None
    expected_datetime: str | None
    address: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Error(View):
    """Open311 answers its errors as a list of these, not as problem+json."""

    code: int = Field(examples=[400])
    description: str
