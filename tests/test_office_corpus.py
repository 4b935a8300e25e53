"""The office corpus (``tests/office_corpus.py``): every generated file is imported within a metre of the
truth with the right values, skipped rows and warnings, and imported again as updates only; or refused at
the user's row and field with nothing written; or found unreadable with a Chinese message naming the file.

Accepted cases collect every finding before failing, so one run tells the importer's author all that a
file still gets wrong (a missing ``preview.skipped`` is a finding, not the end of the test).
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from contextlib import contextmanager
from datetime import date, datetime

import pandas as pd
import pyproj
import pytest
from openpyxl import load_workbook

import tests.office_corpus as corpus
from data.cli import main
from data.ingest import commit_import, preview_import
from data.store import read_layer
from geo.access import system_operator
from geo.errors import DataValidationError
from tests.ingest_helpers import checksum, tiny_store
from tests.office_corpus import BY_NAME, CASES, TODAY, Accepted, Case, Layout, Refused, Truth, Unreadable, normalise

ACCEPTED = [c for c in CASES if isinstance(c.expect, Accepted)]
REFUSED = [c for c in CASES if isinstance(c.expect, Refused)]
UNREADABLE = [c for c in CASES if isinstance(c.expect, Unreadable)]
CLI_CASES = ["A01", "A05"]
REPORT_COLUMNS = ["行号", "字段", "值", "问题"]
CHECKED = {"compounds": ("households", "buildings", "status", "plan_year", "budget_wan", "started_on", "completed_on"),
           "stations": ("kind", "capacity"),
           "disputes": ("category", "source", "status", "reported_on", "closed_on", "grid_code")}
"""Stored fields compared with the truth wherever the file carries them."""
NEW_CODE = {"compounds": "C", "stations": "S"}
GEOD = pyproj.Geod(ellps="WGS84")


@pytest.fixture
def url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'corpus.db'}"


def _ids(cases: list[Case]) -> list[str]:
    """Plain case names (A01 …): pytest would escape the Chinese file names in test ids."""
    return [c.name for c in cases]


class Findings(list):
    """Failed checks of one case, collected so that the report lists them all."""

    @contextmanager
    def check(self, what: str):
        try:
            yield
        except (AssertionError, AttributeError, KeyError) as exc:
            self.append(f"{what}: {type(exc).__name__}: {exc}")

    def raise_any(self, case: Case) -> None:
        assert not self, f"{case.name} {case.filename}（{case.traits}）:\n- " + "\n- ".join(self)


# ---------------------------------------------------------------- reading back what was stored


def _plain(value):
    """A stored value comparable with the truth: None for missing, dates as date, numpy scalars as Python."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    return value.item() if hasattr(value, "item") else value


def _match_key(layer: str, community, record) -> tuple:
    """How a stored row is found again: (community, normalised name), or for disputes (community,
    受理日期, 纠纷类别, normalised address)."""
    if layer == "disputes":
        return community, _plain(record["reported_on"]), record["category"], normalise(record["address"])
    return community, normalise(record["name"])


def _stored(frame, layer: str, truth: Truth):
    keys = [_match_key(layer, row["community_code"], row) for _, row in frame.iterrows()]
    wanted = _match_key(layer, truth.community, truth.values)
    return frame[[k == wanted for k in keys]]


def _expected(case: Case, truth: Truth, name: str):
    """(whether the file carries field ``name``, the value it should be stored with)."""
    col = next((c for c in case.cols if c.field == name), None)
    if col is None:
        return False, None
    return True, None if (truth.key, col.header) in case.blanked else truth.values[name]


def _metres(row, truth: Truth) -> float:
    _, _, distance = GEOD.inv(row.geometry.x, row.geometry.y, truth.lon, truth.lat)
    return distance


def _file_code(case: Case, truth: Truth) -> str | None:
    col = next((c for c in case.cols if c.field == "code"), None)
    return col.fmt(truth) if col is not None else None


def check_stored(engine, case: Case, codes_before: set[str], findings: Findings) -> pd.DataFrame:
    """Every truth of the case stored once, within 1 m, with its values and a proper code."""
    frame = read_layer(engine, case.layer)
    prefix = NEW_CODE.get(case.layer)
    for truth in case.truths:
        rows = _stored(frame, case.layer, truth)
        with findings.check(f"{truth.key} stored once"):
            assert len(rows) == 1, f"{len(rows)} rows match {truth.values.get('name') or truth.values['address']}"
        if len(rows) != 1:
            continue
        row = rows.iloc[0]
        with findings.check(f"{truth.key} position"):
            assert _metres(row, truth) < 1.0, f"{_metres(row, truth):.1f} m from the truth"
        for name in CHECKED[case.layer]:
            carried, want = _expected(case, truth, name)
            if carried:
                with findings.check(f"{truth.key} {name}"):
                    got = _plain(row[name])
                    assert got == want or (isinstance(want, float) and abs(got - want) < 1e-9), f"{got!r} != {want!r}"
        with findings.check(f"{truth.key} code"):
            given = _file_code(case, truth)
            if truth.code:
                assert row["code"] == truth.code, f"{row['code']} should stay {truth.code}"
            elif given:
                assert row["code"] == given, f"{row['code']} != the file's {given}"
            else:
                assert row["code"] not in codes_before, f"{row['code']} was already taken"
                if prefix:
                    assert re.fullmatch(rf"{truth.community}{prefix}\d{{3}}", row["code"]), row["code"]
                else:
                    assert str(row["code"]).strip(), "no code"
    return frame


# ---------------------------------------------------------------- accepted files


def _new_count(case: Case) -> int:
    return sum(1 for t in case.truths if not t.code)


def check_preview_notes(preview, case: Case, layout: Layout, findings: Findings) -> None:
    """Skipped rows, warnings and reader notes as the case expects."""
    with findings.check("preview.skipped"):
        skipped = preview.skipped
        assert list(skipped.columns) == REPORT_COLUMNS, list(skipped.columns)
        rows = set(skipped["行号"])
        assert layout.skipped <= rows <= layout.skipped | layout.blank, \
            f"skipped rows {sorted(rows)}, expected {sorted(layout.skipped)} (+ blank {sorted(layout.blank)})"
        assert skipped["问题"].astype(str).str.strip().all(), "a skipped row without a reason"
    with findings.check("preview.warnings"):
        warnings = preview.warnings
        assert list(warnings.columns) == REPORT_COLUMNS, list(warnings.columns)
        got = set(zip(warnings["行号"], warnings["字段"]))
        assert got == {(layout.rows[k], f) for k, f in case.expect.warnings}, warnings.to_dict("records")
    if case.expect.notes:
        with findings.check("source.notes"):
            notes = " ".join(map(str, preview.source.notes))
            for text in case.expect.notes:
                assert text in notes, f"“{text}” not in {notes!r}"


def check_second_import(engine, case: Case, data: bytes, first: pd.DataFrame, findings: Findings) -> None:
    """The same file again: only updates, the same records, still within 1 m."""
    again = preview_import(engine, data, case.layer, case.filename, today=TODAY, **case.options)
    with findings.check("second preview ok"):
        assert again.ok, again.problems.to_dict("records")
    if not again.ok:
        return
    with findings.check("second preview counts"):
        assert (again.inserts, again.updates) == (0, len(case.truths))
    result = commit_import(engine, again, system_operator("测试"))
    with findings.check("second import counts"):
        assert (result.inserted, result.updated) == (0, len(case.truths))
    second = check_stored(engine, case, set(), Findings())
    with findings.check("second import keeps the records"):
        assert len(second) == len(first)
        assert sorted(second["code"]) == sorted(first["code"])


@pytest.mark.parametrize("case", ACCEPTED, ids=_ids(ACCEPTED))
def test_an_accepted_office_file_lands_within_a_metre_and_imports_again_as_updates(case, url):
    engine = tiny_store(url)
    data, layout = case.build()
    preview = preview_import(engine, data, case.layer, case.filename, today=TODAY, **case.options)
    assert preview.ok, f"{case.name} {case.filename}: {preview.problems.to_dict('records')}"
    findings = Findings()
    check_preview_notes(preview, case, layout, findings)
    new = _new_count(case)
    with findings.check("preview counts"):
        assert (preview.inserts, preview.updates) == (new, len(case.truths) - new)
    before = read_layer(engine, case.layer)
    result = commit_import(engine, preview, system_operator("测试"))
    with findings.check("import counts"):
        assert (result.inserted, result.updated) == (new, len(case.truths) - new)
    first = check_stored(engine, case, set(before["code"]), findings)
    with findings.check("row count"):
        assert len(first) == len(before) + new, f"{len(first)} rows, expected {len(before)} + {new}"
    check_second_import(engine, case, data, first, findings)
    findings.raise_any(case)


PAIRS = [("A04", "A07"), ("A04", "A02"), ("A14", "A09"), ("A21", "A22")]
"""(first file, second file): the second spells names, addresses, dates and codes differently, and has
new records of a community whose next code the first file took by hand (A04 gives 杨桥巷宿舍 C004)."""


def _commit(engine, case: Case):
    data, _ = case.build()
    preview = preview_import(engine, data, case.layer, case.filename, today=TODAY, **case.options)
    assert preview.ok, f"{case.name}: {preview.problems.to_dict('records')}"
    return commit_import(engine, preview, system_operator("测试"))


def _codes(frame, case: Case) -> dict[str, str]:
    out = {}
    for truth in case.truths:
        rows = _stored(frame, case.layer, truth)
        assert len(rows) == 1, f"{truth.key}: {len(rows)} rows"
        out[truth.key] = rows.iloc[0]["code"]
    return out


@pytest.mark.parametrize("first, second", PAIRS)
def test_a_second_office_file_with_other_spellings_updates_the_records_of_the_first(first, second, url):
    engine = tiny_store(url)
    one, two = BY_NAME[first], BY_NAME[second]
    _commit(engine, one)
    after_one = read_layer(engine, one.layer)
    codes_one = _codes(after_one, one)
    fresh = [t for t in two.truths if t.key not in codes_one and not t.code]
    result = _commit(engine, two)
    assert (result.inserted, result.updated) == (len(fresh), len(two.truths) - len(fresh))
    after = read_layer(engine, two.layer)
    assert len(after) == len(after_one) + len(fresh)
    for key, code in _codes(after, two).items():
        if key in codes_one:
            assert code == codes_one[key], f"{key}: {code} should stay {codes_one[key]}"
        else:
            assert code not in set(after_one["code"]), f"{key}: {code} was already taken"
    for truth in two.truths:
        assert _metres(_stored(after, two.layer, truth).iloc[0], truth) < 1.0, truth.key


# ---------------------------------------------------------------- refused and unreadable files


@pytest.mark.parametrize("case", REFUSED, ids=_ids(REFUSED))
def test_a_refused_office_file_names_the_users_row_and_field_and_writes_nothing(case, url):
    engine = tiny_store(url)
    before = checksum(engine)
    data, layout = case.build()
    preview = preview_import(engine, data, case.layer, case.filename, today=TODAY, **case.options)
    report = preview.problems
    expected = {(layout.rows[key], name) for key, name in case.expect.problems}
    assert not preview.ok, f"{case.name} {case.filename} was accepted"
    got = set(zip(report["行号"], report["字段"]))
    assert expected <= got, f"expected {sorted(expected)}; report: {report.to_dict('records')}"
    assert set(report["行号"]) == {row for row, _ in expected}, f"problems on other rows: {report.to_dict('records')}"
    with pytest.raises(DataValidationError):
        commit_import(engine, preview, system_operator("测试"))
    assert checksum(engine) == before


@pytest.mark.parametrize("case", UNREADABLE, ids=_ids(UNREADABLE))
def test_an_unreadable_office_file_is_refused_with_a_chinese_message_naming_it(case, url):
    engine = tiny_store(url)
    before = checksum(engine)
    data, _ = case.build()
    with pytest.raises(DataValidationError) as info:
        preview_import(engine, data, case.layer, case.filename, today=TODAY)
    message = str(info.value)
    assert case.filename in message, message
    assert re.search(r"[\u4e00-\u9fff]", message.replace(case.filename, "")), message
    assert checksum(engine) == before


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("name", CLI_CASES)
def test_the_command_line_imports_an_office_file_and_prints_its_skipped_rows_and_warnings(name, url, tmp_path,
                                                                                         capsys):
    case = BY_NAME[name]
    engine = tiny_store(url)
    data, layout = case.build()
    path = tmp_path / case.filename
    path.write_bytes(data)
    before = set(read_layer(engine, case.layer)["code"])
    code = main(["--database-url", url, "import", case.layer, str(path)])
    out = capsys.readouterr().out
    assert code == 0, out
    findings = Findings()
    for row in sorted(layout.skipped):
        with findings.check(f"skipped row {row} printed"):
            assert f"第 {row} 行" in out, out
    for key, label in case.expect.warnings:
        with findings.check(f"warning {key} printed"):
            assert f"第 {layout.rows[key]} 行" in out and label in out, out
    check_stored(engine, case, before, findings)
    findings.raise_any(case)


# ---------------------------------------------------------------- the corpus itself


def test_the_corpus_has_at_least_32_files_each_listed_in_the_module_docstring():
    assert len(CASES) >= 32 and len(BY_NAME) == len(CASES)
    assert len(ACCEPTED) >= 20 and len(REFUSED) >= 10 and len(UNREADABLE) >= 4
    for case in CASES:
        data, layout = case.build()
        assert data, case.name
        assert corpus.summary(case, layout) in corpus.__doc__, corpus.summary(case, layout)


def test_the_truth_lies_strictly_inside_its_community_and_grid():
    for truth in corpus.TRUTH.values():
        x0, y0, x1, y1 = corpus.COMMUNITY_BOXES[truth.community]
        assert x0 + 0.0003 < truth.lon < x1 - 0.0003 and y0 + 0.0003 < truth.lat < y1 - 0.0003, truth.key
        if truth.layer == "disputes":
            assert truth.values["grid_code"] == truth.grid, truth.key


def _xlsx_rows(data: bytes, sheet: int = 0) -> list[tuple]:
    wb = load_workbook(io.BytesIO(data), data_only=True)
    return [tuple(r) for r in wb.worksheets[sheet].iter_rows(values_only=True)]


def test_the_generated_files_really_have_their_traits():
    a01, _ = BY_NAME["A01"].build()
    with pytest.raises(UnicodeDecodeError):
        a01.decode("utf-8")
    assert "１２０" in a01.decode("gbk") and "经度(GCJ-02)" in a01.decode("gbk")
    assert BY_NAME["A02"].build()[0].startswith(b"\xef\xbb\xbf")
    a06 = BY_NAME["A06"].build()[0].decode("gb18030")
    assert "䶮园小区" in a06
    with pytest.raises(UnicodeEncodeError):
        "䶮".encode("gbk")
    a03, layout = BY_NAME["A03"].build()
    assert load_workbook(io.BytesIO(a03)).sheetnames == ["填表说明", "小区台账"]
    assert isinstance(_xlsx_rows(a03, 1)[layout.rows["atl"] - 1][7], datetime)
    a04, layout = BY_NAME["A04"].build()
    total = _xlsx_rows(a04)[min(layout.skipped) - 1]
    assert total[0] == "合计" and total[5] == sum(corpus.TRUTH[k].values["households"] for k in BY_NAME["A04"].expect.records)
    assert load_workbook(io.BytesIO(a04)).active.cell(min(layout.skipped), 6).value.startswith("=SUM(")
    a17 = BY_NAME["A17"].build()[0].decode("utf-8")
    assert csv.Sniffer().sniff(a17[:2000], delimiters=",;\t").delimiter == "\t"


@pytest.mark.parametrize("name, present, absent", [
    ("A08", {".shp", ".shx", ".dbf", ".prj", ".cpg"}, set()),
    ("A09", {".shp", ".shx", ".dbf", ".prj"}, {".cpg"}),
    ("A11", {".shp", ".dbf", ".prj", ".cpg"}, {".shx"}),
    ("A12", {".shp", ".shx", ".dbf"}, {".prj", ".cpg"}),
    ("A13", {".shp", ".shx", ".dbf", ".cpg"}, {".prj"}),
])
def test_the_generated_shapefiles_have_exactly_the_parts_they_claim(name, present, absent):
    data, _ = BY_NAME[name].build()
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    suffixes = {"." + i.filename.rsplit(".", 1)[1] for i in infos}
    assert present <= suffixes and not absent & suffixes
    if name == "A08":  # names in GBK without the UTF-8 flag, as Chinese Windows zips them
        assert all(not i.flag_bits & 0x800 for i in infos)
        assert infos[0].filename.encode("cp437").decode("gbk").startswith("小区点位/")
    if name == "A09":
        dbf = next(zipfile.ZipFile(io.BytesIO(data)).read(i) for i in infos if i.filename.endswith(".dbf"))
        assert dbf[29] == 0 and "军门新村１".encode("gbk") in dbf


def test_degrees_minutes_seconds_are_built_within_a_metre_of_the_truth():
    for truth in corpus.TRUTH.values():
        for number in (truth.lon, truth.lat):
            d, m, s = (float(p) for p in re.match(r"(\d+)°(\d+)′([\d.]+)″", corpus.dms(number)).groups())
            assert abs(d + m / 60 + s / 3600 - number) * 111_320 < 0.2
    assert corpus.dms(119.2975) == "119°17′51.00″"
    assert date(2025, 3, 1) == corpus.excel_date(date(2025, 3, 1))
