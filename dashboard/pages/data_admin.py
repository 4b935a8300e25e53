"""数据管理: import (preview first, then one transaction), export, templates, audit log, accounts and reference layers."""
from __future__ import annotations

import streamlit as st

from dashboard.auth import current_account
from dashboard.context import setup_page
from dashboard.data_admin.accounts_view import accounts_view
from dashboard.data_admin.audit_view import audit_view
from dashboard.data_admin.basemap_view import basemap_panel
from dashboard.data_admin.import_view import import_view
from dashboard.data_admin.pack_view import pack_view
from dashboard.data_admin.reference_view import reference_view
from dashboard.data_admin.status_view import status_panel
from dashboard.data_admin.transfer_view import export_view, templates_view
from dashboard.scope_ui import breadcrumb, selectors
from dashboard.text import md_escape
from geo.vocab import ReferenceKind

REFERENCE_VIEW = ReferenceKind.title()
VIEWS = ("导入", "导出", "模板", "操作日志", "账号", REFERENCE_VIEW)  # only the chosen view is computed


def render() -> None:
    """The page: shared setup (login in the sidebar), then the chosen view only."""
    ctx = setup_page()
    selectors(ctx)
    account = current_account()
    st.title(f"{md_escape(ctx.units.name(ctx.scope))} · 数据管理")
    breadcrumb(ctx)
    view = st.segmented_control("视图", VIEWS, default=VIEWS[0], key="da_view", label_visibility="collapsed") or VIEWS[0]
    if view == REFERENCE_VIEW:
        reference_view(ctx, account)
    elif view == VIEWS[0]:
        import_view(ctx, account)
    elif view == VIEWS[1]:
        export_view(ctx)
        pack_view(ctx)
    elif view == VIEWS[2]:
        templates_view()
    elif view == VIEWS[3]:
        audit_view(ctx, account)
    else:
        status_panel(ctx, account)
        basemap_panel(ctx, account)
        accounts_view(ctx, account)
