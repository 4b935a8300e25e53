"""网格边界编辑: redraw a grid, split it, or move the boundary between two grids — on the map, checked, saved.

At community scope (a grid scope edits its community) an account that may change the community's grid
boundaries (district role; the sub-district holding it — ``geo.grid_edit.may_edit_geometry``) picks an
operation and the grid(s), draws with Leaflet.draw on the community's map (``layers.grid_edit.draw_map``,
assets served by the app), and presses 「检查」: ``geo.grid_edit`` builds the new tiling and checks it. A
refused edit shows the offending areas on a second map (overlap red, gap hatched orange, outside purple)
with the problems in Chinese; a passing one shows the new tiling and the households/population proposed for
each changed grid, which the user confirms or edits before 「保存」 (``data.grid_edits.save_grid_geometry``,
which checks everything again in its transaction). Every save moves the data version, so every figure of
every page is rebuilt at its next run.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import folium
import geopandas as gpd
import pandas as pd
import shapely
import shapely.geometry
import streamlit as st

from dashboard.auth import current_account
from dashboard.context import PageContext, engine
from dashboard.foliumview import show_folium
from dashboard.mapview import STATIC_PREFIX, serve_assets
from dashboard.text import md_escape, md_format
from data.grid_edits import save_grid_geometry
from geo.access import Account
from geo.errors import ConflictError, DatabaseFault, DataValidationError, GuloError, PermissionDenied
from geo.grid_edit import (
    OPERATIONS,
    PROBLEM_KINDS,
    EditCheck,
    changes_frame,
    check_edit,
    check_households,
    may_edit_geometry,
    move_boundary,
    overshoot_m2,
    propose_households,
    redraw_grid,
    split_grid,
)
from geo.scope import Scope
from geo.vocab import Level, Role
from layers.assets import streamlit_mode
from layers.grid_edit import draw_map, drawn_to_wgs84, result_map

MAP_HEIGHT = 520
RESULT_KEY = "grid_edit_result"
FLASH_KEY = "grid_edit_flash"
TOOL = {"redraw": "polygon", "split": "polyline", "move_boundary": "polygon"}
DEFAULT_TOLERANCE_M = 10
HOW = {
    "redraw": "用左上角的“画多边形”工具画出所选网格的完整新范围（单击逐点画，单击第一个点或“完成”闭合）。"
              "新范围不会被自动裁剪：与相邻网格重叠、留下空隙或越出社区边界的都不能保存。",
    "split": "用左上角的“画折线”工具从网格外开始、穿过网格、在另一侧网格外结束画一条线；面积较大的一块保留原编号，"
             "另一块成为新网格。",
    "move_boundary": "用“画多边形”工具画出网格一的新范围，网格二得到两网格合并范围中其余的部分。沿两网格外缘画时可以略画出界外，"
                     "超出部分在贴合容差内会自动贴合到外缘。",
}
COLOUR_WORDS = {"overlap": "红色", "gap": "橙色斜线", "outside": "紫色", "parts": "棕色"}


@dataclass(frozen=True)
class Checked:
    """A checked edit kept for the session: what it was made from, its result, and the map showing it."""

    fingerprint: str
    after: gpd.GeoDataFrame
    check: EditCheck
    proposal: pd.DataFrame
    versions: dict[str, int]
    trimmed_m2: float
    map: folium.Map


def grid_edit_view(ctx: PageContext) -> None:
    """The 网格边界编辑 view of the coverage workspace."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    if ctx.scope.level not in (Level.COMMUNITY, Level.GRID):
        st.info("网格边界按社区编辑：请先在左侧选择一个社区（或在地图上逐级点选到社区），再回到“网格边界编辑”。")
        return
    community_code = ctx.scope.community
    account = current_account()
    if not _may_edit(ctx, account, community_code):
        return
    grids = ctx.layer("grids", Scope(community_code))
    community = ctx.layer("communities", Scope(community_code))
    if not len(grids) or not len(community):
        st.info("该社区还没有网格边界数据。")
        return
    op, codes, tolerance = _controls(ctx, grids)
    st.caption(HOW[op])
    drawn = _draw(ctx, grids, community, op, codes)
    fingerprint = _fingerprint(ctx, op, codes, tolerance, drawn)
    if drawn is None:
        st.caption("在地图上画出图形后即可检查。")
    if st.button("检查", type="primary", disabled=drawn is None, key="grid_edit_check"):
        _run_check(ctx, grids, community, op, codes, tolerance, drawn, fingerprint)
    checked = st.session_state.get(RESULT_KEY)
    if isinstance(checked, Checked) and checked.fingerprint == fingerprint:
        _show_result(ctx, checked, account)


def _may_edit(ctx: PageContext, account: Account | None, community_code: str) -> bool:
    """Whether to offer the editor; says why not (the store checks again on save)."""
    where = ctx.units.names.get(community_code, community_code)
    if account is None:
        st.info("登录后才能编辑网格边界（区级管理员，或该社区所属街道办的账号）；每次修改都以登录账号记入审计日志。")
        return False
    if may_edit_geometry(account, community_code):
        return True
    if account.role is Role.COMMUNITY:
        st.warning(md_format("账号“{}”是{}：网格边界须由{}或{}调整，请联系所属街道办。", account.username,
                             account.role.label, Role.STREET.label, Role.DISTRICT.label))
    else:
        st.warning(md_format("账号“{}”（{}）只能调整{}范围内的网格边界，{}不在其中。", account.username,
                             account.role.label, account.where, where))
    return False


def _controls(ctx: PageContext, grids: gpd.GeoDataFrame) -> tuple[str, tuple[str, ...], float]:
    """Operation, grid code(s) and, for a moved boundary, the snapping tolerance (metres)."""
    names = dict(zip(grids["code"], grids["name"]))
    label = {c: f"{n}（{int(h):,} 户）" for c, n, h in zip(grids["code"], grids["name"], grids["households"])}
    cols = st.columns([2, 2, 2, 1])
    op = cols[0].radio("操作", list(OPERATIONS), format_func=OPERATIONS.get, key="grid_edit_op", horizontal=True)
    first = "网格一" if op == "move_boundary" else "网格"
    a = cols[1].selectbox(first, list(names), format_func=label.get, key="grid_edit_a")
    if op != "move_boundary":
        return op, (a,), 0.0
    neighbours = _neighbours(grids, a)
    if not neighbours:
        cols[2].info("该网格没有相邻网格。")
        st.stop()
    b = cols[2].selectbox("网格二（相邻）", neighbours, format_func=label.get, key="grid_edit_b")
    tolerance = cols[3].number_input("贴合容差（米）", 0, 50, DEFAULT_TOLERANCE_M, 1, key="grid_edit_tol",
                                     help="所画范围超出两网格外缘不超过此距离的部分，自动贴合到外缘；超出更多则不能保存")
    return op, (a, b), float(tolerance)


def _neighbours(grids: gpd.GeoDataFrame, code: str) -> list[str]:
    """Grids sharing a boundary line with grid ``code`` (metric, EPSG:32650)."""
    metric = grids.to_crs(32650)
    shape = metric.geometry[grids["code"] == code].iloc[0]
    touching = metric.geometry.intersection(shape).length > 1.0
    return [c for c, t in zip(grids["code"], touching) if t and c != code]


@st.cache_resource(max_entries=16, show_spinner=False, hash_funcs={PageContext: lambda c: (
    c.settings.db_url, c.version, c.settings.basemap, c.settings.asset_mode)})
def _draw_map(ctx: PageContext, community_code: str, tool: str, edited: tuple[str, ...]) -> folium.Map:
    """The drawing map of a community, one per (data version, community, tool, grids outlined)."""
    return draw_map(ctx.layer("grids", Scope(community_code)), ctx.layer("communities", Scope(community_code)),
                    tool=tool, edited=edited, asset_mode=streamlit_mode(ctx.settings.asset_mode), prefix=STATIC_PREFIX,
                    settings=ctx.settings)


def _draw(ctx: PageContext, grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame, op: str,
          codes: tuple[str, ...]) -> shapely.Geometry | None:
    """The drawing map; the last shape drawn with the operation's tool (WGS84), or None."""
    serve_assets()
    tool = TOOL[op]
    m = _draw_map(ctx, ctx.scope.community, tool, codes)
    value = show_folium(m, height=MAP_HEIGHT, returned_objects=["all_drawings"],
                        key=f"grid_edit_draw_{ctx.scope.community}_{op}_{'_'.join(codes)}")
    return _last_drawn(value, tool, ctx.settings.basemap)


def _last_drawn(value, tool: str, basemap: str) -> shapely.Geometry | None:
    """The most recent drawing of the tool's kind in st_folium's ``all_drawings``, as a shapely shape."""
    wanted = {"polygon": ("Polygon", "MultiPolygon"), "polyline": ("LineString", "MultiLineString")}[tool]
    drawings = (value or {}).get("all_drawings") or []
    for feature in reversed(drawings):
        geometry = (feature or {}).get("geometry") or {}
        if geometry.get("type") in wanted:
            try:
                return drawn_to_wgs84(shapely.geometry.shape(geometry), basemap)
            except (ValueError, TypeError, AttributeError):  # a malformed drawing is simply not one
                return None
    return None


def _fingerprint(ctx: PageContext, op: str, codes: tuple[str, ...], tolerance: float, drawn) -> str:
    """What a check depends on: data version, community, operation, grids, tolerance and the drawn shape."""
    shape = b"" if drawn is None else shapely.to_wkb(drawn)
    key = f"{ctx.settings.db_url}|{ctx.version}|{ctx.scope.community}|{op}|{','.join(codes)}|{tolerance}".encode()
    return hashlib.sha256(key + shape).hexdigest()


def _apply(grids: gpd.GeoDataFrame, op: str, codes: tuple[str, ...], tolerance: float, drawn) -> gpd.GeoDataFrame:
    if op == "redraw":
        return redraw_grid(grids, codes[0], drawn)
    if op == "split":
        return split_grid(grids, codes[0], drawn)
    return move_boundary(grids, codes[0], codes[1], drawn, tolerance_m=tolerance)


def _run_check(ctx: PageContext, grids: gpd.GeoDataFrame, community: gpd.GeoDataFrame, op: str, codes: tuple[str, ...],
               tolerance: float, drawn, fingerprint: str) -> None:
    """Build the new tiling, check it, propose households; keep the outcome for the session."""
    st.session_state.pop(RESULT_KEY, None)
    try:
        after = _apply(grids, op, codes, tolerance, drawn)
        check = check_edit(grids, after, community)
        proposal = propose_households(grids, after, ctx.layer("compounds", Scope(ctx.scope.community)))
    except GuloError as exc:
        st.error("无法检查：" + md_escape(exc))
        return
    trimmed = 0.0
    if op == "move_boundary":
        union = shapely.union_all(grids[grids["code"].isin(codes)].geometry.to_numpy())
        trimmed = overshoot_m2(drawn, union) if check.ok else 0.0
    m = result_map(after, community, check.offending, check.changed, asset_mode=streamlit_mode(ctx.settings.asset_mode),
                   prefix=STATIC_PREFIX, settings=ctx.settings)
    versions = {c: int(v) for c, v in zip(grids["code"], grids["version"])}
    st.session_state[RESULT_KEY] = Checked(fingerprint, after, check, proposal, versions, trimmed, m)


def _show_result(ctx: PageContext, checked: Checked, account: Account | None) -> None:
    """The checked tiling on a map; the problems, or the household table and 「保存」."""
    check = checked.check
    if check.ok:
        st.success("检查通过：新的网格划分没有重叠、空隙或越出社区边界。请核对下方各网格的户数和人口后保存。")
    else:
        kinds = [k for k in PROBLEM_KINDS if k in set(check.offending["kind"])]
        colours = "；".join(f"{COLOUR_WORDS[k]}为{PROBLEM_KINDS[k][0]}" for k in kinds)
        st.error("检查未通过，不能保存：\n\n" + "\n".join(f"- {md_escape(p)}" for p in check.problems)
                 + (f"\n\n地图上{colours}。请修改所画图形后重新检查。" if colours else "\n\n请修改所画图形后重新检查。"))
    if checked.trimmed_m2 >= 1:
        st.caption(f"所画范围超出两网格外缘的 {checked.trimmed_m2:,.0f} 平方米在贴合容差内，已贴合到外缘。")
    st.markdown("**检查结果**（蓝色为调整后的网格）")
    show_folium(checked.map, height=MAP_HEIGHT, key=f"grid_edit_result_{checked.fingerprint[:12]}")
    if check.ok:
        _confirm_and_save(ctx, checked, account)


HEADERS = {"name": "网格", "households_before": "原户数", "households": "户数", "population_before": "原人口",
           "population": "人口", "compound_households": "范围内老旧小区户数", "area_m2": "面积（平方米）"}


def _confirm_and_save(ctx: PageContext, checked: Checked, account: Account | None) -> None:
    """The proposed households/population to confirm or edit, and 「保存」."""
    proposal = checked.proposal
    totals = {k: int(pd.to_numeric(proposal[f"{k}_before"], errors="coerce").fillna(0).sum())
              for k in ("households", "population")}
    st.markdown(md_format("**户数与人口重新分配**（按范围内老旧小区户数比例建议，合计须保持 {} 户、{} 人）",
                          f"{totals['households']:,}", f"{totals['population']:,}"))
    shown = proposal[list(HEADERS)].assign(area_m2=proposal["area_m2"].round(0)).rename(columns=HEADERS)
    for col in ("原户数", "原人口"):
        shown[col] = shown[col].map(lambda v: "新网格" if v is None or pd.isna(v) else f"{int(v):,}")
    edited = st.data_editor(shown, hide_index=True, width="stretch", key=f"grid_edit_table_{checked.fingerprint[:12]}",
                            disabled=[h for h in HEADERS.values() if h not in ("户数", "人口")],
                            column_config={"户数": st.column_config.NumberColumn(min_value=0, step=1, format="localized"),
                                           "人口": st.column_config.NumberColumn(min_value=0, step=1, format="localized"),
                                           "范围内老旧小区户数": st.column_config.NumberColumn(format="localized"),
                                           "面积（平方米）": st.column_config.NumberColumn(format="localized")})
    table = proposal.assign(households=edited["户数"].to_numpy(), population=edited["人口"].to_numpy())
    problems = check_households(table, totals["households"], totals["population"])
    if problems:
        st.error("户数或人口需要调整：\n\n" + "\n".join(f"- {md_escape(p)}" for p in problems))
    if st.button("保存", type="primary", disabled=bool(problems), key="grid_edit_save"):
        _save(ctx, checked, table, account)


def _save(ctx: PageContext, checked: Checked, table: pd.DataFrame, account: Account | None) -> None:
    changes = changes_frame(checked.after, table)
    expected = {c: checked.versions[c] for c in changes["code"] if c in checked.versions}
    try:
        result = save_grid_geometry(engine(ctx), changes, expected, account)
    except (PermissionDenied, ConflictError, DataValidationError, DatabaseFault) as exc:
        st.error("未保存：" + md_escape(exc))
        return
    moved = "、".join(f"{label} {result.moved.get(t, 0)} 个" for t, label in
                     (("compounds", "老旧小区"), ("stations", "站点"), ("disputes", "纠纷")) if result.moved.get(t))
    names = dict(zip(checked.after["code"], checked.after["name"]))
    saved = "、".join(names.get(c, c) for c in result.versions)
    st.session_state[FLASH_KEY] = md_format("已保存：{}的新边界、户数和人口。", saved) + (
        f"随新边界调整所属网格的记录：{moved}。" if moved else "")
    st.session_state.pop(RESULT_KEY, None)
    st.rerun()
