"""The eight blockage categories (seed 002) in the words the centres use: a Chinese name and a
line saying what falls under each. Shown wherever a person reads a category: Open311's service
list, the stats, the monthly report."""

from __future__ import annotations

from shared.enums import Category

CATEGORIES: dict[Category, tuple[str, str]] = {
    Category.policy: ("政策原因办不成", "法律法规或政策限制导致无法办理"),
    Category.system: ("系统原因办不成", "业务系统故障、数据不通"),
    Category.materials: ("材料原因办不成", "缺少关键材料、材料被拒收或反复补正"),
    Category.attitude: ("服务态度问题", "推诿、刁难、态度恶劣等作风问题"),
    Category.acceptance: ("受理问题", "取不到号、不予受理、未一次性告知"),
    Category.consultation: ("咨询无果", "问不清、找不到该办理的部门"),
    Category.approval: ("审批问题", "审批超时、反复退回"),
    Category.multi_department: ("多部门事项", "需要多个部门协同办理"),
}


def label(category: str | None) -> str:
    """The Chinese name of a stored category; 未分类 when the case has none."""
    return CATEGORIES[Category(category)][0] if category else "未分类"
