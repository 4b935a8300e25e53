"""Text from data or the URL never becomes a link or an image (issue 15).

Streamlit renders titles, captions, alerts, toasts, metric labels and values, button, link and widget
labels and help tooltips as GitHub-flavoured Markdown. Every page is visited in AppTest on a copy of the
sample district whose sub-district, community, grid, compound, station and accounts carry hostile names,
at district scope, at each hostile unit's scope and with a hostile ``?scope=``; every string the browser
would render as Markdown must link nowhere outside the app. Chromium then checks what a person gets.
"""
from __future__ import annotations

import re
import sqlite3
import string
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import create_engine, text
from streamlit.testing.v1 import AppTest

from dashboard.nav import PAGES
from dashboard.text import md_escape, md_format

DONGJIE, JUNMEN = "350102004000", "350102004001"
HOSTILE = {  # table -> the name given to one row of it
    "streets": "[点此](http://evil.example/a)",
    "communities": "![x](http://evil.example/x.png)",
    "grids": "<img src=http://evil.example/y.png>",
    "compounds": "http://evil.example/c www.evil.example <http://evil.example/d>",
    "stations": "[站](https://evil.example/s) a@evil.example",
}
HOSTILE_SCOPE = "[请点此重新登录](http://evil.example)"
HOSTILE_DISPLAY = "<a href=http://evil.example/u>演示</a> ![u](http://evil.example/u.png)"
HOSTILE_USER = "[用户](http://evil.example/v)"
MODULES = {"overview": "overview", "situation": "situation", "party": "party", "renovation": "renovation",
           "coverage": "coverage", "disputes": "disputes", "cases": "cases",
           "data": "data_admin"}  # url path of dashboard.nav.PAGES -> module
ACCOUNT_SCOPED = {"cases"}
"""Pages that work in the logged-in account's scope, not the URL's: they show no breadcrumb of ``?scope=``."""
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


# ---------------------------------------------------------------- what Markdown would make of a string

_PUNCT = re.escape(string.punctuation)
_ESCAPED = re.compile(rf"\\([{_PUNCT}])")
INERT = "\ue000"
"""Stands for a backslash-escaped character: it starts no Markdown syntax."""
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^\s)>]*)")
_REF_DEF = re.compile(r"(?m)^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>")
_RAW_HTML = re.compile(r"(?i)<(?:a|img|image|iframe|script|svg|video|audio|source|link|object|embed|picture)[\s/>]")
_LITERAL_URL = re.compile(r"(?i)(https?://|www(?=\.))([-.\w]+)")  # GFM autolink literal (as Streamlit's bundle)
_LITERAL_EMAIL = re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+")


def _external(target: str) -> bool:
    """Whether a link target leaves the app: a scheme or ``//`` host that is not loopback (relative paths,
    ``?query`` and ``#fragment`` stay in the app)."""
    if not re.match(r"(?i)[a-z][a-z0-9+.-]*:|//", target):
        return False
    parts = urlsplit(target)
    return parts.scheme.lower() not in ("http", "https") or (parts.hostname or "") not in LOOPBACK


def outside_links(markdown: str) -> list[str]:
    """Every link, image or raw tag that ``markdown`` would render pointing outside the app (empty: safe).

    A strict model of CommonMark + GFM as Streamlit's frontend renders it: escaped characters start no
    syntax; inline links and images, reference definitions, ``<…>`` autolinks and raw ``<a>``/``<img>``
    tags are read from the unescaped rest; GFM's bare ``http://``, ``www.`` and e-mail links are looked for
    in the text both before and after escapes are resolved (the bundle does both)."""
    inert = _ESCAPED.sub(INERT, markdown)
    found = [f"link {t}" for t in _LINK.findall(inert) + _REF_DEF.findall(inert) if _external(t)]
    found += [f"autolink <{t}>" for t in _AUTOLINK.findall(inert) if "@" in t or _external(t)]
    found += [f"html {m.group(0)}" for m in _RAW_HTML.finditer(inert)]
    for shown in (markdown, _ESCAPED.sub(r"\1", markdown)):
        found += [f"bare {m.group(0)}" for m in _LITERAL_URL.finditer(shown) if _bare_host(m) not in LOOPBACK]
        found += [f"e-mail {m.group(0)}" for m in _LITERAL_EMAIL.finditer(shown)]
    return found


def _bare_host(m: re.Match) -> str:
    """The host of a bare-link match (``www.…`` keeps its ``www``)."""
    return m.group(2) if m.group(1).lower().startswith("http") else "www" + m.group(2)


@pytest.mark.parametrize(("markdown", "unsafe"), [
    *[(name, True) for name in (*HOSTILE.values(), HOSTILE_SCOPE, HOSTILE_DISPLAY, HOSTILE_USER)],
    *[(md_escape(name), False) for name in (*HOSTILE.values(), HOSTILE_SCOPE, HOSTILE_DISPLAY, HOSTILE_USER)],
    # backslashes alone are not enough: GFM still links a bare URL whose dots are escaped (seen in Chromium)
    (r"\[点此\]\(http://evil\.example/a\)", True),
    (r"www\.evil\.example", True),
    ("[x][r]\n\n[r]: http://evil.example", True),
    ("**军门社区** · 总览", False),
    ("[打开大屏模式 ↗](?screen=big&scope=350102004001)", False),
    ("[本机](http://127.0.0.1:8501/overview)", False),
    ("[x](javascript:alert(1))", True),
])
def test_the_markdown_check_tells_links_from_text(markdown, unsafe):
    assert bool(outside_links(markdown)) is unsafe, outside_links(markdown)


def test_escaped_text_reads_as_typed_and_templates_keep_their_markdown():
    name = HOSTILE["streets"]
    shown = md_escape(name)
    assert _ESCAPED.sub(r"\1", shown).replace("\u2060", "") == name  # what the reader sees
    assert md_format("**{}** · {n:,} 户", name, n=12345) == f"**{shown}** · 12,345 户"
    assert md_escape("军门社区 网格01") == "军门社区 网格01"  # ordinary names are unchanged
    assert md_escape("a\r\n# b") == r"a \# b"


# ---------------------------------------------------------------- a district with hostile names


def _rename(conn, table: str, where: str, params: dict, column: str = "name") -> str:
    code = conn.execute(text(f"SELECT code FROM {table} WHERE {where} ORDER BY code LIMIT 1"), params).scalar_one()
    conn.execute(text(f"UPDATE {table} SET {column} = :n WHERE code = :c"), {"n": HOSTILE[table], "c": code})
    return code


def make_hostile(sample_url: str, target: Path) -> dict[str, str]:
    """Copy the sample database to ``target`` and give hostile names to 东街街道, 军门社区, its first grid, a
    compound and a station of that grid, the dongjie account's display name and a new demo account (the
    grid loses its grid worker, so that an alert names it); returns the codes renamed (table -> code) and
    a community outside 东街街道 with one of its compounds."""
    with sqlite3.connect(sample_url.removeprefix("sqlite:///")) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    with create_engine(f"sqlite:///{target}").begin() as conn:
        codes = {"streets": _rename(conn, "streets", "code = :s", {"s": DONGJIE}),
                 "communities": _rename(conn, "communities", "code = :c", {"c": JUNMEN})}
        codes["grids"] = _rename(conn, "grids", "community_code = :c", {"c": JUNMEN})
        codes["compounds"] = _rename(conn, "compounds", "grid_code = :g", {"g": codes["grids"]})
        codes["stations"] = _rename(conn, "stations", "community_code = :c", {"c": JUNMEN})
        codes["outside"], codes["outside_compound"] = conn.execute(text(  # a community outside 东街街道, a compound
            "SELECT community_code, code FROM compounds WHERE street_code <> :s ORDER BY code LIMIT 1"),
            {"s": DONGJIE}).one()
        conn.execute(text("UPDATE grids SET worker = NULL WHERE code = :g"), {"g": codes["grids"]})  # an alert
        conn.execute(text("UPDATE accounts SET display_name = :d WHERE username = 'dongjie'"), {"d": HOSTILE_DISPLAY})
        conn.execute(text("UPDATE accounts SET must_change_password = :f"), {"f": False})  # pages, not the form
        row = dict(conn.execute(text("SELECT * FROM accounts WHERE username = 'junmen'")).mappings().one())
        row.update(username=HOSTILE_USER, display_name=HOSTILE_DISPLAY)
        conn.execute(text(f"INSERT INTO accounts ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"), row)
    return codes


@pytest.fixture(scope="module")
def hostile(filled_sample_db, tmp_path_factory) -> tuple[str, dict[str, str]]:
    """(database URL, renamed codes) of the hostile copy, shared by the module's tests (they only read)."""
    path = tmp_path_factory.mktemp("hostile") / "app.db"
    codes = make_hostile(filled_sample_db, path)
    return f"sqlite:///{path}", codes


# ---------------------------------------------------------------- every Markdown string of a page

PLAIN = {"text", "code", "html", "json", "exception", "dataframe", "arrow_data_frame", "component_instance",
         "arrow_vega_lite_chart", "vega_lite_chart", "deck_gl_json_chart", "iframe", "empty", "spinner"}
"""Element types whose strings are not Markdown (st.html is HTML and checked on its own)."""
FIELDS = ("body", "label", "help", "delta")


def _walk(node):
    yield node
    for child in (getattr(node, "children", None) or {}).values():
        yield from _walk(child)


def _element_strings(node) -> list[str]:
    proto, kind = node.proto, getattr(node, "type", "")
    if kind in PLAIN:
        return []
    names = {f.name for f, _ in proto.ListFields()}
    found = [getattr(proto, f) for f in FIELDS if f in names and isinstance(getattr(proto, f), str)]
    if kind == "radio":  # radio options are Markdown too (selectbox and multiselect options are plain text)
        found += list(proto.options)
    if kind == "button_group":  # segmented control and pills
        found += [o.content for o in proto.options]
    return found


def markdown_strings(at: AppTest) -> list[str]:
    """Every non-empty string of the run that the browser renders as Markdown."""
    found: list[str] = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        kind = proto.WhichOneof("type") if proto.DESCRIPTOR.name == "Block" else None
        if kind is not None:  # expander, tab, popover labels
            sub = getattr(proto, kind)
            found += [getattr(sub, f) for f in ("label", "help") if hasattr(sub, f)]
        elif proto.DESCRIPTOR.name != "Block":
            found += _element_strings(node)
    return [s for s in found if s]


def html_bodies(at: AppTest) -> list[str]:
    return [n.proto.body for n in _walk(at._tree) if getattr(n, "type", "") == "html"]


def _render(path: str) -> None:
    import importlib

    importlib.import_module(f"dashboard.pages.{path}").render()


def visit(url: str, monkeypatch, path: str, scope: str = "", view: tuple[str, str] | None = None,
          username: str | None = None, params: dict[str, str] | None = None, **state) -> AppTest:
    """Page ``path`` (of dashboard.nav.PAGES) at ``?scope=`` (and ``params``), showing ``view`` (its key and
    value), as ``username`` (None: logged out), with ``state`` in the session."""
    from data.accounts import get_account
    from data.store import engine_for

    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_function(_render, args=(MODULES[path],), default_timeout=180)
    for key, value in {"scope": scope, **(params or {})}.items():
        if value:
            at.query_params[key] = value
    if view:
        at.session_state[view[0]] = view[1]
    if username:
        at.session_state["auth_account"] = get_account(engine_for(url), username)
        at.session_state["auth_login_at"] = datetime.now(UTC)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


CHECKED: dict[str, int] = {}
"""Markdown strings checked per visit (printed with ``-s``)."""


def assert_no_outside_links(at: AppTest, visit_id: str, expect: tuple[str, ...] = ()) -> list[str]:
    """Every Markdown string of ``at`` links nowhere outside; each of ``expect`` (hostile names) is among them,
    escaped, so the check saw the text it guards."""
    strings = markdown_strings(at)
    bad = {s: outside_links(s) for s in strings if outside_links(s)}
    assert not bad, bad
    for body in html_bodies(at):  # st.html is HTML, not Markdown: data in it must be HTML-escaped
        assert not re.search(r"(?i)<[a-z][^<>]*evil", body), body
    joined = "\n".join(strings)
    for name in expect:
        assert md_escape(name) in joined, (name, visit_id)
    CHECKED[visit_id] = len(strings)
    print(f"{visit_id}: {len(strings)} Markdown strings checked")
    return strings


# ---------------------------------------------------------------- the visits

SCOPES = ("district", "street", "community", "grid", "hostile-url")


def _scope(codes: dict[str, str], which: str) -> str:
    return {"district": "", "street": DONGJIE, "community": JUNMEN, "grid": codes["grids"],
            "hostile-url": HOSTILE_SCOPE}[which]


def _expected_names(which: str) -> tuple[str, ...]:
    """Hostile names that must appear (escaped) at a scope: the trail's names in the title and breadcrumb."""
    return {"district": (), "street": (HOSTILE["streets"],),
            "community": (HOSTILE["streets"], HOSTILE["communities"]),
            "grid": (HOSTILE["streets"], HOSTILE["communities"], HOSTILE["grids"]),
            "hostile-url": (HOSTILE_SCOPE,)}[which]


def test_every_page_of_the_menu_is_visited():
    assert {path for path, _ in PAGES} == set(MODULES)


@pytest.mark.parametrize("which", SCOPES)
@pytest.mark.parametrize("path", list(MODULES))
def test_page_links_nowhere_outside_at_each_scope(hostile, monkeypatch, path, which):
    url, codes = hostile
    at = visit(url, monkeypatch, path, _scope(codes, which))
    expect = () if path in ACCOUNT_SCOPED and which != "hostile-url" else _expected_names(which)
    assert_no_outside_links(at, f"{path}@{which}", expect)
    if which == "hostile-url":  # the toast says the code is unknown, and shows it as text
        assert [t.value for t in at.toast if md_escape(HOSTILE_SCOPE) in t.value], [t.value for t in at.toast]


S, C, D, G, U = HOSTILE["streets"], HOSTILE["communities"], HOSTILE_DISPLAY, HOSTILE["grids"], HOSTILE_USER
VIEWS = [  # page, (view key, view), session state, account, scope, hostile names that must show (escaped)
    ("overview", None, {}, None, "community", (S, C)),  # the alerts of the community's grids
    ("situation", None, {}, "dongjie", "outside", (D, S)),  # the map's note names the account's scope
    ("renovation", ("reno_view", "改造进度"), {"detail_compound": "compound"}, None, "community", (C,)),
    ("renovation", ("reno_view", "改造进度"), {"detail_compound": "outside_compound"}, "dongjie", "outside", (D, S)),
    ("renovation", ("reno_view", "改造计划"), {}, None, "community", (C,)),
    ("renovation", ("reno_view", "台账编辑"), {"edit_compound": "compound"}, None, "community", (C,)),
    ("renovation", ("reno_view", "台账编辑"), {"edit_compound": "compound"}, "junmen", "community", (C,)),
    ("renovation", ("reno_view", "台账编辑"), {"edit_compound": "outside_compound"}, "dongjie", "outside", (D, S)),
    ("coverage", ("cov_view", "拓扑检查"), {}, None, "community", (C,)),
    ("coverage", ("cov_view", "服务覆盖"), {}, None, "community", (C,)),
    ("coverage", ("cov_view", "新增站点选址"), {}, None, "community", (C,)),
    ("disputes", None, {}, "dongjie", "community", (D, C)),
    ("disputes", None, {}, "junmen", "street", (S, C)),  # outside the account's community: its name in the note
    ("cases", ("case_view", "我的待办"), {}, "junmen", "community", (C,)),  # the account's scope by name
    ("cases", ("case_view", "受理新案件"), {"intake_place": "选择已登记的小区"}, U, "community", (D, C)),
    ("data", ("da_view", "导入"), {}, "dongjie", "community", (D, C)),
    ("data", ("da_view", "导出"), {"exp_layer": "disputes"}, None, "community", (C,)),
    ("data", ("da_view", "导出"), {"exp_layer": "disputes"}, "junmen", "street", (S, C)),
    ("data", ("da_view", "模板"), {}, None, "community", (C,)),
    ("data", ("da_view", "操作日志"), {}, "dongjie", "community", (D, C)),
    ("data", ("da_view", "操作日志"), {}, "admin", "grid", (C, G)),
    ("data", ("da_view", "账号"), {"acc_pick": U}, "admin", "community", (C, U)),
    ("data", ("da_view", "账号"), {}, "dongjie", "community", (D, S)),
    # logged in under a hostile user name: the messages that name the account
    ("data", ("da_view", "操作日志"), {}, U, "community", (U, D)),
    ("data", ("da_view", "账号"), {}, U, "community", (U, C)),
    ("renovation", ("reno_view", "台账编辑"), {"edit_compound": "outside_compound"}, U, "outside", (U, C)),
]


def _who(user: str | None) -> str:
    return "anonymous" if user is None else "hostile-user" if user == HOSTILE_USER else user


@pytest.mark.parametrize(("path", "view", "state", "user", "where", "names"), VIEWS,
                         ids=[f"{p}-{v[1] if v else 'page'}-{_who(u)}-{w}" for p, v, _, u, w, _ in VIEWS])
def test_each_view_links_nowhere_outside(hostile, monkeypatch, path, view, state, user, where, names):
    url, codes = hostile
    state = {k: codes.get(v, v) if isinstance(v, str) else v for k, v in state.items()}
    scope = codes["outside"] if where == "outside" else _scope(codes, where)
    at = visit(url, monkeypatch, path, scope, view, user, **state)
    assert_no_outside_links(at, f"{path}:{view[1] if view else 'page'}:{_who(user)}@{where}", names)


def test_the_demo_account_warning_names_a_hostile_account_as_text(hostile, monkeypatch):
    url, _ = hostile
    at = visit(url, monkeypatch, "situation", username="admin")  # the notice is for district accounts
    assert any(md_escape(HOSTILE_USER) in w.value for w in at.sidebar.warning)
    assert_no_outside_links(at, "situation:demo-warning@district", (HOSTILE_USER,))


def test_the_alerts_name_hostile_units_as_text(hostile, monkeypatch):
    url, codes = hostile
    at = visit(url, monkeypatch, "overview", JUNMEN)
    labels = [p.proto.label for p in at.get("page_link") if f"scope={codes['grids']}" in p.proto.query_string]
    assert labels and all(label.startswith(md_escape(HOSTILE["grids"]) + "：") for label in labels), labels
    assert_no_outside_links(at, "overview:alerts@community", (HOSTILE["grids"],))


def test_the_big_screen_escapes_names_as_html(hostile, monkeypatch):
    url, _ = hostile
    at = visit(url, monkeypatch, "overview", JUNMEN, params={"screen": "big", "theme": "grids"})
    bodies = "\n".join(html_bodies(at))
    assert f"{HOSTILE['communities']} · 社区治理态势" in bodies  # HTML shows Markdown as typed
    assert "⚠ &lt;img src=http://evil.example/y.png&gt;：" in bodies  # the vacant grid's alert, HTML-escaped
    assert_no_outside_links(at, "overview:big-screen@community")


# ---------------------------------------------------------------- in Chromium


def _no_evil(page, external: list[str]) -> None:
    """No link (other than a heading's own ``#anchor``) or image on the page names evil.example, none was fetched."""
    links = page.eval_on_selector_all("a[href*='evil']:not([href^='#']), img[src*='evil'], [srcset*='evil']",
                                      "els => els.map(e => e.outerHTML.slice(0, 200))")
    assert links == [], links
    assert not [u for u in external if "evil" in u], external
    assert not page.locator("[data-testid='stException']").count()


def _shown(page, selector: str) -> str:
    return " ".join(page.locator(selector).all_inner_texts()).replace("\u2060", "")


def test_chromium_shows_hostile_names_as_text_and_fetches_nothing(hostile, tmp_path):
    from tests.browser import browser_page, chromium_missing, running_app, wait_idle
    from tests.conftest import skip_or_fail

    why = chromium_missing()
    if why:
        skip_or_fail(why, "REQUIRE_BROWSER")
    url, codes = hostile
    db = tmp_path / "app.db"
    with sqlite3.connect(url.removeprefix("sqlite:///")) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
    with running_app(db) as base, browser_page(1600, 1000) as (page, external):
        page.goto(f"{base}/?scope={quote(HOSTILE_SCOPE)}", wait_until="domcontentloaded")
        page.wait_for_selector("[data-testid='stToast']", timeout=90_000)
        assert HOSTILE_SCOPE in _shown(page, "[data-testid='stToast']")  # as typed, not a link
        _no_evil(page, external)
        wait_idle(page)
        _no_evil(page, external)
        for path, scope, unit in (("overview", JUNMEN, "communities"), ("situation", codes["grids"], "grids"),
                                  ("disputes", JUNMEN, "communities")):
            page.goto(f"{base}/{path}?scope={scope}", wait_until="domcontentloaded")
            page.wait_for_selector("h1", timeout=90_000)
            wait_idle(page, 90_000)
            page.wait_for_timeout(1500)  # images and toasts would have loaded by now
            assert HOSTILE[unit] in _shown(page, "h1"), path  # the title, as typed
            assert HOSTILE["streets"] in _shown(page, "[data-testid='stMain']"), path  # the breadcrumb
            _no_evil(page, external)
        assert external == [], external[:5]
