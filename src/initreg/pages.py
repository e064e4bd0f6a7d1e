"""What every report page and Markdown file is written with: escaping, tables, figures, the page.

    md = md_table(["run", "dev acc"], rows)           # every cell escaped
    h = html_table(["run", "dev acc"], rows)
    fig_html, fig_md = figures({"lc": (png_path, "caption")})
    text = page("Learning curve", body_html)          # a whole self-contained HTML page

A run's name, params, tags and messages are data read back from a store, so none of them may
become markup: HTML gets ``html.escape``, Markdown gets :func:`md_escape` (``<`` ``>`` ``&`` as
entities, Markdown's punctuation backslash-escaped) or :func:`md_code`. Pages are self-contained:
CSS inline, PNGs as base64 data URIs, nothing fetched.
"""

import base64
import html
import math
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")  # emphasis, code, links/images, table cells
_MD_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+[.)])")  # a heading or a list at a line start


def num(x: float | None, spec: str = ".3g") -> str:
    """``x`` formatted with ``spec``, or ``—`` when it is missing or not finite."""
    return "—" if x is None or not math.isfinite(x) else format(x, spec)


def md_escape(text, block_start: bool = True) -> str:
    """``text`` as literal Markdown on one line: no markup, link, table cell break or HTML.

    ``block_start``: the text may begin a paragraph or list item, so a leading ``#``, ``-``, ``+``,
    ``=`` or ``1.`` is escaped too (a table cell never begins one: ``-0.5`` stays as it is).
    """
    text = " ".join(html.escape(str(text), quote=False).splitlines())
    text = _MD_PUNCTUATION.sub(r"\\\1", text)
    if not block_start:
        return text
    return _MD_LINE_START.sub(lambda m: f"{m[1]}{m[2][:-1]}\\{m[2][-1]}", text)


def md_code(text) -> str:
    """``text`` as a Markdown code span (literal, whatever backticks it holds), on one line.

    Text with ``<``, ``>`` or ``&`` is written as :func:`md_escape` text instead: so no raw
    HTML character from a run stands in a Markdown file, for any renderer.
    """
    text = " ".join(str(text).splitlines())
    if re.search("[<>&]", text):
        return md_escape(text, block_start=False)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_table(head: Sequence[str], rows: Sequence[Sequence]) -> str:
    """A Markdown table, every header and cell escaped with :func:`md_escape`."""
    def row(cells) -> str:
        return "| " + " | ".join(md_escape(c, block_start=False) for c in cells) + " |"

    return "\n".join([row(head), "|" + "---|" * len(head), *map(row, rows)])


def _attrs(attrs: Mapping[str, str]) -> str:
    return "".join(f' {k}="{html.escape(str(v))}"' for k, v in attrs.items() if v)


def html_table(head: Sequence[str], rows: Sequence[Sequence], *,
               head_class: Sequence[str] = (),
               cell_class: Callable[[int, int], str] | None = None,
               row_attrs: Sequence[Mapping[str, str]] | None = None,
               cell_href: Callable[[int, int], str | None] | None = None) -> str:
    """An HTML table, every header and cell escaped, in a horizontally scrolling ``div``.

    ``head_class[i]``: the class of header ``i``; ``cell_class(r, i)``: the class of cell ``i``
    of row ``r``; ``row_attrs[r]``: the attributes of row ``r``'s ``<tr>`` (values escaped);
    ``cell_href(r, i)``: a link for the cell's text, or None (escaped too).
    """
    e = html.escape
    th = "".join(f"<th{_attrs({'class': c})}>{e(str(h))}</th>"
                 for h, c in zip(head, [*head_class, *[""] * len(head)], strict=False))

    def text(r: int, i: int, c) -> str:
        href = cell_href(r, i) if cell_href else None
        return f'<a href="{e(href)}">{e(str(c))}</a>' if href else e(str(c))

    body = []
    for r, cells in enumerate(rows):
        tds = "".join(f"<td{_attrs({'class': cell_class(r, i) if cell_class else ''})}>"
                      f"{text(r, i, c)}</td>" for i, c in enumerate(cells))
        body.append(f"<tr{_attrs(row_attrs[r]) if row_attrs else ''}>{tds}</tr>")
    return (f'<div class="scroll"><table><thead><tr>{th}</tr></thead><tbody>\n'
            + "\n".join(body) + "\n</tbody></table></div>")


def data_uri(path: Path) -> str:
    """A PNG file as a ``data:`` URI, so the page needs no other file."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def figures(figs: Mapping[str, tuple[Path, str]]) -> tuple[str, str]:
    """HTML (PNGs inline as base64) and Markdown (PNGs linked by file name) for ``{key: (png,
    caption)}``; the Markdown expects the PNGs beside it."""
    e = html.escape
    h = "".join(f'<figure><img alt="{e(cap)}" src="{data_uri(p)}"><figcaption>{e(cap)}'
                f"</figcaption></figure>" for p, cap in figs.values())
    md = "\n\n".join(f"![{md_escape(cap)}]({p.name})\n\n*{md_escape(cap)}*"
                     for p, cap in figs.values())
    return h, md


def png_folder(folder: Path | None) -> Path:
    """``folder``, created, for a section's PNGs; a new temporary folder when None."""
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="initreg-study-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class Section:
    """A report section: its HTML fragment, its Markdown, and its verdicts as plain text lines
    (for a terminal). Unpacks as ``html, markdown = section``."""

    html: str
    markdown: str
    lines: tuple[str, ...] = ()

    def __iter__(self):
        return iter((self.html, self.markdown))


def section(title: str, paragraphs: Sequence[str] = (), items: Sequence[str] = (),
            after: Sequence[str] = (), figs: Mapping[str, tuple[Path, str]] | None = None,
            table: tuple[Sequence[str], Sequence[Sequence]] | None = None) -> Section:
    """A report section from plain text, escaped for each format, in this order: its
    ``paragraphs``, the ``items`` as a list, the ``after`` paragraphs, the ``figs``
    (:func:`figures`) and the ``(head, rows)`` table. Its plain ``lines`` are the items."""
    e = html.escape
    fig_html, fig_md = figures(figs) if figs else ("", "")
    h = [f"<section><h2>{e(title)}</h2>", *(f"<p>{e(p)}</p>" for p in paragraphs)]
    md = [f"## {md_escape(title)}", *map(md_escape, paragraphs)]
    if items:
        h.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
        md.append("\n".join(f"- {md_escape(i)}" for i in items))
    h += [*(f"<p>{e(p)}</p>" for p in after), fig_html]
    md += [*map(md_escape, after), *([fig_md] if fig_md else [])]
    if table:
        h.append(html_table(*table))
        md.append(md_table(*table))
    return Section("".join(h) + "</section>", "\n\n".join(md) + "\n", tuple(items))


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;
background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:32px 0 10px}
.meta{color:#555;font-size:.9em}
.headline{background:#fff;border-left:6px solid #2e7d32;padding:14px 18px;margin:20px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.headline .big{font-size:1.35em;font-weight:600}.headline p{margin:6px 0}
.note{color:#2e7d32;font-style:italic}
table{border-collapse:collapse;background:#fff;font-size:.85em;width:100%;
box-shadow:0 1px 3px rgba(0,0,0,.08)}
.scroll{overflow-x:auto}
th,td{padding:5px 7px;border-bottom:1px solid #e3e3e3;text-align:right;white-space:nowrap}
th{background:#eef0f3;position:sticky;top:0}td.l,th.l{text-align:left}
td:first-child,th:first-child{text-align:left}
td.name{white-space:normal;max-width:210px;font-size:.92em;color:#444}
td.diag{white-space:normal;text-align:left;min-width:90px}
tr.selected td{background:#e8f5e9;font-weight:600}
.s-finished{color:#2e7d32}.s-gated{color:#b26a00}.s-diverged{color:#c62828}
.s-failed,.s-killed,.s-running{color:#6a1b9a}
figure{background:#fff;margin:14px 0;padding:12px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{color:#555;font-size:.9em;margin-top:6px}
li{margin:6px 0}ul.problems li{margin:4px 0}
"""


def page(title: str, body: str) -> str:
    """A whole self-contained HTML page: ``title`` (escaped) as its title and heading, then
    ``body``, which is HTML already escaped by its writer."""
    e = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e}</title><style>{CSS}</style></head>
<body><main>
<h1>{e}</h1>
{body}
</main></body></html>
"""
