"""A Streamlit client without a browser: one session opens one page over Streamlit's own websocket protocol.

What a browser tab does, reduced to what the server sees: it opens ``ws://HOST/_stcore/stream`` (subprotocol
``streamlit``, an ``Origin`` of the page, the ``gulou_route`` cookie that keeps it on one app process behind
nginx), sends one ``BackMsg`` whose ``rerun_script`` is a ``ClientState`` (``page_name`` = the page's url path,
"" for the landing page; ``query_string`` = the page's query without "?"; ``context_info`` as a browser in
Fuzhou fills it), and reads ``ForwardMsg`` frames until ``script_finished``. Nothing is drawn.

A session fails (``SessionResult.error``) on an exception element, an error notice (``st.error``: the app
turns every page failure into one, see dashboard.faults), a compile error, ``page_not_found``, a closed
socket, or no successful ``script_finished`` within the timeout. The client never lists cached messages
(``cached_message_hashes`` stays empty), so the server sends every message whole; a ``ref_hash``
reference, should one come, is counted like any other message.
"""
from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect

ROUTE_COOKIE = "gulou_route"
"""nginx's sticky-route cookie (deploy/nginx/gulou.conf): any value the client brings is kept and hashed."""
CONNECT_TIMEOUT_S = 30
MAX_FRAME_BYTES = 64 * 1024 * 1024
DONE = ForwardMsg.ScriptFinishedStatus
TEXT_CHARS = 160
"""How much of an error's text a result keeps."""


@dataclass
class SessionResult:
    """One session's page run: ``seconds`` from sending rerun_script to a successful script_finished
    (None when it failed), ``error`` (None when it succeeded), the menu title of the page the server ran
    (from its ``navigation`` message) and what the server sent."""

    route: str
    seconds: float | None = None
    error: str | None = None
    title: str = ""
    messages: int = 0
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None and self.seconds is not None


def new_route() -> str:
    """A fresh route id like the one nginx would hand a new browser (32 hex digits)."""
    return secrets.token_hex(16)


def stream_url(base_url: str, route: str) -> str:
    """The websocket address behind ``base_url`` (http://host:port); the route rides along as a query
    argument that Streamlit and nginx ignore, so that the access log tells which process served it."""
    parts = urlsplit(base_url)
    return f"ws://{parts.netloc}/_stcore/stream?route={route}"


def rerun_message(base_url: str, page_path: str, query: str) -> bytes:
    """The serialized ``BackMsg.rerun_script`` a browser sends on opening ``base_url/page_path?query``."""
    back = BackMsg()
    state = back.rerun_script
    state.query_string = query
    state.page_name = page_path
    info = state.context_info
    info.timezone, info.timezone_offset, info.locale = "Asia/Shanghai", -480, "zh-CN"
    info.url = f"{base_url.rstrip('/')}/{page_path}" + (f"?{query}" if query else "")
    info.is_embedded, info.color_scheme = False, "light"
    return back.SerializeToString()


def problem(msg: ForwardMsg) -> str | None:
    """Why ``msg`` means the page failed, or None."""
    kind = msg.WhichOneof("type")
    if kind == "page_not_found":
        return f"page not found: {msg.page_not_found.page_name!r}"
    if kind == "session_event" and msg.session_event.HasField("script_compilation_exception"):
        return f"compile error: {msg.session_event.script_compilation_exception.message[:TEXT_CHARS]}"
    if kind != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return None
    element = msg.delta.new_element
    if element.WhichOneof("type") == "exception":
        return f"exception {element.exception.type}: {element.exception.message[:TEXT_CHARS]}"
    if element.WhichOneof("type") == "alert" and element.alert.format == Alert.ERROR:
        return f"error notice: {element.alert.body[:TEXT_CHARS]}"
    return None


def page_title(msg: ForwardMsg) -> str | None:
    """The menu title of the page a ``navigation`` message says is running, or None for other messages."""
    if msg.WhichOneof("type") != "navigation":
        return None
    nav = msg.navigation
    return next((p.page_name for p in nav.app_pages if p.page_script_hash == nav.page_script_hash), "")


def finish(msg: ForwardMsg) -> str | None:
    """"ok" or an error for a script_finished that ends the page run; None for anything else (including a
    run that stopped early for a rerun the app asked for, or a fragment run: the page run goes on)."""
    if msg.WhichOneof("type") != "script_finished":
        return None
    if msg.script_finished == DONE.FINISHED_SUCCESSFULLY:
        return "ok"
    if msg.script_finished == DONE.FINISHED_WITH_COMPILE_ERROR:
        return "compile error"
    return None


async def open_stream(base_url: str, route: str) -> ClientConnection:
    """A websocket to the app behind ``base_url`` carrying ``route`` as its cookie, as a browser opens it."""
    return await connect(stream_url(base_url, route), origin=base_url.rstrip("/"), subprotocols=["streamlit"],
                         additional_headers={"Cookie": f"{ROUTE_COOKIE}={route}"}, proxy=None,
                         open_timeout=CONNECT_TIMEOUT_S, close_timeout=5, max_size=MAX_FRAME_BYTES,
                         max_queue=None, ping_interval=None)


async def read_until_finished(ws: ClientConnection, result: SessionResult) -> None:
    """Read ForwardMsgs into ``result`` until the page run ends (the caller bounds the time)."""
    error = None
    async for frame in ws:
        result.messages += 1
        result.bytes += len(frame)
        msg = ForwardMsg()
        msg.ParseFromString(frame)
        error = error or problem(msg)
        result.title = page_title(msg) or result.title
        outcome = finish(msg)
        if outcome is not None:
            result.error = error or (None if outcome == "ok" else outcome)
            return
    result.error = f"socket closed by the server (code {ws.close_code})"


async def run_page(ws: ClientConnection, result: SessionResult, rerun: bytes, timeout: float) -> SessionResult:
    """Send ``rerun`` on the open ``ws`` and wait (at most ``timeout`` s) for the page run's end."""
    started = time.perf_counter()
    try:
        await ws.send(rerun)
        async with asyncio.timeout(timeout):
            await read_until_finished(ws, result)
    except TimeoutError:
        result.error = f"no script_finished within {timeout:.0f} s"
    except Exception as exc:  # noqa: BLE001 - any failure of the connection is this session's error
        result.error = f"{type(exc).__name__}: {exc}"[:TEXT_CHARS]
    if result.error is None:
        result.seconds = time.perf_counter() - started
    return result


async def connect_session(base_url: str, route: str | None = None) -> tuple[SessionResult, ClientConnection | None]:
    """A new session's result and its open websocket; the websocket is None (and the result says why)
    when the handshake failed."""
    result = SessionResult(route or new_route())
    try:
        return result, await asyncio.wait_for(open_stream(base_url, result.route), CONNECT_TIMEOUT_S + 5)
    except Exception as exc:  # noqa: BLE001 - a refused or failed handshake is this session's error
        result.error = f"connect failed: {type(exc).__name__}: {exc}"[:TEXT_CHARS]
        return result, None


async def open_page(base_url: str, page_path: str, query: str = "", *, route: str | None = None,
                    timeout: float = 120) -> SessionResult:
    """One whole session: connect, open the page, close. Never raises; a failure is ``result.error``."""
    result, ws = await connect_session(base_url, route)
    if ws is None:
        return result
    try:
        return await run_page(ws, result, rerun_message(base_url, page_path, query), timeout)
    finally:
        await ws.close()
