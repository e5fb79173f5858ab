"""The one escaping rule (mbpm.literal) and the paths that use it: tables, charts, the data notice.

Expected renderings come from the MyST parser itself (myst-parser's markdown-it configuration with
the book's extensions): the escaped source must parse to plain text tokens equal to the visible
text, whatever markup the text holds.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from myst_parser.config.main import MdParserConfig
from myst_parser.mdit_to_docutils.base import DocutilsRenderer
from myst_parser.parsers.mdit import create_md_parser

from mbpm import figures, literal, report, tables

HOSTILE = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</script><script>x()</script>",
    "{download}`/etc/hostname`", "$x$ and $$y$$", "**bold** _em_ *i*", "\\textbf{x} \\input{/etc/passwd}",
    "\x1b[31mred\x1b[0m", "&lt;b&gt; &amp; &#60;", "{{ sub }}", "[a](javascript:alert(4)) <http://x>",
    "a | b \\| c \\", "line\nbreak\r\n:::{raw} html\n<b>x</b>\n:::", "```{eval-rst}\n.. raw:: html\n```",
    "1. list", "# heading", "---", "(c) -- ...", "~~strike~~", "![img](x.png)", "`code`", "\u2028\u202e",
]


def _parser():
    config = MdParserConfig(enable_extensions={"amsmath", "colon_fence", "deflist", "dollarmath",
                                               "substitution"})
    return create_md_parser(config, DocutilsRenderer)


def _table_cells(source: str) -> list[str]:
    """Text of every body cell of the one table in ``source``; fails on any non-text node."""
    tokens = _parser().parse(source)
    cells, inside = [], False
    for tok in tokens:
        if tok.type == "td_open":
            inside = True
        elif tok.type == "td_close":
            inside = False
        elif inside and tok.type == "inline":
            kinds = {child.type for child in tok.children}
            assert kinds <= {"text"}, (tok.content, kinds)
            cells.append("".join(child.content for child in tok.children))
    return cells


def test_visible_escapes_control_characters_and_cuts() -> None:
    assert literal.visible("a\x1b[31mb\nc\td\x7f\x85") == "a\\x1b[31mb\\nc\\td\\x7f\\x85"
    assert literal.visible("\u2028\u202e\u2066") == "\\u2028\\u202e\\u2066"
    assert literal.visible("é ü 漢字 – …") == "é ü 漢字 – …"  # printable text is kept
    assert literal.visible("x" * 100, 60) == "x" * 59 + "…"
    assert len(literal.visible("\x00" * 100, 60)) == 60
    assert literal.visible("short", 60) == "short"


@pytest.mark.parametrize("text", HOSTILE)
def test_myst_renders_as_one_literal_text(text: str) -> None:
    source = "| h |\n|:--|\n| " + literal.myst(text) + " |"
    assert _table_cells(source) == [literal.visible(text).strip()]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_myst_of_any_text_is_literal(text: str) -> None:
    source = "| h |\n|:--|\n| " + literal.myst(text) + " |"
    expected = re.sub(r"[ \t]+", " ", literal.visible(text)).strip()
    got = [re.sub(r"[ \t]+", " ", c) for c in _table_cells(source)]
    assert got == [expected]


def test_markdown_table_escapes_every_cell_and_header_but_markup() -> None:
    frame = pd.DataFrame({"**h**": ["<b>x</b>", "$y$"], "ref": [tables.cite("a, b"), "`c`"]})
    source = tables.markdown(frame).data
    assert "{cite:p}`a,b`" in source  # the package's own role is kept
    assert "\\<b\\>x\\<\\/b\\>" in source and "\\$y\\$" in source and "\\`c\\`" in source
    assert source.splitlines()[0] == "| \\*\\*h\\*\\* | ref |"


def test_code_span_holds_any_backticks() -> None:
    for text in ["data", "a`b", "``x", "`", "x` `y"]:
        tokens = _parser().parseInline(literal.code(text))
        kinds = [c.type for c in tokens[0].children]
        assert kinds == ["code_inline"], (text, kinds)
        assert tokens[0].children[0].content == text


def test_script_json_cannot_end_the_script_and_parses_back() -> None:
    value = {"reason": "</script><script>alert(1)</script> <!-- & \u2028\u2029 >"}
    text = literal.script_json(value)
    assert not re.search(r"[<>&\u2028\u2029]", text)
    assert json.loads(text) == value


def test_to_html_keeps_a_closing_script_tag_inside_the_data() -> None:
    spec = {"data": {"values": [{"reason": "</script><img src=x onerror=alert(1)>"}]},
            "mark": "text", "encoding": {"text": {"field": "reason"}},
            "description": "<b>chart</b>"}
    out = figures.to_html(spec)
    assert out.count("</script>") == 1 and out.endswith("</script>")
    assert "<img" not in out and "<b>" not in out
    embedded = re.search(r"vegaEmbed\(el, (\{.*\}), \{", out).group(1)
    assert json.loads(embedded) == spec  # the browser gets the same spec


def test_data_notice_is_literal() -> None:
    class Fake:
        simulation = {"seed": "1 **s**", "generator_version": "{download}`/etc/hostname`"}
        source = "/tmp/d`a`ta <b>"

    text = report.data_notice(Fake()).data  # type: ignore[arg-type]
    paragraph = text.split("\n\n", 1)[1].rsplit("\n:::", 1)[0]
    tokens = _parser().parseInline(paragraph)[0].children
    kinds = [t.type for t in tokens]
    assert kinds.count("code_inline") == 1 and "strong_open" in kinds  # the notice's own **simulated**
    words = "".join(t.content for t in tokens if t.type == "text")
    assert "1 **s**" in words and "{download}`/etc/hostname`" in words
    assert next(t.content for t in tokens if t.type == "code_inline") == "d`a`ta <b>"
