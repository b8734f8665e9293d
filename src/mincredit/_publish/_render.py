"""The published files: each list as CSV, JSON and a static HTML page, and what changed.

The bytes of every file depend only on what is published and the rulebook — no clock, no path, no host — so
that a publication replays to the same bytes (:mod:`mincredit._publish._api`).  The pages are plain HTML with
one embedded style sheet: no script, no font, image or style fetched from elsewhere, readable without CSS,
printable (A4, the table header repeated on every page), ``lang="zh-CN"``, a caption and ``scope`` on every
table, a skip link, and colours with enough contrast.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from mincredit._publish._rules import Publication, Texts
from mincredit.rules._schema_articles import ArticleRule

# A cell a spreadsheet would run as a formula (CSV injection): the public opens these files in Excel.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Table:
    caption: str
    labels: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str
    header_column: int = 0   # the column that names the row (主体名称): a row header for screen readers


def csv_bytes(labels: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """UTF-8 with a byte-order mark (so that Excel on a Chinese Windows reads it as UTF-8), CRLF lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(labels)
    for row in rows:
        writer.writerow([("'" + cell) if cell.startswith(_FORMULA_START) else cell for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def json_bytes(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def article_json(rule: ArticleRule) -> dict[str, str]:
    return {"article": rule.article, "wording": rule.wording}


_STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; color: #1a1a1a; background: #fff; line-height: 1.6;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC",
  "SimSun", sans-serif; font-size: 16px; }
.skip { position: absolute; left: -10000px; top: 0; background: #fff; color: #00307a; padding: .5em 1em; }
.skip:focus { left: 1em; z-index: 1; }
header.masthead { background: #8f1d1d; color: #fff; border-bottom: 4px solid #d4a017; }
header.masthead div { max-width: 1200px; margin: 0 auto; padding: 1.2em 2em 1em; }
header.masthead p { margin: 0; }
.publisher { font-size: 1.05em; letter-spacing: .1em; }
h1 { margin: .2em 0 .1em; font-size: 1.75em; font-weight: 700; }
.edition { font-size: 1em; opacity: .95; }
main, .colophon { max-width: 1200px; margin: 0 auto; padding: 1.5em 2em; }
table { width: 100%; border-collapse: collapse; margin: 0 0 2em; }
caption { caption-side: top; text-align: left; font-weight: 700; font-size: 1.15em; padding: 0 0 .6em; }
th, td { border: 1px solid #8c8c8c; padding: .5em .7em; vertical-align: top; text-align: left; }
thead th { background: #e6ecf2; color: #102a43; white-space: nowrap; }
tbody th { font-weight: 600; }
tbody tr:nth-child(even) { background: #f6f8fa; }
td.code { font-family: "DejaVu Sans Mono", "Consolas", monospace; white-space: nowrap; }
td.empty { text-align: center; color: #333; padding: 1.5em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .4em; color: #102a43; }
blockquote { margin: .3em 0 .8em; padding: .2em 1em; border-left: 4px solid #8c8c8c; background: #f6f8fa; }
blockquote p { margin: .3em 0; }
cite::before { content: "—— "; }
cite { font-style: normal; color: #333; }
.colophon { border-top: 1px solid #8c8c8c; font-size: .95em; }
a { color: #00307a; }
a:focus, a:hover { outline: 3px solid #d4a017; outline-offset: 2px; }
@page { size: A4 landscape; margin: 14mm 12mm; }
@media print {
  body { font-size: 10.5pt; }
  .skip { display: none; }
  header.masthead { background: none; color: #000; border-bottom: 2px solid #000; }
  header.masthead div { max-width: none; padding: 0 0 .5em; }
  main, .colophon { max-width: none; padding: .5em 0; }
  thead { display: table-header-group; }
  tr, blockquote { break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
  a { color: #000; text-decoration: none; }
  .downloads { display: none; }
}
"""


def _quote(rule: ArticleRule) -> str:
    return f'<blockquote><p>{escape(rule.wording)}</p><p><cite>{escape(rule.article)}</cite></p></blockquote>'


def _table_html(table: Table, table_id: str, code_columns: frozenset[int]) -> str:
    head = "".join(f'<th scope="col">{escape(label)}</th>' for label in table.labels)
    body = []
    for row in table.rows:
        cells = []
        for index, cell in enumerate(row):
            if index == table.header_column:
                cells.append(f'<th scope="row">{escape(cell)}</th>')
            else:
                css = ' class="code"' if index in code_columns else ""
                cells.append(f"<td{css}>{escape(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td class="empty" colspan="{len(table.labels)}">{escape(table.empty)}</td></tr>')
    return (f'<table id="{table_id}"><caption>{escape(table.caption)}</caption>\n<thead><tr>{head}</tr></thead>\n'
            "<tbody>\n" + "\n".join(body) + "\n</tbody></table>")


@dataclass(frozen=True)
class Page:
    title: str
    edition: str
    as_of: str
    tables: tuple[Table, ...]
    basis: tuple[ArticleRule, ...]
    downloads: tuple[str, ...]          # file names of this page's data and the manifest
    other_pages: tuple[tuple[str, str], ...]   # (file name, title)
    code_columns: frozenset[int] = frozenset()


def page_html(page: Page, rules: Publication) -> bytes:
    texts: Texts = rules.texts
    tables = "\n".join(_table_html(table, "list" if index == 0 else f"list-{index + 1}", page.code_columns)
                       for index, table in enumerate(page.tables))
    links = []
    for name in page.downloads:
        label = f"{texts.manifest}（{name}）" if name == "manifest.json" else name
        links.append(f'<li><a href="{escape(name)}">{escape(label)}</a></li>')
    others = "".join(f'<li><a href="{escape(name)}">{escape(title)}</a></li>' for name, title in page.other_pages)
    channels = texts.list_separator.join(rules.publisher.channels)
    basis = "\n".join(_quote(rule) for rule in page.basis)
    html = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(page.title)}（{escape(page.edition)}）</title>
<style>{_STYLE}</style>
</head>
<body>
<a class="skip" href="#list">{escape(texts.skip_link)}</a>
<header class="masthead"><div>
<p class="publisher">{escape(rules.publisher.name)}</p>
<h1>{escape(page.title)}</h1>
<p class="edition">{escape(page.edition)}　{escape(page.as_of)}</p>
</div></header>
<main>
{tables}
</main>
<footer class="colophon">
<h2>{escape(texts.basis)}</h2>
{basis}
<h2>{escape(texts.privacy)}</h2>
<p>{escape(texts.privacy_note)}</p>
<p>{escape(texts.publisher.format(publisher=rules.publisher.name))}</p>
<p>{escape(texts.channels.format(channels=channels))}</p>
<div class="downloads">
<h2>{escape(texts.downloads)}</h2>
<ul>{"".join(links)}{others}</ul>
</div>
</footer>
</body>
</html>
"""
    return html.encode("utf-8")
