"""``accounts`` command: create, reset-password, deactivate, unlock, unlock-client, locks, list.

Passwords are read from a hidden prompt (asked twice) or, with ``--password-stdin``, from the first
line of standard input — never from the command line, where they would land in the shell history
and the process list. The command acts as ``geo.access.system_operator("命令行:<OS user>")``, which
is what the audit log records.

    python -m data.cli accounts create dongjie2 --role 街道办 --scope 350102004000 --name "东街 王工"
    echo "$PW" | python -m data.cli accounts reset-password dongjie2 --password-stdin
    python -m data.cli accounts locks                    # running login locks: client, user name, until
    python -m data.cli accounts unlock dongjie2          # lift the name's locks (every client)
    python -m data.cli accounts unlock-client 10.1.2.3   # lift a client's locks (every name)
    python -m data.cli accounts list

Every password set here must follow the rule of ``geo.passwords`` (printed in the prompt).

``register(subparsers)`` adds the command to another parser (``data/cli.py``, whose top-level
``--database-url`` it reads); each subcommand sets ``handler`` to ``fn(args) -> int`` (the exit code).
Project errors propagate; ``data.cli.main`` prints them in Chinese and exits with 2.
"""
from __future__ import annotations

import argparse
import getpass
import sys

import pandas as pd
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
    first = getpass.getpass(f"新密码（{accounts.PASSWORD_RULE}）：")
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


def _unlock(args: argparse.Namespace) -> int:
    cleared = accounts.unlock_account(_engine(args), _operator(), args.username)
    print(f"已解除账号 {args.username} 的登录锁定（{cleared} 项计数已清除）")
    return 0


def _unlock_client(args: argparse.Namespace) -> int:
    cleared = accounts.unlock_client(_engine(args), _operator(), args.address)
    print(f"已解除网络地址 {args.address} 的登录锁定（{cleared} 项计数已清除）")
    return 0


def _locks(args: argparse.Namespace) -> int:
    table = accounts.list_login_locks(_engine(args), _operator())
    if table.empty:
        print("（没有正在生效的登录锁定）")
        return 0
    for r in table.itertuples():
        print(f"{r.client}\t{r.username}\t失败{r.failures}次\t锁定至 {r.locked_until:%Y-%m-%d %H:%M:%S} UTC")
    return 0


def _list(args: argparse.Namespace) -> int:
    table = accounts.list_accounts(_engine(args), _operator())
    if table.empty:
        print("（没有账号）")
        return 0
    for r in table.itertuples():
        flags = [w for w, on in (("已停用", not r.active), ("演示账号", r.is_demo),
                                 ("须改密码", r.must_change_password), ("锁定中", pd.notna(r.locked_until))) if on]
        scope = r.scope_code if pd.notna(r.scope_code) and r.scope_code else "全区"
        print(f"{r.username}\t{r.display_name}\t{r.role_label}\t{scope}\t{'、'.join(flags)}")
    return 0


def _add_password_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--password-stdin", action="store_true", help="从标准输入的第一行读取密码（不在命令行中给出密码）")
    p.add_argument("--no-change-required", action="store_true", help="首次登录不要求修改密码")


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``accounts`` command (create / reset-password / deactivate / unlock / unlock-client / locks / list)
    to ``subparsers``."""
    parser = subparsers.add_parser("accounts", help="账号管理：创建、重置密码、停用、解除锁定、列出")
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
    unlock = sub.add_parser("unlock", help="解除账号的登录锁定（所有网络地址）")
    unlock.add_argument("username")
    unlock.set_defaults(handler=_unlock)
    unlock_client = sub.add_parser("unlock-client", help="解除某网络地址的登录锁定（所有用户名）")
    unlock_client.add_argument("address", help="网络地址，如 accounts locks 所列（IPv6 为 /64 网段）")
    unlock_client.set_defaults(handler=_unlock_client)
    sub.add_parser("locks", help="列出正在生效的登录锁定").set_defaults(handler=_locks)
    sub.add_parser("list", help="列出账号").set_defaults(handler=_list)
    return parser

