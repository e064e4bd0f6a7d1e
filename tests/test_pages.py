"""Escaping and tables: no text from a run becomes Markdown or HTML markup."""

import re

from initreg.pages import html_table, md_code, md_escape, md_table, section

PAYLOAD = "<img src=x onerror=alert(1)>"


def test_md_escape_leaves_no_html_no_link_and_no_emphasis():
    assert md_escape(PAYLOAD) == "&lt;img src=x onerror=alert(1)&gt;"
    assert md_escape("[click](javascript:alert(1))") == r"\[click\](javascript:alert(1))"
    assert md_escape("*a* _b_ `c` ~d~ a|b \\") == r"\*a\* \_b\_ \`c\` \~d\~ a\|b \\"
    assert md_escape("A & B") == "A &amp; B"
    assert md_escape("one\n\n# two\r\nthree") == "one  # two three"  # stays on its line


def test_md_escape_escapes_a_block_marker_only_where_a_block_may_start():
    for text in ("# title", "- item", "+ item", "1. item", "3) item", "=== "):
        assert md_escape(text) != text and md_escape(text).replace("\\", "") == text
    assert md_escape("-0.5", block_start=False) == "-0.5"


def test_md_code_holds_any_backticks():
    assert md_code("a") == "`a`"
    assert md_code("a `b` c") == "``a `b` c``"
    assert md_code("`x") == "`` `x ``"
    assert md_code("a\nb") == "`a b`"
    assert md_code(PAYLOAD) == md_escape(PAYLOAD)  # no raw HTML character, even in code


def test_md_table_keeps_its_columns_whatever_the_cells_hold():
    table = md_table(["run", "note"], [["a|b", PAYLOAD], ["c\nd", "-1"]])
    lines = table.splitlines()
    assert len(lines) == 4
    for line in lines:
        assert len(re.split(r"(?<!\\)\|", line)) == 4  # 2 columns between 3 unescaped bars
    assert "<" not in table and "| -1 |" in table


def test_html_table_escapes_cells_headers_and_attributes():
    h = html_table([PAYLOAD], [[PAYLOAD]], row_attrs=[{"title": '"><script>'}])
    assert "<img" not in h and "<script>" not in h
    assert h.count("&lt;img src=x onerror=alert(1)&gt;") == 2


def test_a_section_escapes_each_format_and_keeps_plain_lines():
    s = section(PAYLOAD, [PAYLOAD], [PAYLOAD], [PAYLOAD], table=([PAYLOAD], [[PAYLOAD]]))
    html, md = s
    assert "<img" not in html and "<img" not in md
    assert s.lines == (PAYLOAD,)
    assert md.startswith("## &lt;img") and "- &lt;img" in md
