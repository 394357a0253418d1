from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Integer
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import Base, created_at_column


class CalendarYear(Base):
    """An operator's schedule for one year: its holidays and make-up working days."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date), server_default="{}")
    workdays: Mapped[list[date]] = mapped_column(ARRAY(Date), server_default="{}")
    updated_at: Mapped[datetime] = created_at_column()
    updated_by_key_id: Mapped[uuid.UUID | None]
