"""The 导入 view never shows a traceback: unreadable files, hostile file names and unexpected failures become
Chinese sentences (an incident id for the unexpected), and nothing is written."""
from __future__ import annotations

import io
import json
import logging
import zipfile

import pytest

from dashboard.data_admin import importing as imp
from dashboard.text import md_escape
from data.incidents import LOGGER_NAME
from data.store import engine_for
from tests.ingest_helpers import checksum
from tests.test_data_admin_page import cheap_hashes, db_url, open_page, sample_file  # noqa: F401 - fixtures


def _zip(**members: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


BAD_FILES = [
    ("空文件.csv", b""),
    ("截断.geojson", json.dumps({"type": "FeatureCollection", "features": []}).encode()[:-5]),
    ("不是压缩包.zip", b"PK\x03\x04 not really"),
    ("缺shp.zip", _zip(**{"a.dbf": b"x", "a.shx": b"y"})),
    ("加密.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),
    ("损坏.xlsx", b"PK\x03\x04" + bytes(100)),
    ("损坏.gpkg", b"SQLite format 3\x00" + bytes(200)),
]


@pytest.mark.parametrize("filename, data", BAD_FILES, ids=[f for f, _ in BAD_FILES])
def test_an_unreadable_file_is_one_chinese_sentence_naming_it_and_nothing_is_written(db_url, filename, data):  # noqa: F811
    digest = checksum(engine_for(db_url))
    at = open_page("导入", "dongjie", (filename, data), db_url)
    errors = " ".join(e.value for e in at.error)
    assert md_escape(filename) in errors, errors
    for leak in ("Traceback", "/tmp", "Error", "GDAL", "Errno"):
        assert leak not in errors, errors
    assert not [b for b in at.button if b.key == "imp_confirm"]  # no preview, so nothing to confirm
    assert checksum(engine_for(db_url)) == digest


def test_an_unexpected_failure_shows_an_incident_id_and_logs_the_details(db_url, monkeypatch, caplog):  # noqa: F811
    def boom(*args, **kwargs):
        raise RuntimeError("boom at /srv/secret/path")

    monkeypatch.setattr(imp, "preview_import", boom)
    incidents = logging.getLogger(LOGGER_NAME)  # the command line may have pointed it at a file: listen on it
    incidents.addHandler(caplog.handler)
    monkeypatch.setattr(incidents, "level", logging.INFO)
    at = open_page("导入", "dongjie", ("台账.csv", "小区名称,户数\n军门新村,120\n".encode()), db_url)
    errors = " ".join(e.value for e in at.error)
    assert "意外错误" in errors and "事件编号" in errors and "未写入任何数据" in errors
    assert "boom" not in errors and "/srv" not in errors
    incident = errors.split("事件编号 ")[1][:8]
    incidents.removeHandler(caplog.handler)
    assert any(incident in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_hostile_file_name_is_shown_as_text_not_as_a_link(db_url):  # noqa: F811
    name = "[请点此重新登录](http://evil.example)![x](http://evil.example/x.png).csv"
    at = open_page("导入", "dongjie", (name, b""), db_url)
    shown = " ".join(e.value for e in at.error)
    assert "](http" not in shown.replace("\\]\\(http", "")  # every bracket and parenthesis is escaped
    assert md_escape("[请点此重新登录](http://evil.example)") in shown
    assert "http://" not in shown  # nor a bare URL: GFM links one even when its dots are escaped
