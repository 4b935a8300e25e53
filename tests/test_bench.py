"""The benchmark's data generator and a 1× smoke run (issue 9); the benchmark itself is not timed here."""
from __future__ import annotations

import pytest

from bench.scale import scaled_sample

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _equal(a, b) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].equals(b[name]), name


def test_scaled_sample_is_deterministic():
    _equal(scaled_sample(2), scaled_sample(2))
    _equal(scaled_sample(1), scaled_sample(1))


@pytest.mark.parametrize("factor", [2, 10])
def test_scaled_sample_multiplies_every_table(factor):
    base, big = scaled_sample(1), scaled_sample(factor)
    for name, frame in base.items():
        assert len(big[name]) == factor * len(frame), name
        assert big[name]["code"].is_unique, name
        assert list(big[name].columns) == list(frame.columns)
        assert big[name].crs == frame.crs


def test_scaled_copies_keep_code_lengths_and_hierarchy():
    base, big = scaled_sample(1), scaled_sample(3)
    for name in ("streets", "communities", "grids", "compounds", "stations"):
        assert set(big[name]["code"].str.len()) == set(base[name]["code"].str.len()), name
    grids = big["grids"]
    assert (grids["community_code"] == grids["code"].str[:12]).all()
    assert (grids["street_code"] == grids["code"].str[:9] + "000").all()
    # copies sit side by side: no copy's streets overlap another's
    streets = big["streets"].geometry
    n = len(base["streets"])
    first, last = streets.iloc[:n].union_all(), streets.iloc[-n:].union_all()
    assert not first.intersects(last)
    assert big["streets"].total_bounds[2] > base["streets"].total_bounds[2]


def test_the_benchmark_uses_its_own_database_on_the_server_it_is_given(monkeypatch):
    from bench.run import postgres_url

    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert postgres_url("postgresql+psycopg://u@127.0.0.1:55432/gulou_test") == (
        "postgresql+psycopg://u@127.0.0.1:55432/gulou_bench")  # the tests' template is never dropped
    assert postgres_url(None) is None and postgres_url("sqlite:///x.db") is None
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@db/gulou")
    assert postgres_url(None) == "postgresql+psycopg://app@db/gulou_bench"


def test_scaled_sample_rejects_bad_factor():
    with pytest.raises(ValueError):
        scaled_sample(0)


def test_smoke_run_writes_table(tmp_path):
    """The whole benchmark at 1× on SQLite: every page runs, every figure is there and plausible (times not asserted)."""
    from bench.pages import PAGES
    from bench.report import TARGET_MAP_BYTES
    from bench.run import run

    out = tmp_path / "RESULTS.md"
    load = "## Load: concurrent sessions through the proxy (earlier)\n\n| a load row |\n"
    out.write_text("# an older page table\n\n" + load, encoding="utf-8")
    text = run([1], postgres=None, browser=False, out=out)
    assert out.read_text(encoding="utf-8") == text + "\n" + load  # the load section is kept, the rest replaced
    assert "cpu" in text.lower() and "memory" in text and "Load average" in text
    assert "PostGIS skipped" in text and "Browser draw time not measured" in text
    row = next(line for line in text.splitlines() if line.startswith("| 1× | SQLite | 7,931 | 6,067 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    for cell in cells[5:5 + len(PAGES)]:  # every page: first / warm seconds, both positive
        first, warm = (float(v) for v in cell.split(" / "))
        assert first > 0 and warm > 0
    maps = next(line for line in text.splitlines() if line.startswith("| 1× | SQLite | ") and "markers" in line)
    district_kb = float(maps.split("|")[3].split("(")[0].replace(",", ""))
    assert 0 < district_kb * 1024 <= TARGET_MAP_BYTES
    assert "6,934 markers" in maps  # the naive map: one marker per compound and dispute
    assert "District map payload ≤ 1 MB: met" in text
    payload = text.split("## Map payload of every page")[1].split("\n## ")[0]
    sizes = next(line for line in payload.splitlines() if line.startswith("| 1× | SQLite |")).strip("|").split("|")[2:]
    assert len(sizes) == len(PAGES) and all(0 < float(v.replace(",", "")) <= TARGET_MAP_BYTES / 1024 for v in sizes)
    assert "Every page's map ≤ 1 MB: met" in text and "First run of every page at 50× ≤ 5 s: no 50× run." in text
