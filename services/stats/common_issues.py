"""共性问题: recurring topics among recent cases, so supervisors can push a rule or process fix.

Topics are formed greedily over each case's stored keywords (`services.keywords`): the keyword
shared by the most remaining cases makes a topic of those cases, which then leave the pool;
repeat while a topic has at least `min_cases`. A case is registered without keywords (jieba's
segmentation would be the costliest step of a registration); the worker's keyword job stores
them within half a minute, and until then they are computed here on the fly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services import keywords as words_of
from services.privacy import APPLICANT, applicant_of, erase
from services.stats import responses
from services.stats.service import Period
from shared.models import Case, Rectification


@dataclass(frozen=True)
class Item:
    """What clustering needs of a case: no full row (the title is erased when shown)."""

    id: int
    case_no: str
    title: str | None
    lead_department: str | None
    words: frozenset[str]


@dataclass
class Topic:
    label: str
    keywords: list[str]
    items: list[Item]


def _top(counts: Counter[str], k: int) -> list[tuple[str, int]]:
    """The `k` most frequent words, ties by the word: `Counter.most_common` breaks them in the
    order the words were met, which follows hash order over the sets, so two processes (or two
    runs) would name the same topic differently. Sorted by count in C first; only the words
    tied with the k-th are ordered by name."""
    ranked = counts.most_common()
    if not ranked:
        return []
    cutoff = ranked[min(k, len(ranked)) - 1][1]
    head = itertools.takewhile(lambda wc: wc[1] >= cutoff, ranked)
    return sorted(head, key=lambda wc: (-wc[1], wc[0]))[:k]


def cluster(items: list[Item], *, min_cases: int = 3, max_topics: int = 20) -> list[Topic]:
    pool = {item.id: item for item in items}
    topics: list[Topic] = []
    while pool and len(topics) < max_topics:
        df = Counter(k for item in pool.values() for k in item.words)
        if not df:
            break
        word, n = _top(df, 1)[0]
        if n < min_cases:
            break
        members = [item for item in pool.values() if word in item.words]
        inner = Counter(k for item in members for k in item.words)
        # The word that formed the topic first (a rectification's topic is read that way),
        # then the three its cases share most.
        top_words = [word, *[k for k, _ in _top(inner, 4) if k != word][:3]]
        second = top_words[1] if len(top_words) > 1 else None
        topics.append(Topic(f"{word}·{second}" if second else word, top_words, members))
        for item in members:
            del pool[item.id]
    return topics


def _keywords(row: Any) -> list[str]:
    return words_of.of_case(row.title, row.description, **applicant_of(row))


def _shown(item: Item, rows: dict[int, Any]) -> str | None:
    """An example's title as the board sees it: figures, not people. A title that names the
    applicant reads 申请人 instead, as it will once the case is anonymised, so the report stays
    the same."""
    return erase(item.title, **applicant_of(rows[item.id]))


async def common_issues(
    session: AsyncSession, period: Period, *, limit: int = 5000, min_cases: int = 3
) -> list[responses.Topic]:
    rows = (
        await session.execute(
            period.where(
                select(
                    Case.id,
                    Case.case_no,
                    Case.title,
                    Case.lead_department,
                    Case.keywords,
                    Case.description,
                    *APPLICANT,
                )
            )
            .order_by(Case.created_at.desc(), Case.id.desc())
            .limit(limit)
        )
    ).all()
    items = [
        Item(
            r.id,
            r.case_no,
            r.title,
            r.lead_department,
            frozenset(r.keywords if r.keywords is not None else _keywords(r)),
        )
        for r in rows
    ]
    # Seconds of CPU over thousands of cases must not stall the event loop's other requests.
    topics = await asyncio.to_thread(cluster, items, min_cases=min_cases)
    by_id = {r.id: r for r in rows}
    fixing = await _rectified(session)
    out = []
    for topic in topics:
        departments = Counter(i.lead_department for i in topic.items if i.lead_department)
        out.append(
            responses.Topic(
                topic=topic.label,
                keywords=topic.keywords,
                cases=len(topic.items),
                examples=[
                    responses.TopicExample(case_no=i.case_no, title=_shown(i, by_id))
                    for i in topic.items[:5]
                ],
                departments=[
                    responses.TopicDepartment(department=d, cases=n)
                    for d, n in departments.most_common()
                ],
                rectifications=fixing.get(topic.keywords[0], []),
            )
        )
    return out


async def _rectified(session: AsyncSession) -> dict[str, list[int]]:
    """整改 already opened, by the word that formed their topic: the register is small."""
    rows = await session.execute(
        select(Rectification.topic[1], Rectification.id)
        .where(func.cardinality(Rectification.topic) > 0)
        .order_by(Rectification.id)
    )
    found: dict[str, list[int]] = {}
    for word, rectification_id in rows.tuples():
        found.setdefault(str(word), []).append(int(rectification_id))
    return found


BACKFILL_BATCH = 1000


async def backfill_keywords(session: AsyncSession, *, batch: int = BACKFILL_BATCH) -> int:
    """Store keywords on cases that have none yet, newest first. The cases are not locked while
    their text is segmented (routing locks the newest cases at the same moment); the UPDATE
    skips any another worker filled meanwhile. Returns how many cases were filled."""
    rows = (
        await session.execute(
            select(Case.id, Case.title, Case.description, *APPLICANT)
            .where(Case.keywords.is_(None))
            .order_by(Case.id.desc())
            .limit(batch)
        )
    ).all()
    if not rows:
        return 0
    found = await asyncio.to_thread(lambda: {str(r.id): _keywords(r) for r in rows})
    # One statement for the batch: a JSON object of id → keywords, unpacked in PostgreSQL.
    await session.execute(
        text(
            "UPDATE cases SET keywords = ARRAY(SELECT jsonb_array_elements_text(j.value)) "
            "FROM jsonb_each(CAST(:found AS jsonb)) AS j "
            "WHERE cases.id = CAST(j.key AS bigint) AND cases.keywords IS NULL"
        ),
        {"found": json.dumps(found, ensure_ascii=False)},
    )
    return len(rows)
