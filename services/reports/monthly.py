"""月度报告: the figures the management department sends to the government every month."""

from __future__ import annotations

import calendar as months
from datetime import date
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.stats import common_issues, service
from shared.models import Card


def period_of(month: str) -> service.Period:
    year, mon = (int(p) for p in month.split("-"))
    return service.Period(date(year, mon, 1), date(year, mon, months.monthrange(year, mon)[1]))


async def build(session: AsyncSession, month: str) -> dict[str, Any]:
    period = period_of(month)
    cards = dict(
        (
            await session.execute(
                select(Card.status, func.count()).where(Card.month == month).group_by(Card.status)
            )
        )
        .tuples()
        .all()
    )
    colours = dict(
        (
            await session.execute(
                select(Card.colour, func.count()).where(Card.month == month).group_by(Card.colour)
            )
        )
        .tuples()
        .all()
    )
    return {
        "month": month,
        "summary": await service.summary(session, period),
        "departments": await service.departments(session, period),
        "categories": await service.categories(session, period),
        "common_issues": await common_issues.common_issues(session, period),
        "cards": {
            "yellow": int(colours.get("yellow", 0)),
            "red": int(colours.get("red", 0)),
            "appealed": int(cards.get("appealed", 0)),
            "upheld": int(cards.get("upheld", 0)),
            "revoked": int(cards.get("revoked", 0)),
        },
    }


SUMMARY_LABELS = {
    "received": "受理总量",
    "resolved_on_spot": "当场解决",
    "resolved_on_spot_rate": "当场解决率(%)",
    "out_of_scope": "非政务服务范围",
    "in_progress": "办理中",
    "closed": "已办结",
    "closed_on_time": "按时办结",
    "closed_on_time_rate": "按时办结率(%)",
    "satisfaction_rate": "满意率(%)",
    "rated": "已评价",
    "followed_up": "跟踪督办",
    "followed_up_resolved": "跟踪督办已解决",
    "repeats": "重复件",
}


def _sheet(book: Workbook, title: str, headers: list[str], rows: list[list[Any]]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for column, header in zip(sheet.columns, headers, strict=False):
        width = max([len(str(header)) * 2, *(len(str(c.value or "")) + 2 for c in column)])
        sheet.column_dimensions[column[0].column_letter].width = min(60, width)


def to_xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    summary = report["summary"]
    _sheet(
        book,
        "概况",
        ["指标", "数值"],
        [[label, summary[key]] for key, label in SUMMARY_LABELS.items()]
        + [
            ["黄牌", report["cards"]["yellow"]],
            ["红牌", report["cards"]["red"]],
            ["申诉", report["cards"]["appealed"]],
            ["申诉撤销", report["cards"]["revoked"]],
        ],
    )
    _sheet(
        book,
        "部门考核",
        ["部门代码", "部门", "案件数", "办理中", "按时办结率(%)", "黄牌", "红牌", "扣分", "得分"],
        [
            [
                d["department"],
                d["name"],
                d["cases"],
                d["in_progress"],
                d["on_time_rate"],
                d["yellow"],
                d["red"],
                d["deducted"],
                d["score"],
            ]
            for d in report["departments"]
        ],
    )
    _sheet(
        book,
        "问题类别",
        ["类别", "案件数", "办理中", "当场解决"],
        [
            [c["category"] or "未分类", c["cases"], c["in_progress"], c["resolved_on_spot"]]
            for c in report["categories"]
        ],
    )
    _sheet(
        book,
        "共性问题",
        ["主题", "关键词", "案件数", "涉及部门", "示例案件"],
        [
            [
                t["topic"],
                "、".join(t["keywords"]),
                t["cases"],
                "、".join(f"{d['department']}({d['cases']})" for d in t["departments"]),
                "、".join(e["case_no"] for e in t["examples"]),
            ]
            for t in report["common_issues"]
        ],
    )
    out = BytesIO()
    book.save(out)
    return out.getvalue()
