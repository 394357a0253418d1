"""共性问题 on a generated corpus whose topics are known."""

from __future__ import annotations

import random

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.database import transaction
from shared.models import Case
from sla_worker.worker import fill_keywords
from tests.helpers.keys import KeyFactory

pytestmark = pytest.mark.usefixtures("sample_departments")

TOPICS = {
    "养老保险": (
        "GZ-RSJ",
        20,
        [
            "养老保险转移接续办不了,原单位缴费记录查不到",
            "异地养老保险关系转移,社保窗口说缺少参保凭证",
            "养老保险缴费年限对不上,转移接续被退回",
            "想把外省养老保险转回广州,一直没有结果",
        ],
    ),
    "营业执照": (
        "GZ-SCJG",
        12,
        ["营业执照变更经营场所被拒", "用住宅地址申请营业执照不给受理", "营业执照注销卡在税务清税"],
    ),
    "公积金": (
        "GZ-GJJ",
        8,
        [
            "公积金提取租房被拒,要求租赁备案",
            "离职后公积金账户封存无法提取",
            "异地贷款公积金证明开不出来",
        ],
    ),
}
NOISE = [
    "窗口工作人员态度恶劣",
    "停车场收费不合理",
    "低保申请迟迟没有结果",
    "孩子入学资料审核不通过",
    "路灯坏了没人修",
    "小区噪音扰民",
    "发票申领系统报错",
    "出入境证件预约不上",
    "残疾人补贴没到账",
    "医保报销超时",
]


@pytest.fixture(params=["computed", "stored"])
async def corpus(
    request: pytest.FixtureRequest,
    sessionmaker: async_sessionmaker[AsyncSession],
    sample_departments: None,
) -> None:
    """Rows written without keywords (as before migration 0009); then either left so (the
    request computes them) or back-filled by the worker's job (the request reads them)."""
    rng = random.Random(7)
    n = 0
    async with transaction(sessionmaker) as session:
        for dept, count, texts in TOPICS.values():
            for _ in range(count):
                n += 1
                text = rng.choice(texts) + rng.choice(
                    ["", ",请尽快处理", ",已经跑了三次", ",影响很大"]
                )
                session.add(
                    Case(
                        case_no=f"K-{n}",
                        tracking_code=f"K{n:07d}",
                        status="assigned",
                        channel="hotline",
                        title=text[:12],
                        description=text,
                        lead_department=dept,
                        applicant_phone="13800138001",
                    )
                )
        for text in NOISE:
            n += 1
            session.add(
                Case(
                    case_no=f"K-{n}",
                    tracking_code=f"K{n:07d}",
                    status="registered",
                    channel="portal",
                    title=text,
                    description=text,
                    applicant_phone="13800138001",
                )
            )
    if request.param == "stored":
        assert await fill_keywords({"sessionmaker": sessionmaker}) == 50
        assert await fill_keywords({"sessionmaker": sessionmaker}) == 0
        async with sessionmaker() as session:
            stored = await session.scalar(select(Case.keywords).where(Case.case_no == "K-1"))
        assert stored is not None
        assert "养老保险" in stored


@pytest.mark.usefixtures("corpus")
async def test_the_known_topics_come_out_with_their_counts(
    routing: httpx.AsyncClient, make_key: KeyFactory
) -> None:
    r = await routing.get("/api/v1/stats/common-issues", headers=await make_key("supervisor"))
    assert r.status_code == 200, r.text
    topics = r.json()["items"]
    top3 = [(t["cases"], t["departments"][0]["department"]) for t in topics[:3]]
    assert top3 == [(20, "GZ-RSJ"), (12, "GZ-SCJG"), (8, "GZ-GJJ")]
    assert "养老保险" in topics[0]["keywords"]
    assert "营业执照" in topics[1]["keywords"]
    assert "公积金" in topics[2]["keywords"]
    assert len(topics[0]["examples"]) == 5
    assert sum(t["cases"] for t in topics) <= 40 + 2  # the noise does not make topics of its own


async def test_a_registered_case_gets_its_keywords_from_the_worker(
    intake: httpx.AsyncClient, make_key: KeyFactory, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """Segmentation is kept off the caller's path: the case is stored without keywords and the
    worker's job stores them."""
    body = {
        "channel": "portal",
        "title": "养老保险转移接续",
        "description": "异地养老保险关系转移,社保窗口说缺少参保凭证",
        "applicant": {"phone": "13800138001"},
    }
    r = await intake.post("/api/v1/cases", json=body, headers=await make_key("portal"))
    assert r.status_code == 201, r.text

    async def stored() -> list[str] | None:
        async with sessionmaker() as session:
            return await session.scalar(
                select(Case.keywords).where(Case.case_no == r.json()["case_no"])
            )

    assert await stored() is None
    assert await fill_keywords({"sessionmaker": sessionmaker}) == 1
    words = await stored()
    assert words is not None
    assert "养老保险" in words
    assert not {"窗口", "办理"} & set(words)  # words every complaint uses are left out


def test_keywords_and_topics_are_the_same_in_every_process() -> None:
    """jieba and Counter break ties in hash order; the worker stores keywords, an API computes
    the rest, and both must name a topic alike whatever their PYTHONHASHSEED."""
    import os
    import subprocess
    import sys

    script = (
        "from services.keywords import of_case\n"
        "from services.stats.common_issues import Item, cluster\n"
        "text = '申请人(电话***,证件***)的抵押登记注销一直没办好'\n"
        "words = of_case('抵押登记注销拖延', text)\n"
        "items = [Item(i, f'S-{i}', None, None, frozenset(words)) for i in range(4)]\n"
        "print(words, [t.keywords for t in cluster(items)])\n"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(seen) == 1, seen
