"""共性问题: recurring topics among recent cases, so supervisors can push a rule or process fix.

Each case's text is reduced to its TF-IDF keywords (jieba's segmentation and its bundled IDF
table; no network model). Topics are formed greedily: the keyword shared by the most remaining
cases makes a topic of those cases, which then leave the pool; repeat while a topic has at
least `min_cases`. Words every complaint uses (办理, 窗口, 无法 …) are not topics.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.stats.service import Period
from shared.models import Case

GENERIC = frozenset(
    [
        "办理",
        "无法",
        "不能",
        "窗口",
        "反映",
        "部门",
        "问题",
        "一直",
        "没有",
        "需要",
        "申请",
        "材料",
        "工作人员",
        "要求",
        "情况",
        "已经",
        "多次",
        "现在",
        "进行",
        "相关",
        "处理",
        "来电",
        "来电人",
        "市民",
        "群众",
        "希望",
        "表示",
        "告知",
        "办不成",
        "办事",
        "业务",
        "单位",
        "政府",
        "服务",
        "中心",
        "大厅",
        "办不了",
        "多年",
        "说明",
        "提供",
        "不予",
        "本人",
        "目前",
        "导致",
        "原因",
        "请求",
        "协调",
        "尽快",
        "解决",
    ]
)


@lru_cache(maxsize=1)
def _extractor() -> Any:
    import jieba
    import jieba.analyse

    jieba.setLogLevel(logging.WARNING)
    return jieba.analyse


def keywords(text: str, top: int = 6) -> list[str]:
    tags = _extractor().extract_tags(text, topK=top + len(GENERIC))
    return [t for t in tags if t not in GENERIC and len(t) > 1 and not t.isdigit()][:top]


@dataclass
class Topic:
    label: str
    keywords: list[str]
    cases: list[Case]


def cluster(cases: list[Case], *, min_cases: int = 3, max_topics: int = 20) -> list[Topic]:
    pool = {c.id: (c, set(keywords(f"{c.title or ''} {c.description}"))) for c in cases}
    topics: list[Topic] = []
    while pool and len(topics) < max_topics:
        df = Counter(k for _, words in pool.values() for k in words)
        if not df:
            break
        word, n = df.most_common(1)[0]
        if n < min_cases:
            break
        members = [cid for cid, (_, words) in pool.items() if word in words]
        inner = Counter(k for cid in members for k in pool[cid][1])
        top_words = [k for k, _ in inner.most_common(4)]
        second = next((k for k in top_words if k != word), None)
        topics.append(
            Topic(f"{word}·{second}" if second else word, top_words, [pool[c][0] for c in members])
        )
        for cid in members:
            del pool[cid]
    return topics


async def common_issues(
    session: AsyncSession, period: Period, *, limit: int = 5000, min_cases: int = 3
) -> list[dict[str, Any]]:
    rows = list(
        (
            await session.execute(
                period.where(select(Case)).order_by(Case.created_at.desc()).limit(limit)
            )
        ).scalars()
    )
    out = []
    for topic in cluster(rows, min_cases=min_cases):
        departments = Counter(c.lead_department for c in topic.cases if c.lead_department)
        out.append(
            {
                "topic": topic.label,
                "keywords": topic.keywords,
                "cases": len(topic.cases),
                "examples": [{"case_no": c.case_no, "title": c.title} for c in topic.cases[:5]],
                "departments": [
                    {"department": d, "cases": n} for d, n in departments.most_common()
                ],
            }
        )
    return out
