"""The house's import rules: dashboard -> layers | data -> geo; streamlit only in dashboard/."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"dashboard", "layers", "data", "geo"}
ALLOWED = {"geo": set(), "layers": {"geo"}, "data": {"geo"}, "dashboard": {"geo", "layers", "data"}}
UI = {"streamlit", "streamlit_folium"}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every absolute import in ``path`` (relative imports stay in the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mods: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods.add(node.module.split(".")[0])
    return mods


def violations(root: Path) -> list[str]:
    bad = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        top = rel.parts[0]
        if top in {"tests", "bench", ".venv", ".ci"} or "site-packages" in rel.parts:
            continue
        mods = imported_modules(path)
        if mods & UI and top != "dashboard" and str(rel) != "streamlit_app.py":
            bad.append(f"{rel}: imports streamlit")
        if top in ALLOWED:
            bad += [f"{rel}: {top}/ imports {m}/" for m in sorted((mods & OURS) - {top} - ALLOWED[top])]
    return bad


def test_project_follows_the_import_rules():
    assert violations(ROOT) == []


@pytest.mark.parametrize("where, source, complaint", [
    ("geo/x.py", "import data.store", "geo/ imports data/"),
    ("geo/x.py", "from layers import registry", "geo/ imports layers/"),
    ("layers/x.py", "from data.store import read_layer", "layers/ imports data/"),
    ("data/x.py", "import layers.grids", "data/ imports layers/"),
    ("data/x.py", "import streamlit as st", "imports streamlit"),
    ("layers/x.py", "from streamlit_folium import st_folium", "imports streamlit"),
    ("geo/x.py", "import dashboard", "geo/ imports dashboard/"),
])
def test_the_check_catches_each_kind_of_violation(tmp_path, where, source, complaint):
    target = tmp_path / where
    target.parent.mkdir(parents=True)
    target.write_text(source + "\n", encoding="utf-8")
    assert any(complaint in v for v in violations(tmp_path))


def test_the_check_allows_the_permitted_direction(tmp_path):
    for where, source in [("dashboard/a.py", "import streamlit\nimport layers, data, geo"),
                          ("layers/b.py", "import geo.vocab"), ("data/c.py", "from geo import scope"),
                          ("streamlit_app.py", "import streamlit as st")]:
        (tmp_path / where).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / where).write_text(source + "\n", encoding="utf-8")
    assert violations(tmp_path) == []
