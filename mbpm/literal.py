r"""Text from a data folder as literal text: the one escaping rule of the package.

Free text of a data folder (``pain_condition``, ``withdrawal_reason``, screening reasons, the
SIMULATED marker, file names, values echoed in error messages) is data, never markup. Every path
that puts such text on a page or in a message goes through one of these functions:

* :func:`visible`: control characters (C0, DEL, C1, the line and paragraph separators U+2028 and
  U+2029, and the bidirectional overrides U+202A-U+202E, U+2066-U+2069) become their Python
  escapes (``"\x1b"``, ``"\n"``, ``"\u2028"``), so an ANSI escape or a newline shows as what it
  is and a message stays on one line; ``limit`` cuts the result to that many characters, ending
  in ``"…"``. Used for messages, chart data and as the first step of the others.
* :func:`myst`: MyST source that renders as the visible text, whatever it contains. CommonMark
  lets a backslash escape *every* ASCII punctuation character (spec 0.30, section 2.4,
  "Backslash escapes"), and an escaped character is never markup: so every one is escaped, which
  covers roles (``{download}`...```), directives (``:::``, fences), ``$math$``, emphasis, HTML
  tags and entities, links, substitutions (``{{ }}``), table pipes and backslashes themselves. The
  text then reaches docutils as a plain Text node, which the HTML writer escapes for HTML and the
  LaTeX writer for LaTeX (``\input`` becomes ``\textbackslash{}input``).
* :func:`code`: the visible text as a MyST code span (rendered literally in monospace): the
  backtick fence is one longer than the longest run of backticks inside (CommonMark 0.30,
  section 6.1, "Code spans"), with a space inside each end when the text starts or ends with a
  backtick or a space.
* :func:`script_json`: JSON for an inline ``<script>``: ``json.dumps`` plus ``<``, ``>``, ``&``,
  U+2028 and U+2029 as ``\u`` escapes, so a ``</script>`` or ``<!--`` inside the data cannot
  end or change the script (the same rule as Django's ``json_script``); the value parsed by the
  browser is unchanged.
* :class:`Markup`: MyST the package itself wrote (a citation role, say); :func:`myst` and
  :func:`mbpm.tables.markdown` pass it through unchanged. Never wrap text that came from a folder.

>>> visible("red\x1b[0m\nnext")
'red\\x1b[0m\\nnext'
>>> myst("**bold** {download}`x`")
'\\*\\*bold\\*\\* \\{download\\}\\`x\\`'
>>> script_json({"reason": "</script>"})
'{"reason": "\\u003c/script\\u003e"}'
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

#: Characters shown as escapes: C0 controls, DEL, C1 controls, line/paragraph separators and
#: the bidirectional embedding, override and isolate controls ("Trojan Source", CVE-2021-42574).
_CONTROL = {*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F),
            *range(0x2066, 0x206A)}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES = {c: _NAMED.get(chr(c), f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}") for c in _CONTROL}
_MYST = {ord(c): "\\" + c for c in string.punctuation}
_SCRIPT = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
           0x2028: "\\u2028", 0x2029: "\\u2029"}
ELLIPSIS = "…"


class Markup(str):
    """MyST source written by the package (not by a data folder): rendered as markup."""


def visible(text: object, limit: int | None = None) -> str:
    """``str(text)`` with control characters as escapes, cut to ``limit`` characters.

    ``visible("a\\tb") == "a\\\\tb"``; ``visible("x" * 100, 60)`` is 59 ``x`` and ``"…"``.
    """
    shown = str(text).translate(_ESCAPES)
    if limit is not None and len(shown) > limit:
        shown = shown[: max(limit - 1, 0)] + ELLIPSIS
    return shown


def myst(text: object) -> str:
    """MyST source that renders ``text`` literally (see the module docstring); Markup passes."""
    if isinstance(text, Markup):
        return str(text)
    return visible(text).translate(_MYST)


def code(text: object) -> str:
    """The visible ``text`` as a MyST code span: ``code("a`b") == "``a`b``"``."""
    shown = visible(text)
    runs = [len(r) for r in re.findall("`+", shown)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if shown[:1] in ("`", " ") or shown[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def script_json(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value)`` safe inside an HTML ``<script>`` element (see the module docstring)."""
    return json.dumps(value, **kwargs).translate(_SCRIPT)
