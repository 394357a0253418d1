"""`/docs` and `/redoc` work on a network with no internet (a government intranet): a real
headless Chromium, forbidden to resolve any host but this one, renders the operations.

Needs Chromium: `apt-get install chromium` (Debian). Skipped, saying so, where it is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from intake_api.app import create_app as create_intake
from routing_api.app import create_app as create_routing
from shared.settings import Settings
from tests.helpers.serving import serve

CHROMIUM = next(
    (
        path
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (path := shutil.which(name))
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"
)


def _rendered(url: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            # No name resolves but this machine's: a CDN would fail to load, as on an intranet.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize(
    ("factory", "path"),
    [(create_intake, "/api/v1/cases"), (create_routing, "/api/v1/rules")],
    ids=["intake", "routing"],
)
def test_the_api_documents_render_without_internet(
    settings: Settings, factory: Callable[[Settings], Any], path: str
) -> None:
    with serve(factory(settings)) as url:
        for page in ("/docs", "/redoc"):
            html = httpx.get(f"{url}{page}", timeout=10).text
            external = re.findall(r'(?:src|href)=["\'](https?://[^"\']+)', html)
            assert external == [], (page, external)
        swagger = _rendered(f"{url}/docs")
        assert "opblock" in swagger  # Swagger UI drew the operations
        assert path in swagger
        redoc = _rendered(f"{url}/redoc")
        assert path in redoc  # ReDoc drew them too
