"""The HTML and Markdown pieces every page is made of: one stylesheet, the page around a body,
tables, embedded figures, and escaping, so the reports and the sweep page look and escape alike.

Every text passed in is plain text and is escaped here; what comes back is markup.
"""

import base64
from html import escape

STYLE = """
body { font-family: Georgia, 'DejaVu Serif', serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: .9rem; } .abstract { background: #f6f6f2; padding: .8rem 1rem; }
table { border-collapse: collapse; font-size: .82rem; margin: .6rem 0; width: 100%; }
th, td { border: 1px solid #ddd; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { font-weight: bold; padding: .05rem .35rem; border-radius: .25rem; color: #fff; white-space: nowrap; }
.supported { background: #3a8a4f; } .refuted { background: #b8413f; } .inconclusive { background: #8a8a8a; }
.failed { color: #b8413f; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #444; } pre { background: #f6f6f6; padding: .5rem; font-size: .8rem; }
code { font-size: .85rem; }
"""

ERROR = "error: "  # a cell that opens with this reports a failure, shown in red in an error column


def page(title: str, body: list[str]) -> str:
    """One self-contained HTML page: ``title`` (plain text) in the head, ``body`` (markup) in turn."""
    return "\n".join([f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>",
                      f"<style>{STYLE}</style></head><body>", *body, "</body></html>\n"])


def table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset(),
          verdict_column: int | None = None, error_column: int | None = None) -> str:
    """An HTML table of plain-text cells: the ``numeric`` columns right-aligned, the
    ``verdict_column``'s words as coloured badges (supported, refuted, inconclusive), and the
    ``error_column``'s cells that open with ``ERROR`` in red."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            text = escape(cell)
            if index == verdict_column:
                text = f'<span class="verdict {escape(cell)}">{text}</span>'
            if index in numeric:
                cells.append(f'<td class="num">{text}</td>')
            elif index == error_column and cell.startswith(ERROR):
                cells.append(f'<td class="failed">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def bullets(lines: list[str]) -> str:
    """An HTML list of plain-text lines."""
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def figure(png: bytes, alt: str, caption: str) -> str:
    """A PNG embedded in the page (nothing to fetch: the page opens offline), with its caption
    (markup: the caller escapes its text)."""
    data = base64.b64encode(png).decode("ascii")
    return (f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{escape(alt)}\">"
            f"<figcaption>{caption}</figcaption></figure>")


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; a pipe or a line break inside a cell would end its row, so they are escaped."""
    lines = ["| " + " | ".join(map(_markdown_cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(_markdown_cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def _markdown_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
