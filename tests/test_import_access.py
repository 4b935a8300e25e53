"""Imports by role and scope, on SQLite and PostGIS: allowed inside the account's scope, refused outside it
and when logged out — refused imports write nothing (checksum of every table) and are audited."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher, profiles
from sqlalchemy import select

from data import accounts, schema
from data.accounts import authenticate, create_account
from data.ingest import commit_import, preview_import
from geo.access import system_operator
from geo.errors import PermissionDenied
from geo.vocab import Role
from tests.ingest_helpers import checksum, compound_row, csv_bytes, tiny_store

OP = system_operator("测试")
DONGJIE, JUNMEN, ANTAI, GUANGLU = "350102004000", "350102004001", "350102004002", "350102005001"
PW = "Test-pass-2026"
CLIENT = "192.0.2.10"  # the address the logins come from (documentation range)
IN_ANTAI = compound_row()  # a new compound of 安泰社区 (东街街道)
IN_GUANGLU = compound_row(小区编码="350102005001C101", 所属社区=GUANGLU, 所属网格=GUANGLU + "001",
                          经度=119.305, 纬度=26.0825)  # 光禄坊社区, 南街街道


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
    monkeypatch.setattr(accounts, "_dummy_hash", None)


@pytest.fixture
def engine(db_url):
    eng = tiny_store(db_url)
    create_account(eng, OP, "admin", Role.DISTRICT, "", PW)
    create_account(eng, OP, "dongjie", Role.STREET, DONGJIE, PW)
    create_account(eng, OP, "junmen", Role.COMMUNITY, JUNMEN, PW)
    create_account(eng, OP, "antai", Role.COMMUNITY, ANTAI, PW)
    return eng


def _try(engine, who: str | None, rows: list[dict]):
    preview = preview_import(engine, csv_bytes(rows), "compounds", "台账.csv")
    assert preview.ok, preview.problems
    account = authenticate(engine, who, PW, CLIENT) if who else None
    return commit_import(engine, preview, account)


def _stored(engine, code: str) -> dict | None:
    with engine.connect() as conn:
        row = conn.execute(select(schema.compounds).where(schema.compounds.c.code == code)).mappings().first()
    return dict(row) if row else None


@pytest.mark.parametrize(("who", "rows", "allowed"), [
    ("admin", [IN_ANTAI, IN_GUANGLU], True),
    ("dongjie", [IN_ANTAI], True),
    ("dongjie", [IN_ANTAI, IN_GUANGLU], False),  # one row outside 东街街道 refuses the whole file
    ("junmen", [IN_ANTAI], False),
    ("antai", [IN_ANTAI], True),
    (None, [IN_ANTAI], False),
])
def test_imports_by_role_and_scope(engine, who, rows, allowed):
    before = checksum(engine)
    if allowed:
        result = _try(engine, who, rows)
        assert result.inserted == len(rows)
        assert _stored(engine, rows[0]["小区编码"])["community_code"] == rows[0]["所属社区"]
        return
    with pytest.raises(PermissionDenied) as refused:
        _try(engine, who, rows)
    after_denial = checksum(engine)
    assert "登录" in str(refused.value) if who is None else "只能修改" in str(refused.value)
    with engine.connect() as conn:
        last = conn.execute(select(schema.audit_log).order_by(schema.audit_log.c.id.desc()).limit(1)).mappings().one()
    assert last["action"] == "denied" and last["table_name"] == "compounds"
    assert _stored(engine, rows[-1]["小区编码"]) is None
    assert before != after_denial  # only the refusal (and the login) was recorded …
    with engine.connect() as conn:  # … no compound changed
        assert conn.execute(select(schema.compounds.c.code)).scalars().all() == [
            f"{JUNMEN}C00{i}" for i in (1, 2, 3)]


def test_a_record_cannot_be_moved_in_from_outside_the_scope(engine):
    """安泰's supervisor re-imports 军门's compound as if it were in 安泰: refused, the compound stays in 军门."""
    moved = compound_row(小区编码=f"{JUNMEN}C001", 小区名称="军门新村1")
    with pytest.raises(PermissionDenied, match=JUNMEN):
        _try(engine, "antai", [moved])
    assert _stored(engine, f"{JUNMEN}C001")["community_code"] == JUNMEN
    _try(engine, "dongjie", [moved])  # the sub-district holds both communities
    assert _stored(engine, f"{JUNMEN}C001")["community_code"] == ANTAI


def test_sub_district_boundaries_are_imported_by_the_district_only(engine):
    from data.exchange import export_layer

    data = export_layer(engine, "streets", fmt="geojson")
    preview = preview_import(engine, data, "streets", "街道.geojson")
    assert preview.ok, preview.problems
    with pytest.raises(PermissionDenied):
        commit_import(engine, preview, authenticate(engine, "dongjie", PW, CLIENT))
    assert commit_import(engine, preview, authenticate(engine, "admin", PW, CLIENT)).updated == 2


def test_logins_and_refusals_leave_the_data_version_alone(engine):
    from data.store import data_version
    from geo.errors import AuthenticationError

    version = data_version(engine)
    authenticate(engine, "dongjie", PW, CLIENT)
    with pytest.raises(AuthenticationError):
        authenticate(engine, "dongjie", "wrong", CLIENT)
    with pytest.raises(PermissionDenied):
        _try(engine, "junmen", [IN_ANTAI])
    assert data_version(engine) == version  # the pages' caches survive logins and refused writes
    _try(engine, "dongjie", [IN_ANTAI])
    assert data_version(engine) > version
