"""Chinese for the texts Streamlit's own frontend writes, which no config or widget argument can set.

Streamlit draws a few texts in English in the browser: the file uploader's 「Upload」 button, its
「200MB per file」 line and 「Drag and drop a file here」 while dragging; the 「Connection error」 dialog with
「Streamlit server is not responding. Are you connected to the internet?」 while the server restarts; the
「Connecting」 / 「Error」 badge in the header; 「Failed to generate file for download」 under a download button whose
file could not be made when clicked (an export while the database is down: the reason goes to the server log).
:func:`chinese_frontend` injects one script (once per browser tab: it guards itself) that watches the page and
rewrites exactly those text nodes — matched whole, and only inside those widgets — so the app's own text and data
are never touched. It keeps running while the server is away, which is when the connection dialog appears.

The app sets the rest itself: uploader labels and ``help`` in Chinese, empty tables as words
(``dashboard.tables``).
"""
from __future__ import annotations

import json

import streamlit as st

EXACT = {
    "Upload": "选择文件",
    "Upload directories": "选择文件夹",
    "Add files": "添加文件",
    "Drag and drop a file here": "将文件拖放到此处",
    "Drag and drop files here": "将文件拖放到此处",
    "Drag and drop directories here": "将文件夹拖放到此处",
    "Connection error": "连接中断",
    "Streamlit server is not responding. Are you connected to the internet?":
        "服务器暂时没有响应（可能正在重启），页面恢复连接后会自动刷新，请稍候。",
    "Is Streamlit still running? If you accidentally stopped Streamlit, just restart it in your terminal:":
        "服务器暂时没有响应（可能正在重启），页面恢复连接后会自动刷新，请稍候。",
    "streamlit run yourscript.py": "",
    "Connecting": "正在连接",
    "Error": "连接中断",
    "Connecting to Streamlit server": "正在连接服务器",
    "Unable to connect to Streamlit server": "无法连接服务器",
    "Stop": "停止",
    "Failed to generate file for download":
        "文件生成失败（可能是数据库暂时不可用），未下载任何文件。请稍后再试，如仍失败请联系系统管理员。",
}
"""Streamlit frontend text (whole, trimmed) -> what a user reads; "" hides the element that holds it."""
PATTERNS = (
    (r"^(\S+) per file$", "单个文件不超过 $1"),
    (r"^(.+) files are not allowed\.$", "不支持此类文件（$1）"),
    (r"^File must be (.+) or smaller\.$", "文件不能超过 $1"),
)
"""(JavaScript regular expression, replacement with $1): texts that carry a size or a type."""
WHERE = ", ".join((
    "[data-testid='stFileUploader']", "[data-testid='stDialog']", "[role='dialog']",
    "[data-testid='stConnectionStatus']", "[data-testid='stStatusWidget']", "[role='tooltip']",
    "[data-baseweb='tooltip']", "[data-testid='stDownloadButton']",
))
"""The only places rewritten: Streamlit's widgets, never the app's own elements."""

_SCRIPT = """<script>
(function () {
  if (window.__guloChinese) { return; }
  window.__guloChinese = true;
  var EXACT = %(exact)s, PATTERNS = %(patterns)s, WHERE = %(where)s;
  function translated(text) {
    var key = text.trim();
    if (Object.prototype.hasOwnProperty.call(EXACT, key)) { return EXACT[key]; }
    for (var i = 0; i < PATTERNS.length; i++) {
      var re = new RegExp(PATTERNS[i][0]);
      if (re.test(key)) { return key.replace(re, PATTERNS[i][1]); }
    }
    return null;
  }
  function fix(node) {
    var parent = node.parentElement;
    if (!parent || !parent.closest(WHERE)) { return; }
    var zh = translated(node.nodeValue || "");
    if (zh === null || zh === node.nodeValue) { return; }
    node.nodeValue = zh;
    if (zh === "") { (parent.closest("pre") || parent).style.display = "none"; }
  }
  function walk(root) {
    if (root.nodeType === 3) { fix(root); return; }
    if (root.nodeType !== 1) { return; }
    var it = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (var n = it.nextNode(); n; n = it.nextNode()) { fix(n); }
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === "characterData") { fix(r.target); } else { r.addedNodes.forEach(walk); }
    });
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  walk(document.body);
})();
</script>"""


def frontend_script() -> str:
    """The ``<script>`` that rewrites Streamlit's frontend texts (the tables above, as JSON)."""
    return _SCRIPT % {"exact": json.dumps(EXACT, ensure_ascii=False), "patterns": json.dumps(PATTERNS),
                      "where": json.dumps(WHERE)}


def chinese_frontend() -> None:
    """Inject :func:`frontend_script` (call from the shared page setup, every run: the script runs once per tab)."""
    with st.sidebar:
        st.html(frontend_script(), unsafe_allow_javascript=True, width="content")
