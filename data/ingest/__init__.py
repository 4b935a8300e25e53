"""Office data into the store: read a file, preview what it would do, then write it in one transaction.

- ``read`` (with ``source``, ``sheets``, ``vector``): any office file into a raw ``SourceTable``
  — CSV/TXT, XLSX, XLS, GeoJSON, GeoPackage, Shapefile — or one Chinese sentence naming the file.
- ``preview``: ``preview_import`` (read, map, convert, validate; writes nothing) and
  ``commit_import`` (all rows or none, one audit entry).

The 数据管理 page and ``python -m data.cli import`` import from here.
"""
from __future__ import annotations

from data.ingest.preview import (
    ROW,
    ImportPreview,
    ImportResult,
    Progress,
    commit_import,
    import_file,
    import_log,
    preview_import,
    read_sequences,
    reference,
    row_states,
)
from data.ingest.read import SUFFIXES, SourceTable, read_source, sheet_names

__all__ = ["ROW", "SUFFIXES", "ImportPreview", "ImportResult", "Progress", "SourceTable", "commit_import", "import_file",
           "import_log", "preview_import", "read_sequences", "read_source", "reference", "row_states", "sheet_names"]
