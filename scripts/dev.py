#!/usr/bin/env python3
"""One entry point for a fresh machine with only Python: set up ``.venv`` when needed, then run.

    python3 scripts/dev.py liftrun plan      # any console command of the project
    python3 scripts/dev.py test [PYTEST ARGS]
    python3 scripts/dev.py lint              # ruff check, ruff format --check, mypy

The virtual environment is (re)built when ``pyproject.toml`` or ``constraints.txt`` change, and
installs exactly the pinned versions of ``constraints.txt``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".liftrun-install"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in ("pyproject.toml", "constraints.txt"):
        path = ROOT / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_venv() -> None:
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return
    if not (BIN / "python").exists():
        print("liftrun dev: creating .venv", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("liftrun dev: installing liftrun and its test tools into .venv", file=sys.stderr)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    constraints = ROOT / "constraints.txt"
    extra = ["-c", str(constraints)] if constraints.exists() else []
    subprocess.run([*pip, *extra, "-e", f"{ROOT}[test]"], check=True, cwd=ROOT)
    STAMP.write_text(_fingerprint())


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    ensure_venv()
    command, *rest = argv
    if command == "test":
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    if command == "lint":
        steps = [
            [str(BIN / "ruff"), "check", "."],
            [str(BIN / "ruff"), "format", "--check", "."],
            [str(BIN / "mypy")],
        ]
        for step in steps:
            code = subprocess.call(step, cwd=ROOT)
            if code:
                return code
        return 0
    exe = BIN / command
    if not exe.exists():
        print(f"liftrun dev: no command {command!r} in .venv/bin", file=sys.stderr)
        return 2
    return subprocess.call([str(exe), *rest])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
