"""The command line: exit codes, the Chinese report, export/template files, and a killed import."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data.cli import main
from data.store import read_layer
from tests.ingest_helpers import checksum, compound_row, csv_bytes, tiny_store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(sqlite_url, monkeypatch):
    engine = tiny_store(sqlite_url)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    return engine


def test_import_dry_run_then_write_and_the_report_in_chinese(db, tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(csv_bytes([compound_row()], "gbk"))
    bad.write_bytes(csv_bytes([compound_row(户数=-3)]))
    before = checksum(db)
    assert main(["import", "compounds", str(bad)]) == 1
    assert "第 2 行｜户数（值：-3）：不能为负数" in capsys.readouterr().out
    assert main(["import", "compounds", str(good), "--dry-run"]) == 0
    assert checksum(db) == before
    assert main(["import", "compounds", str(good), "--who", "王五"]) == 0
    assert "新增 1 条" in capsys.readouterr().out
    assert read_layer(db, "compounds").set_index("code").loc["350102004002C101", "name"] == "安泰新村"


def test_map_overrides_and_errors_exit_two(db, tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes([{**compound_row(), "名称X": "别名新村"}]))
    assert main(["import", "compounds", str(path), "--map", "名称X=小区名称", "--map", "小区名称=-", "--dry-run"]) == 0
    assert main(["import", "compounds", str(tmp_path / "x.doc")]) == 2
    assert "不支持的文件类型" in capsys.readouterr().err


def test_export_and_template_write_files(db, tmp_path):
    out = tmp_path / "out.gpkg"
    assert main(["export", "grids", "--scope", "350102004001", "--format", "gpkg", "--crs", "gcj02", "-o", str(out)]) == 0
    assert out.stat().st_size > 0
    assert main(["template", "compounds", "-o", str(tmp_path / "t.xlsx")]) == 0
    assert list(pd.read_excel(tmp_path / "t.xlsx").columns)[:2] == ["小区编码", "小区名称"]


@pytest.mark.parametrize("backend", ["sqlite", "postgis"])
def test_killing_the_import_in_the_middle_of_the_write_leaves_the_database_as_it_was(backend, request, tmp_path):
    url = request.getfixturevalue(f"{backend}_url")
    engine = tiny_store(url)
    n = 12_000
    rng = np.random.default_rng(1)
    rows = pd.DataFrame({"站点编码": [f"S{i:05d}" for i in range(n)], "站点名称": "站", "站点类型": "志愿服务站",
                         "所属网格": "350102004001001", "经度": rng.uniform(119.2905, 119.2945, n),
                         "纬度": rng.uniform(26.0805, 26.0845, n)})
    path = tmp_path / "big.csv"
    rows.to_csv(path, index=False)
    before = checksum(engine)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "data.cli", "import", "stations", str(path)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if line.startswith("已写入") and not line.startswith("已写入 0/"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL  # killed, not finished
    engine.dispose()
    assert checksum(engine) == before
