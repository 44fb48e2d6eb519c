"""The image build's context lets in everything the Dockerfile copies and pyproject.toml
packages, checked without podman or docker.

``.dockerignore`` is an allow-list (``*`` then ``!path`` lines), so a new top-level package is
left out of the build until it is named there, and only the opt-in container test
(``test_container.py``), which builds the image, would notice: ``web/`` went unnoticed that way
when the athlete's page was added. Here the same omission fails every run of the suite.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _allowed() -> set[str]:
    """The paths the allow-list lets back in, without a trailing slash."""
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in lines, ".dockerignore is no longer an allow-list; revisit this test"
    return {line[1:].strip().rstrip("/") for line in lines if line.startswith("!")}


def _let_in(path: str, allowed: set[str]) -> bool:
    parts = path.strip("/").split("/")
    return any("/".join(parts[:n]) in allowed for n in range(1, len(parts) + 1))


def _copied_from_context() -> list[str]:
    """The sources of every COPY that reads the build context (not ``--from`` a stage)."""
    sources: list[str] = []
    for line in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from=") for w in words):
            continue
        sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def test_every_copied_path_enters_the_build_context() -> None:
    sources = _copied_from_context()
    assert "pyproject.toml" in sources and "planner/" in sources
    allowed = _allowed()
    missing = [s for s in sources if not _let_in(s, allowed)]
    assert not missing, f"COPY of paths .dockerignore keeps out: {missing}"
    for source in sources:
        assert (ROOT / source).exists(), source


def test_every_packaged_module_is_copied_into_the_builder() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages: list[str] = project["tool"]["setuptools"]["packages"]
    tops = {name.split(".")[0] for name in packages}
    copied = {s.strip("/") for s in _copied_from_context()}
    allowed = _allowed()
    assert not tops - copied, f"packages the Dockerfile does not COPY: {sorted(tops - copied)}"
    assert not [t for t in tops if not _let_in(t, allowed)]
