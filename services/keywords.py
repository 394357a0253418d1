"""A complaint's TF-IDF keywords (jieba's segmentation and its bundled IDF table; no network
model). Computed once when a case is registered and stored on it, so 共性问题 over thousands of
cases is set arithmetic, not thousands of segmentations per request."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from services.privacy import erase

# Words every complaint uses: never a topic.
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
        "申请人",
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


def warm() -> None:
    """Load the dictionary now (about a second), so no request pays for it."""
    _extractor().extract_tags("预热", topK=1)


def for_search(text: str) -> list[str]:
    """`text` cut into words as a search needs them: jieba's search mode also yields the shorter
    words inside a long one (`营业执照` gives 营业, 执照, 营业执照)."""
    _extractor()  # the logging quieted, the dictionary loaded once per process
    import jieba

    return [w for w in jieba.cut_for_search(text) if w.strip()]


def keywords(text: str, top: int = 6) -> list[str]:
    """The `top` heaviest words, ties broken by the word itself: jieba breaks them in hash
    order, which differs between processes, so the worker and an API would store and compute
    different keywords for one text."""
    weighted = _extractor().extract_tags(text, topK=None, withWeight=True)
    tags = [t for t, _ in sorted(weighted, key=lambda tw: (-tw[1], tw[0]))]
    return [t for t in tags if t not in GENERIC and 1 < len(t) <= 32 and not t.isdigit()][:top]


def of_case(
    title: str | None,
    description: str | None,
    *,
    name: str | None = None,
    phone: str | None = None,
    id_number: str | None = None,
) -> list[str]:
    """The keywords of a case's words without its applicant: a name is a fine TF-IDF keyword,
    and one person's three complaints would make them a 共性问题 on the dashboard."""
    text = f"{title or ''} {description or ''}"
    return keywords(erase(text, name=name, phone=phone, id_number=id_number) or "")
