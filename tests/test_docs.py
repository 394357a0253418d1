"""The guides in docs/ are the source of truth for people, as docs/openapi is for machines: the
README leads to each, API.md names every operation the apps serve, and the repository stands
alone (nothing in it points at files outside it)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = ["API.md", "DOMAIN.md", "OPERATIONS.md", "CAPACITY.md", "ARCHITECTURE.md"]


@pytest.mark.parametrize("guide", GUIDES)
def test_the_readme_links_each_guide(guide: str) -> None:
    assert (ROOT / "docs" / guide).is_file()
    assert f"(docs/{guide})" in (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("api", ["intake", "routing"])
def test_api_md_names_every_operation(api: str) -> None:
    """A route added without a word in API.md fails here (the path as the document writes it)."""
    guide = (ROOT / "docs" / "API.md").read_text(encoding="utf-8")
    document = json.loads((ROOT / "docs" / "openapi" / f"{api}.json").read_text(encoding="utf-8"))
    missing = [path for path in document["paths"] if path not in guide]
    assert not missing


def test_every_link_between_the_guides_resolves() -> None:
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)\)", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), (page.name, target)


def test_nothing_in_the_repository_points_outside_it() -> None:
    """A clone is all a user has: no file names the design folder the project started from."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    outside = re.compile(rb"\.\./shared\b")
    hits = []
    for name in filter(None, tracked):
        path = ROOT / name.decode()
        if path.is_file() and outside.search(path.read_bytes()):
            hits.append(name.decode())
    assert not hits
