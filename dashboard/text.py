"""Text from files, data or the URL made safe for Streamlit's Markdown (st.error, st.markdown, st.info …).

Streamlit renders those strings as Markdown: a file named ``[点此](http://…)`` or ``![x](http://…)``
would become a live link or make the browser fetch a URL. ``md_escape`` backslash-escapes every
character Markdown (and Streamlit's ``:color[…]``/LaTeX extensions) gives a meaning to, so the text
shows exactly as typed.
"""
from __future__ import annotations

import re

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$])")


def md_escape(text: object) -> str:
    """``text`` as plain text inside Markdown: special characters backslash-escaped, line breaks kept as spaces."""
    return _MARKDOWN.sub(r"\\\1", str(text)).replace("\n", " ")
