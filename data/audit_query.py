"""The audit log for people: filtered queries (action, table, account, Beijing date range), newest first,
and each entry's before/after JSON turned into one readable Chinese line.

``read_audit`` (data.store) gives the raw rows; the 数据管理 page's 操作日志 view uses ``query_audit``
and ``readable_audit`` here. Reading only: nothing in this module writes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import Engine, select

from data import schema
from data.faults import database_errors
from geo.ingest_fields import LAYER_FIELDS, LAYER_LABELS
from geo.lifecycle import DISTRICT_TZ
from geo.vocab import ReferenceKind, Role

ACTION_LABELS: dict[str, str] = {
    "insert": "新增", "update": "修改", "delete": "删除", "import": "导入", "sample": "生成示例数据",
    "login": "登录", "login_failed": "登录失败", "login_locked": "登录被锁定", "account_create": "创建账号",
    "password_reset": "重置密码", "password_change": "修改密码", "account_activate": "启用账号",
    "account_deactivate": "停用账号", "denied": "拒绝写入", "export": "导出",
    "account_unlock": "解除登录锁定", "client_unlock": "解除网络地址锁定",
}
"""Audit action -> Chinese label (unknown actions are shown as they are stored)."""
TABLE_LABELS: dict[str, str] = {**LAYER_LABELS, "accounts": "账号", "reference_features": ReferenceKind.title()}
RECORD_LABELS: dict[str, dict[str, str]] = {"reference_features": ReferenceKind.labels()}
"""Per table: stored record code -> Chinese label (a reference layer's entries name its kind)."""
KEY_LABELS: dict[str, str] = {
    "file": "文件", "layer": "图层", "rows": "行数", "inserted": "新增", "updated": "更新", "encoding": "编码",
    "crs": "坐标系", "repaired": "修复几何", "reason": "原因", "username": "用户名", "display_name": "显示名",
    "role": "角色", "scope_code": "辖区代码", "active": "启用", "password": "密码", "method": "方式",
    "must_change_password": "须改密码", "is_demo": "演示账号", "failed_logins": "失败次数", "locked_until": "锁定至",
    "scope": "范围", "format": "格式", "what": "内容",
    "client": "网络地址", "locks": "锁定", "failures": "失败次数", "source": "来源",
}
HIDDEN_KEYS = {"updated_at", "created_at", "last_login_at", "last_failed_at", "password_hash"}
"""Keys left out of the readable line (timestamps repeat the entry's own time; hashes never appear anyway)."""
MAX_LIMIT = 5000


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to read. Empty tuples mean "all"; ``since``/``until`` are Beijing dates, inclusive."""

    actions: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    limit: int = 1000


def _utc(day: date) -> datetime:
    """Midnight of ``day`` in Beijing time, as a UTC datetime."""
    return datetime.combine(day, time(0), DISTRICT_TZ).astimezone(UTC)


@database_errors("查询操作日志")
def query_audit(engine: Engine, flt: AuditFilter = AuditFilter()) -> pd.DataFrame:
    """Entries matching ``flt``, newest first (columns of ``audit_log``; ``at`` in UTC), at most ``flt.limit``."""
    t = schema.audit_log
    stmt = select(t).order_by(t.c.id.desc()).limit(max(1, min(flt.limit, MAX_LIMIT)))
    for column, values in ((t.c.action, flt.actions), (t.c.table_name, flt.tables), (t.c.actor, flt.actors)):
        if values:
            stmt = stmt.where(column.in_(list(values)))
    if flt.since is not None:
        stmt = stmt.where(t.c.at >= _utc(flt.since))
    if flt.until is not None:
        stmt = stmt.where(t.c.at < _utc(flt.until + timedelta(days=1)))
    with engine.connect() as conn:
        result = conn.execute(stmt)
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


@database_errors("读取操作日志筛选项")
def audit_choices(engine: Engine, actor: str | None = None) -> dict[str, list[str]]:
    """The distinct actions, tables and accounts in the log (only ``actor``'s entries when given)."""
    t = schema.audit_log
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for key, column in (("actions", t.c.action), ("tables", t.c.table_name), ("actors", t.c.actor)):
            stmt = select(column).distinct().order_by(column)
            if actor is not None:
                stmt = stmt.where(t.c.actor == actor)
            out[key] = [str(v) for v in conn.execute(stmt).scalars()]
    return out


def _load(text) -> dict | None:
    """A JSON object from the log, or None; text that is not an object is kept under ``值``."""
    if text is None or (isinstance(text, float) and pd.isna(text)):
        return None
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {"值": str(text)}
    return value if isinstance(value, dict) else {"值": value}


def _label(key: str, table: str) -> str:
    """A stored key in words: the table's field label, else a known log key, else the key itself."""
    fields = {s.name: s.label for s in LAYER_FIELDS.get(table, ())}
    return fields.get(key, KEY_LABELS.get(key, key))


VALUE_LABELS: dict[str, dict[str, str]] = {
    "layer": TABLE_LABELS, "role": Role.labels(), "method": {"password": "密码", "oidc": "统一身份认证"},
}
"""Per key: stored value -> Chinese label."""


def _value(key: str, value, table: str = "") -> str:
    """A stored value in words: 是/否, enum labels of the table's fields, roles, layers."""
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    vocab = next((s.vocab for s in LAYER_FIELDS.get(table, ()) if s.name == key and s.vocab is not None), None)
    labels = vocab.labels() if vocab is not None else VALUE_LABELS.get(key, {})
    return labels.get(str(value), str(value))


def change_text(before, after, table: str = "") -> str:
    """One readable line for an entry: ``字段：旧 → 新`` for what changed, else ``字段：值`` of what was written."""
    old, new = _load(before), _load(after)
    if old is not None and new is not None:
        keys = [k for k in new if k not in HIDDEN_KEYS and old.get(k) != new.get(k)]
        keys += [k for k in old if k not in new and k not in HIDDEN_KEYS]
        return "；".join(f"{_label(k, table)}：{_value(k, old.get(k), table)} → {_value(k, new.get(k), table)}" for k in keys)
    shown = new if new is not None else old or {}
    prefix = "" if new is not None else "删除前："
    return prefix + "；".join(f"{_label(k, table)}：{_value(k, v, table)}" for k, v in shown.items() if k not in HIDDEN_KEYS)


def beijing_text(value) -> str:
    """A stored UTC time as ``YYYY-MM-DD HH:MM:SS`` in Beijing time (naive values are UTC, as SQLite returns
    them); "" for none."""
    if value is None or pd.isna(value):
        return ""
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp
    return stamp.tz_convert(DISTRICT_TZ).strftime("%Y-%m-%d %H:%M:%S")


def readable_audit(frame: pd.DataFrame) -> pd.DataFrame:
    """Audit rows as shown and exported: 编号, 时间（北京）, 账号, 操作, 数据表, 记录, 变更内容."""
    columns = ["编号", "时间（北京）", "账号", "操作", "数据表", "记录", "变更内容"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    rows = [[int(r.id), beijing_text(r.at), r.actor, ACTION_LABELS.get(r.action, r.action),
             TABLE_LABELS.get(r.table_name, r.table_name),
             "" if pd.isna(r.record_code) else RECORD_LABELS.get(r.table_name, {}).get(r.record_code, r.record_code),
             change_text(r.before, r.after, r.table_name)] for r in frame.itertuples(index=False)]
    return pd.DataFrame(rows, columns=columns)
