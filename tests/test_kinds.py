"""The calendar kinds are registered in one place and nothing outside a kind's package branches on
the kind (issue 14): ``adapters/kinds.py`` names them, ``adapters/<kind>/`` holds everything
about one, and the rest of liftrun asks the registry."""

from __future__ import annotations

import ast
import subprocess
import sys
import typing
from pathlib import Path

from click.testing import CliRunner
from pydantic import BaseModel

from adapters.caldav.source import CalDAVSource
from adapters.caldav.target import CalDAVTarget
from adapters.google.target import GoogleTarget
from adapters.kinds import KINDS, Calendar, behaviour, sign_ins
from adapters.protocol import Learns
from cli.main import main

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("adapters", "cli", "config", "planner", "sync", "web")
ALLOWED = {ROOT / "adapters" / "kinds.py", *(ROOT / "adapters" / kind for kind in KINDS)}
SETTINGS = {"IcsCalendar", "VdirCalendar", "CaldavCalendar", "GoogleCalendar"}


def settings_models() -> dict[str, type[BaseModel]]:
    """Each tag of the ``Calendar`` union with its settings model."""
    union, _discriminator = typing.get_args(Calendar)
    found: dict[str, type[BaseModel]] = {}
    for member in typing.get_args(union):
        model, tag = typing.get_args(member)
        found[tag.tag] = model
    return found


def outside_the_kinds() -> list[Path]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    return [p for p in files if not any(p == a or a in p.parents for a in ALLOWED)]


def kind_names(node: ast.expr) -> list[str]:
    """The kind names a comparison operand spells: a string, or a tuple/list/set of them."""
    values = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [v.value for v in values if isinstance(v, ast.Constant) and v.value in KINDS]


def names_a_kind(node: ast.expr) -> bool:
    """``kind``, ``calendar_kind``, ``cal.kind``, ``cal.get("kind")``: an operand that holds a
    calendar's kind (so a plan's output format ``"ics"`` is not one)."""
    if isinstance(node, ast.Attribute):
        return "kind" in node.attr
    if isinstance(node, ast.Name):
        return "kind" in node.id
    if isinstance(node, ast.Call) and node.args:
        return any(isinstance(a, ast.Constant) and a.value == "kind" for a in node.args)
    return False


def branches(path: Path, root: Path = ROOT) -> list[str]:
    """Where ``path`` asks which kind it holds: a comparison with a kind's name, a ``case``
    on one, an ``isinstance`` on a kind's settings model, or an import of one."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(names_a_kind(o) for o in operands):
                for operand in operands:
                    found += [f"{where}: compares with {name!r}" for name in kind_names(operand)]
        elif isinstance(node, ast.Match) and names_a_kind(node.subject):
            for case in node.cases:
                for pattern in ast.walk(case.pattern):
                    if isinstance(pattern, ast.MatchValue):
                        found += [f"{where}: case {n!r}" for n in kind_names(pattern.value)]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("isinstance", "issubclass")
            and len(node.args) == 2
        ):
            names = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            found += [f"{where}: isinstance on {name}" for name in sorted(names & SETTINGS)]
        elif isinstance(node, ast.ImportFrom):
            imported = {alias.name for alias in node.names} & SETTINGS
            found += [f"{where}: imports {name}" for name in sorted(imported)]
    return found


def test_nothing_outside_a_kinds_package_branches_on_the_kind() -> None:
    files = outside_the_kinds()
    assert ROOT / "sync" / "wiring.py" in files and ROOT / "cli" / "init.py" in files
    found = [line for path in files for line in branches(path)]
    assert found == [], "\n".join(found)


def test_the_guard_sees_a_branch(tmp_path: Path) -> None:
    source = tmp_path / "wiring.py"
    source.write_text(
        "if cal.kind == 'caldav':\n    pass\n"
        "if kind in ('ics', 'vdir'):\n    pass\n"
        "if isinstance(cal, GoogleCalendar):\n    pass\n"
        "match kind:\n    case 'google':\n        pass\n"
        "if kind == 'other':\n    pass\n"
        "if fmt == 'ics':\n    pass\n"
        "if entry.get('kind') != 'vdir':\n    pass\n"
    )
    found = sorted(line.split(": ", 1)[1] for line in branches(source, tmp_path))
    assert found == sorted(
        [
            "compares with 'caldav'",
            "compares with 'ics'",
            "compares with 'vdir'",
            "isinstance on GoogleCalendar",
            "case 'google'",
            "compares with 'vdir'",
        ]
    )


def test_every_kind_is_registered_once_with_its_settings_and_behaviour() -> None:
    models = settings_models()
    assert sorted(models) == sorted(KINDS)
    for name, model in models.items():
        assert typing.get_args(model.model_fields["kind"].annotation) == (name,)
        assert model.__module__ == f"adapters.{name}.settings"
        kind = behaviour(name)
        assert type(kind).__module__ == KINDS[name] == f"adapters.{name}.kind"
        assert kind.summary
    assert sorted(sign_ins()) == ["google"]


def test_the_auth_group_names_the_kinds_with_a_sign_in_from_the_registry() -> None:
    page = CliRunner().invoke(main, ["auth", "--help"]).output
    assert f"has a sign-in: {', '.join(sorted(sign_ins()))}." in " ".join(page.split())
    assert not (set(page.lower().replace(",", " ").split()) & (set(KINDS) - set(sign_ins())))


def test_what_a_calendar_learns_is_returned_through_the_contract() -> None:
    for learns in (CalDAVSource, CalDAVTarget, GoogleTarget):
        assert issubclass(learns, Learns), learns


SHOW_MODULES = """
import sys
from config.loader import load
load(sys.argv[1])
print("\\n".join(sorted(sys.modules)))
"""


def test_reading_a_config_loads_no_kinds_behaviour_or_client(tmp_path: Path) -> None:
    config = tmp_path / "liftrun.toml"
    config.write_text(
        '[availability]\nmon = ["07:00-08:00"]\n'
        '[[calendars]]\nkind = "caldav"\nurl = "https://dav.example.com/"\n'
        '[[calendars]]\nkind = "google"\nauth = "service_account"\nservice_account_file = "k"\n',
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, "-c", SHOW_MODULES, str(config)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    loaded = set(done.stdout.split())
    assert "adapters.kinds" in loaded
    assert not {f"adapters.{k}.kind" for k in KINDS} & loaded
    heavy = ("googleapiclient", "google_auth_oauthlib", "caldav", "httpx", "icalendar")
    assert not [m for m in loaded if m.split(".")[0] in heavy]
