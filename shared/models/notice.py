from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base


class Notice(Base):
    """A notice sent to the applicant: what they read, through which channel, when. Kept so the
    window sees what the person was told; the phone stays on the case."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    """The outbox message it was sent from: a redelivery keeps it once."""
    case_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer)
    template_version: Mapped[int | None] = mapped_column(Integer)
    """The administrator's version of the text it was rendered from; None: the built-in one."""
    provider_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    sent_at: Mapped[datetime]
    delivered: Mapped[bool | None] = mapped_column(Boolean)
    """The carrier's receipt: reached the phone (True), did not (False), not reported (None)."""
    delivery_code: Mapped[str | None] = mapped_column(String(32))
    reported_at: Mapped[datetime | None]


class NoticeTemplate(Base):
    """An administrator's text for one notice. Saving adds a version and never rewrites one, so
    what a citizen was sent can always be traced to the words it came from."""

    __tablename__ = "notice_templates"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime]
    saved_by: Mapped[str | None] = mapped_column(String(64))
    """The key that saved it (its id), for the configuration's own trail."""

    __table_args__ = (Index("uq_notice_templates_event_version", "event", "version", unique=True),)


class SmsReply(Base):
    """A text the applicant sent back. A rating and TD act on the case (`rating`, `opt_out`);
    anything else (`other`) waits for a person at the window, on the case it most likely
    concerns when there is one, until they mark it read."""

    __tablename__ = "sms_replies"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    """The provider's id of the message (Alibaba Cloud's sequence_id): a push sent again is
    kept once and acts once."""
    case_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("cases.id"), index=True)
    phone_last4: Mapped[str] = mapped_column(String(4))
    """All of the phone it keeps: enough for the window to match a call, not to dial."""
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    read_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_sms_replies_waiting",
            "id",
            postgresql_where=sql("outcome = 'other' AND read_at IS NULL"),
        ),
    )
