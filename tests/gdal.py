"""GDAL's command-line tools (Debian's gdal-bin) as an outside reader of our exports.

``ogrinfo`` runs ``ogrinfo -so`` on a file (or a /vsizip/ path) and parses what QGIS's own reader saw: the
feature count, each field's type, and the layer's CRS (its name and its EPSG id, None when it declares
none). Tests skip without gdal-bin — or fail where REQUIRE_GDAL=1 (CI) says they must run.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import skip_or_fail

OGRINFO = "ogrinfo"
_FIELD = re.compile(r"^(\S[^:\n]*): (Integer64|Integer|Real|String|DateTime|Date|Time)(?:\((\w+)\))? \(", re.M)
_TOP_ID = re.compile(r'^    ID\["EPSG",(\d+)\]\]$', re.M)
_CRS_NAME = re.compile(r'^(?:GEOGCRS|PROJCRS|GEOGCS|PROJCS)\["([^"]+)"', re.M)


@dataclass(frozen=True)
class LayerInfo:
    """What ogrinfo reports of one layer."""

    count: int
    fields: dict[str, str]
    crs_name: str | None
    epsg: int | None
    text: str


def require_gdal() -> str:
    """The path of ogrinfo; skip (or fail under REQUIRE_GDAL=1) when gdal-bin is not installed."""
    path = shutil.which(OGRINFO)
    if path is None:
        skip_or_fail("GDAL command-line tools (gdal-bin) not installed", "REQUIRE_GDAL")
    return path


def run(*args: str) -> str:
    """Run ogrinfo with ``args``; its standard output (a failure raises with its error text)."""
    done = subprocess.run([require_gdal(), *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"ogrinfo {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def ogrinfo(path: Path | str, layer: str | None = None, *options: str) -> LayerInfo:
    """``ogrinfo -so -al`` (or of one ``layer``) parsed; ``options`` such as ``-oo AUTODETECT_TYPE=YES``."""
    args = [*options, "-so", "-ro"]
    args += [str(path), layer] if layer else ["-al", str(path)]
    text = run(*args)
    count = re.search(r"^Feature Count: (\d+)", text, re.M)
    srs = text.split("Layer SRS WKT:", 1)[1] if "Layer SRS WKT:" in text else ""
    srs = srs.split("\nData axis", 1)[0].split("\nFID Column", 1)[0]
    name = _CRS_NAME.search(srs.strip())
    epsg = _TOP_ID.search(srs)
    fields = {m.group(1): m.group(2) for m in _FIELD.finditer(text.split("Geometry Column", 1)[-1])}
    return LayerInfo(int(count.group(1)) if count else -1, fields, name.group(1) if name else None,
                     int(epsg.group(1)) if epsg else None, text)


def sql(path: Path | str, statement: str) -> list[dict[str, str]]:
    """The rows of ``statement`` run by ogrinfo on ``path`` (values as ogrinfo prints them; (null) -> None)."""
    text = run("-ro", "-q", str(path), "-sql", statement)
    rows: list[dict[str, str]] = []
    for block in text.split("OGRFeature(")[1:]:
        row = {}
        for m in re.finditer(r"^  (\S+) \(\w+\) = (.*)$", block, re.M):
            row[m.group(1)] = None if m.group(2) == "(null)" else m.group(2)
        rows.append(row)
    return rows
