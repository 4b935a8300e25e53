"""``accounts`` command: create, reset-password, deactivate, list.

Passwords are read from a hidden prompt (asked twice) or, with ``--password-stdin``, from the first
line of standard input — never from the command line, where they would land in the shell history
and the process list. The command acts as ``geo.access.system_operator("命令行:<OS user>")``, which
is what the audit log records.

    python -m data.cli accounts create dongjie2 --role 街道办 --scope 350102004000 --name "东街 王工"
    echo "$PW" | python -m data.cli accounts reset-password dongjie2 --password-stdin
    python -m data.cli accounts list

``register(subparsers)`` adds the command to another parser (``data/cli.py``, whose top-level
``--database-url`` it reads); each subcommand sets ``handler`` to ``fn(args) -> int`` (the exit code).
Project errors propagate; ``data.cli.main`` prints them in Chinese and exits with 2.
"""
from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import Engine

from data import accounts
from data.store import engine_for, migrate
from geo.access import Account, system_operator
from geo.errors import GuloError
from geo.settings import get_settings
from geo.vocab import Role


def _operator() -> Account:
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return system_operator(f"命令行:{who}")


def _engine(args: argparse.Namespace) -> Engine:
    engine = engine_for(getattr(args, "database_url", None) or get_settings().db_url)
    migrate(engine)
    return engine


def read_password(from_stdin: bool, stdin=None) -> str:
    """The new password from stdin's first line, or typed twice at a hidden prompt."""
    if from_stdin:
        return (stdin or sys.stdin).readline().rstrip("\r\n")
    first = getpass.getpass("新密码（至少8位）：")
    if getpass.getpass("再次输入：") != first:
        raise GuloError("两次输入的密码不一致")
    return first


def _create(args: argparse.Namespace) -> int:
    password = None if args.no_password else read_password(args.password_stdin)
    acct = accounts.create_account(_engine(args), _operator(), args.username, args.role, args.scope or "",
                                   password, args.name or "", must_change_password=not args.no_change_required)
    print(f"已创建账号 {acct.username}：{acct.label}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    password = read_password(args.password_stdin)
    accounts.reset_password(_engine(args), _operator(), args.username, password,
                            must_change_password=not args.no_change_required)
    print(f"已重置账号 {args.username} 的密码，登录锁定已解除")
    return 0


def _deactivate(args: argparse.Namespace) -> int:
    accounts.deactivate(_engine(args), _operator(), args.username)
    print(f"已停用账号 {args.username}")
    return 0


def _list(args: argparse.Namespace) -> int:
    table = accounts.list_accounts(_engine(args), _operator())
    if table.empty:
        print("（没有账号）")
        return 0
    for r in table.itertuples():
        flags = [w for w, on in (("已停用", not r.active), ("演示账号", r.is_demo),
                                 ("须改密码", r.must_change_password), ("锁定中", r.locked_until is not None)) if on]
        print(f"{r.username}\t{r.display_name}\t{r.role_label}\t{r.scope_code or '全区'}\t{'、'.join(flags)}")
    return 0


def _add_password_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--password-stdin", action="store_true", help="从标准输入的第一行读取密码（不在命令行中给出密码）")
    p.add_argument("--no-change-required", action="store_true", help="首次登录不要求修改密码")


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``accounts`` command (create / reset-password / deactivate / list) to ``subparsers``."""
    parser = subparsers.add_parser("accounts", help="账号管理：创建、重置密码、停用、列出")
    sub = parser.add_subparsers(dest="accounts_command", required=True)
    create = sub.add_parser("create", help="创建账号", allow_abbrev=False)
    create.add_argument("username")
    create.add_argument("--role", required=True, help="角色：" + "、".join(f"{m.value}/{m.label}" for m in Role))
    create.add_argument("--scope", default="", help="辖区代码：街道办为12位街道代码，社区/网格督导为12位社区代码；区级管理员留空")
    create.add_argument("--name", default="", help="显示名称")
    create.add_argument("--no-password", action="store_true", help="不设密码（仅可通过统一身份认证登录）")
    _add_password_options(create)
    create.set_defaults(handler=_create)
    reset = sub.add_parser("reset-password", help="重置密码并解除登录锁定", allow_abbrev=False)
    reset.add_argument("username")
    _add_password_options(reset)
    reset.set_defaults(handler=_reset)
    off = sub.add_parser("deactivate", help="停用账号")
    off.add_argument("username")
    off.set_defaults(handler=_deactivate)
    sub.add_parser("list", help="列出账号").set_defaults(handler=_list)
    return parser

