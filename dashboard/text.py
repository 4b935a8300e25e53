"""Text from files, data or the URL made safe for Streamlit's Markdown (st.error, st.markdown, st.info …).

Streamlit renders those strings — titles, captions, alerts, toasts, metric labels and values, button,
link and widget labels, help tooltips — as GitHub-flavoured Markdown: a unit named ``[点此](http://…)``
or ``![x](http://…)`` would become a live link or make the browser fetch a URL. ``md_escape``
backslash-escapes every character Markdown (and Streamlit's ``:color[…]``/LaTeX extensions) gives a
meaning to, and puts an invisible word joiner (U+2060) into ``://``, ``www.`` and ``@``: GFM turns a
bare ``http://host``, ``www.host`` or ``a@host`` into a link even when its dots are escaped, so the
text shows exactly as typed and links nowhere.

``md_format`` is for our own Markdown (``**bold**``) around data: only the data is escaped.
"""
from __future__ import annotations

import re
import string

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\\\.)|(?<=@)")
"""Where GFM's bare-link rules (``http://``, ``www.``, e-mail) would start a link, in escaped text."""
WORD_JOINER = "\u2060"


def md_escape(text: object) -> str:
    """``text`` as plain text inside Markdown: special characters backslash-escaped, bare links broken by an
    invisible word joiner, line breaks kept as spaces."""
    escaped = _MARKDOWN.sub(r"\\\1", str(text)).replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return _AUTOLINK.sub(WORD_JOINER, escaped)


class _EscapingFormatter(string.Formatter):
    """``str.format`` that escapes every replacement field after formatting it (the template is left as is)."""

    def format_field(self, value: object, format_spec: str) -> str:
        return md_escape(super().format_field(value, format_spec))


_FORMATTER = _EscapingFormatter()


def md_format(template: str, /, *args: object, **kwargs: object) -> str:
    """``template.format(*args, **kwargs)`` for Markdown: the template's own Markdown (``**{name}**``) stays,
    every value is ``md_escape``d, e.g. ``md_format("**{}** · 总览", name)``."""
    return _FORMATTER.vformat(template, args, kwargs)
