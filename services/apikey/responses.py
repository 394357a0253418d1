"""Keys as the security administrator's calls answer them: the secret once, at issue; after
that only what tells keys apart, and who issued and revoked them."""

from __future__ import annotations

from pydantic import BaseModel, Field


class IssuedKey(BaseModel):
    id: str
    key: str = Field(description="the secret: shown this once, stored only as a hash")
    role: str
    department: str | None
    label: str | None
    holder: str


class KeyOut(BaseModel):
    id: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    role: str
    department: str | None
    label: str | None
    holder: str | None = Field(description="to whom it was given; null for keys before 0011")
    issued_by_key_id: str | None = Field(description="the issuing key; null at the shell")
    issued_by_role: str | None = Field(
        description="`security_admin`, or `system` for the servers' shell; null before 0011"
    )
    created_at: str
    revoked_at: str | None
    revoked_by_key_id: str | None
    revoked_by_role: str | None
