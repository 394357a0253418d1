"""月度报告: the figures the management department sends to the government every month."""

from __future__ import annotations

import calendar as months
import unicodedata
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta
from io import BytesIO
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncSession

from services.department import repository as departments
from services.rectification import figures as rectification_figures
from services.rectification.responses import RectificationFigures
from services.reports.responses import CardCounts, MonthlyReport, ReportCard
from services.sla import cards
from services.stats import common_issues, conduct, service
from services.stats import supervision as supervision_figures
from services.stats.responses import SupervisionFigures
from shared.timeutil import shanghai_iso


def period_of(month: str) -> service.Period:
    year, mon = (int(p) for p in month.split("-"))
    return service.Period(date(year, mon, 1), date(year, mon, months.monthrange(year, mon)[1]))


async def build(
    session: AsyncSession,
    month: str,
    *,
    now: datetime,
    units: frozenset[str] | None = None,
) -> MonthlyReport:
    """The month's report as of `now` (its figures can still move while the month is open);
    `units`: a unit's report (层级), of the cases and cards of its subtree."""
    period = replace(period_of(month), units=units)
    issued = await cards.of_month(session, month, units)
    names = await departments.names(session, (c.department for c in issued))
    listed = [ReportCard(**dict(c), department_name=names.get(c.department)) for c in issued]
    statuses = Counter(c.status for c in issued)
    colours = Counter(c.colour for c in issued)
    return MonthlyReport(
        month=month,
        generated_at=shanghai_iso(now),
        summary=await service.summary(session, period),
        departments=await service.departments(session, period),
        categories=await service.categories(session, period),
        common_issues=await common_issues.common_issues(session, period),
        cards=CardCounts(
            yellow=colours["yellow"],
            red=colours["red"],
            appealed=statuses["appealed"],
            upheld=statuses["upheld"],
            revoked=statuses["revoked"],
        ),
        card_list=listed,
        appeals=[c for c in listed if c.appealed_at],
        supervision=await supervision_figures.figures(session, period),
        leads=await conduct.leads(session, period),
        rectifications=await rectification_figures.month(session, month, *period.bounds(), units),
    )


SUMMARY_LABELS = {
    "received": "受理总量",
    "matters": "诉求事项(并单后)",
    "merged": "并单件数",
    "resolved_on_spot": "当场解决",
    "resolved_on_spot_rate": "当场解决率(%)",
    "out_of_scope": "非政务服务范围",
    "in_progress": "办理中",
    "closed": "已办结",
    "closed_on_time": "按时办结",
    "closed_on_time_rate": "按时办结率(%)",
    "response_rate": "响应率(%)",
    "resolution_rate": "解决率(%)",
    "satisfaction_rate": "满意率(%,原始)",
    "satisfaction_rate_upheld_aside": "满意率(%,剔除甄别维持)",
    "upheld": "不满意甄别维持",
    "rated": "已评价",
    "asked_to_rate": "请求评价",
    "rating_response_rate": "评价回复率(%)",
    "followed_up": "跟踪督办",
    "followed_up_resolved": "跟踪督办已解决",
    "repeats": "重复件",
}


COLOURS = {"yellow": "黄牌", "red": "红牌"}
DEADLINES = {
    "sign": "签收",
    "handle": "办理",
    "drag": "拖延",
    "monthly": "月度累计",
    "supervision": "督办逾期",
}
LEVELS = {"city": "市级", "district": "区级", "street": "街镇级"}
REASONS = {
    "reopened": "重办",
    "transferred": "转办",
    "returned": "退单",
    "overdue": "超期",
    "repeats": "重复来电",
}
STATUSES = {"active": "有效", "appealed": "申诉中", "upheld": "维持", "revoked": "撤销"}


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel or WPS read a cell as a formula (CSV/Excel injection): a complaint's title
such as `=HYPERLINK("http://…","点我")` must stay the citizen's words."""


def _as_text(cell: Any) -> None:
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
        cell.data_type = "s"  # openpyxl took it for a formula
        cell.quotePrefix = True  # and the spreadsheet shows it as typed, never evaluates it


def _shown_width(value: Any) -> int:
    """Columns a value takes on screen: a Chinese character is two, a Latin one one."""
    if isinstance(value, datetime):
        return 16
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def local_time(iso: str | None) -> datetime | None:
    """An ISO time with its offset (Shanghai, as the API shows it) as the wall-clock time a
    spreadsheet can sort and filter: Excel has no time zones."""
    return datetime.fromisoformat(iso).replace(tzinfo=None) if iso else None


def _sheet(
    book: Workbook,
    title: str,
    headers: list[str],
    rows: list[list[Any]],
    caption: str | None = None,
) -> None:
    """A sheet: the caption (report, month, when generated) on top, then a bold header row
    that stays in view and filters, the rows, and columns as wide as their widest value."""
    sheet = book.create_sheet(title)
    if caption:
        sheet.append([caption])
        sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(headers)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            _as_text(cell)
            if isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = f"A{header_row + 1}"  # the header stays in view while scrolling
    last = get_column_letter(len(headers))
    sheet.auto_filter.ref = f"A{header_row}:{last}{max(sheet.max_row, header_row)}"
    for i, header in enumerate(headers, start=1):
        values = [header, *(row[i - 1] for row in rows if i <= len(row))]
        width = max(_shown_width(v) for v in values) + 2
        sheet.column_dimensions[get_column_letter(i)].width = min(60, width)


def to_xlsx(report: MonthlyReport) -> bytes:
    book = Workbook()
    book.remove(book.active)
    summary = report.summary.model_dump()
    generated = local_time(report.generated_at)
    caption = (
        f"办不成事反映窗口 月度报告 {report.month}(生成于 {generated:%Y-%m-%d %H:%M},北京时间)"
        if generated
        else f"办不成事反映窗口 月度报告 {report.month}"
    )
    book.properties.title = f"办不成事反映窗口 月度报告 {report.month}"
    book.properties.subject = f"{report.month} 月度考核与统计"
    book.properties.creator = "gaodedim"
    book.properties.keywords = report.month
    first, last = period_of(report.month).bounds()
    shown_last = (last - timedelta(days=1)).date() if last else None
    _sheet(
        book,
        "概况",
        ["指标", "数值"],
        [
            [
                "统计期间",
                f"{first.date() if first else ''} 至 {shown_last or ''}(按登记日期,北京时间)",
            ]
        ]
        + [[label, summary[key]] for key, label in SUMMARY_LABELS.items()]
        + [
            ["黄牌", report.cards.yellow],
            ["红牌", report.cards.red],
            ["申诉", report.cards.appealed],
            ["申诉撤销", report.cards.revoked],
        ]
        + (
            [
                ["整改立项", report.rectifications.opened],
                ["整改完成", report.rectifications.done],
                ["整改验收", report.rectifications.verified],
                ["整改逾期", report.rectifications.overdue],
                ["整改后复发", report.rectifications.recurred],
            ]
            if report.rectifications is not None
            else []
        ),
        caption,
    )
    _sheet(
        book,
        "部门考核",
        [
            "部门代码",
            "部门",
            "案件数",
            "协办案件",
            "办理中",
            "按时办结率(%)",
            "响应率(%)",
            "解决率(%)",
            "满意率(%,原始)",
            "满意率(%,剔除甄别维持)",
            "黄牌",
            "红牌",
            "扣分",
            "得分",
        ],
        [
            [
                d.department,
                d.name,
                d.cases,
                d.assists,
                d.in_progress,
                d.on_time_rate,
                d.response_rate,
                d.resolution_rate,
                d.satisfaction_rate,
                d.satisfaction_rate_upheld_aside,
                d.yellow,
                d.red,
                d.deducted,
                d.score,
            ]
            for d in report.departments
        ],
        caption,
    )
    _sheet(
        book,
        "问题类别",
        ["类别", "案件数", "办理中", "当场解决"],
        [[c.label, c.cases, c.in_progress, c.resolved_on_spot] for c in report.categories],
        caption,
    )
    _sheet(
        book,
        "共性问题",
        ["主题", "关键词", "案件数", "涉及部门", "示例案件"],
        [
            [
                t.topic,
                "、".join(t.keywords),
                t.cases,
                "、".join(f"{d.department}({d.cases})" for d in t.departments),
                "、".join(e.case_no for e in t.examples),
            ]
            for t in report.common_issues
        ],
        caption,
    )
    _sheet(
        book,
        "黄红牌",
        ["部门代码", "部门", "案件编号", "颜色", "环节", "应完成时间", "扣分", "状态", "发出时间"],
        [
            [
                c.department,
                c.department_name,
                c.case_no or "(月度)",
                COLOURS[c.colour],
                DEADLINES[c.deadline],
                local_time(c.due_at),
                c.points,
                STATUSES[c.status],
                local_time(c.issued_at),
            ]
            for c in report.card_list
        ],
        caption,
    )
    _sheet(
        book,
        "申诉",
        [
            "部门代码",
            "部门",
            "案件编号",
            "颜色",
            "扣分",
            "申诉理由",
            "申诉时间",
            "结果",
            "裁定时间",
            "裁定意见",
        ],
        [
            [
                c.department,
                c.department_name,
                c.case_no or "(月度)",
                COLOURS[c.colour],
                c.points,
                c.appeal_reason,
                local_time(c.appealed_at),
                STATUSES[c.status],
                local_time(c.decided_at),
                c.decision_note,
            ]
            for c in report.appeals
        ],
        caption,
    )
    if report.supervision is not None:
        _supervision_sheet(book, report.supervision, caption)
    if report.rectifications is not None:
        _rectification_sheet(book, report.rectifications, caption)
    if report.leads is not None:
        _sheet(
            book,
            "问题线索",
            [
                "案件编号",
                "登记时间",
                "牵头部门代码",
                "牵头部门",
                "诉求原因",
                "问题类别",
                "标题",
                "状态",
                "经办",
            ],
            [
                [
                    lead.case_no,
                    local_time(lead.created_at),
                    lead.department,
                    lead.department_name,
                    lead.trigger,
                    lead.category,
                    lead.title,
                    lead.status,
                    lead.handled_by,
                ]
                for lead in report.leads
            ],
            caption,
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _supervision_sheet(book: Workbook, figures: SupervisionFigures, caption: str) -> None:
    """督办与提级: the totals, the escalations by level and reason, then a row a department."""
    o = figures.orders
    totals: list[list[Any]] = [
        [
            "督办单",
            "",
            o.issued,
            o.answered_on_time,
            o.answered_late,
            o.open,
            o.overdue,
            o.on_time_rate,
            figures.escalations,
        ],
        *[["提级", LEVELS[c.level], "", "", "", "", "", "", c.count] for c in figures.by_level],
        *[
            ["提级原因", REASONS[c.reason], "", "", "", "", "", "", c.count]
            for c in figures.by_reason
        ],
    ]
    _sheet(
        book,
        "督办与提级",
        [
            "部门代码",
            "部门",
            "督办单",
            "按时反馈",
            "逾期后反馈",
            "待反馈",
            "逾期未反馈",
            "按时反馈率(%)",
            "提级",
        ],
        totals
        + [
            [
                d.department,
                d.name,
                d.issued,
                d.answered_on_time,
                d.answered_late,
                d.open,
                d.overdue,
                d.on_time_rate,
                d.escalations,
            ]
            for d in figures.departments
        ],
        caption,
    )


RECTIFICATION_STATUSES = {
    "open": "待整改",
    "in_progress": "整改中",
    "done": "已完成",
    "verified": "已验收",
}


def _rectification_sheet(book: Workbook, figures: RectificationFigures, caption: str) -> None:
    _sheet(
        book,
        "整改",
        [
            "编号",
            "标题",
            "责任部门代码",
            "责任部门",
            "状态",
            "期限",
            "完成时间",
            "验收时间",
            "逾期时间",
            "本月复发",
        ],
        [
            [
                r.id,
                r.title,
                r.department,
                r.department_name,
                RECTIFICATION_STATUSES.get(r.status, r.status),
                local_time(r.due_at),
                local_time(r.done_at),
                local_time(r.verified_at),
                local_time(r.overdue_at),
                r.recurred,
            ]
            for r in figures.items
        ],
        caption,
    )
