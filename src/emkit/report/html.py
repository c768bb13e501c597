"""One static, self-contained HTML page from report sections.

Figures are ``data:`` URIs (SVG or PNG), the CSS is inline, there is no script, and a
Content-Security-Policy forbids every network request: the file can be mailed, archived or opened
offline and shows the same thing. The layout is one readable column (about 1000 CSS pixels), with
tables that scroll sideways inside their box rather than widening the page.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emkit.report.blocks import Figure, Section, Skipped, Table, format_seconds

__all__ = ["Page", "render_page", "write_page"]

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

_CSS = """
:root { --ink: #1d1f23; --muted: #5c6370; --rule: #dfe2e6; --accent: #0b5fa5;
        --soft: #f5f7f9; --skip: #8a6d00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
             "Liberation Sans", Arial, sans-serif; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 28px 64px; }
header h1 { font-size: 1.9rem; line-height: 1.2; margin: 0 0 6px; }
header .lead { font-size: 1.05rem; margin: 0 0 8px; max-width: 52em; }
.meta { color: var(--muted); font-size: 0.88rem; margin: 0; }
nav { margin: 22px 0 8px; padding: 12px 18px; background: var(--soft); border-radius: 8px; }
nav h2 { font-size: 0.95rem; margin: 0 0 6px; text-transform: uppercase; letter-spacing: .04em;
         color: var(--muted); }
nav ol { margin: 0; padding-left: 1.4em; }
nav ol.long { columns: 2; column-gap: 32px; }
nav li { margin: 0; padding: 1px 0; break-inside: avoid; }
nav .when { color: var(--muted); font-size: 0.85rem; margin-left: 6px;
            font-variant-numeric: tabular-nums; }
nav .skipped, nav .skipped a { color: var(--muted); }
sub { line-height: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
section { border-top: 1px solid var(--rule); margin-top: 34px; padding-top: 8px; }
section h2 { font-size: 1.45rem; margin: 14px 0 8px; }
.summary { margin: 0 0 14px; max-width: 56em; }
.summary b { font-weight: 600; }
figure { margin: 18px 0 24px; }
figure img { display: block; width: 100%; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 0.9rem; margin-top: 6px; max-width: 60em; }
.table-box { overflow-x: auto; margin: 14px 0 22px; }
table { border-collapse: collapse; font-size: 0.9rem; font-variant-numeric: tabular-nums; }
.table-title { font-weight: 600; margin: 0 0 4px; }
.table-note { color: var(--muted); font-size: 0.85rem; margin: 4px 0 0; max-width: 60em; }
th, td { padding: 3px 12px; text-align: right; white-space: nowrap; }
thead th { border-bottom: 1.5px solid var(--ink); font-weight: 600; }
tbody tr:nth-child(even) { background: var(--soft); }
td.text, th.text { text-align: left; }
.note { color: var(--muted); font-size: 0.92rem; max-width: 60em; }
section.skip-box { border: 0; border-left: 4px solid #e0c36a; background: #fffbea;
                   padding: 6px 14px; margin-top: 10px; border-radius: 0 6px 6px 0; }
section + section.skip-box:not(.skip-box + .skip-box) { margin-top: 34px; }
.skip-box p { margin: 0; color: var(--skip); }
.skip-box b { color: var(--ink); font-weight: 600; }
footer { color: var(--muted); font-size: 0.85rem; margin-top: 48px;
         border-top: 1px solid var(--rule); padding-top: 10px; }
@media (max-width: 760px) { main { padding: 16px; } nav ol { columns: 1; } }
@media print { nav { display: none; } section { break-inside: avoid-page; } }
"""


@dataclass
class Page:
    """What :func:`render_page` needs: a title, a lead paragraph, the sections, and metadata.

    Attributes
    ----------
    title : str
    lead : str
        One paragraph under the title.
    sections : sequence of Section or Skipped
    meta : list of str
        Short facts shown under the lead (version, date, total time ...).
    footer : str
    """

    title: str
    lead: str
    sections: Sequence[Section | Skipped]
    meta: list[str] = field(default_factory=list)
    footer: str = ""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_SUBSCRIPT = re.compile(r"([θπμσ])_([A-Za-z0-9*]+)")


def _t(text: object) -> str:
    """Escaped text for the page, with ``θ_A`` shown as θ with a subscript A."""
    return _SUBSCRIPT.sub(r"\1<sub>\2</sub>", _e(text))


def _figure(fig: Figure) -> str:
    data = base64.b64encode(fig.data).decode("ascii")
    caption = f"<figcaption>{_t(fig.caption)}</figcaption>" if fig.caption else ""
    return (
        f'<figure><img src="data:{fig.mime};base64,{data}" alt="{_e(fig.alt)}" '
        f'width="{fig.width_px}" height="{fig.height_px}" '
        f'style="max-width: {fig.width_px}px" loading="eager">{caption}</figure>'
    )


def _is_text(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return bool(cell)
    return False


def _table(table: Table) -> str:
    cells = table.formatted()
    # a column is left-aligned text if any of its cells is not a number
    text_cols = {j for row in cells for j, c in enumerate(row) if _is_text(c)}

    def cls(j: int) -> str:
        return ' class="text"' if j in text_cols else ""

    head = "".join(f'<th scope="col"{cls(j)}>{_t(c)}</th>' for j, c in enumerate(table.columns))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(j)}>{_e(c)}</td>" for j, c in enumerate(row)) + "</tr>"
        for row in cells
    )
    note = f'<p class="table-note">{_t(table.caption)}</p>' if table.caption else ""
    return (
        f'<div class="table-box"><p class="table-title">{_e(table.title)}</p>'
        f'<table aria-label="{_e(table.title)}">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}</div>"
    )


def _section(section: Section) -> str:
    parts = [f'<section id="{_e(section.key)}"><h2>{_e(section.title)}</h2>']
    summary = []
    if section.hidden:
        summary.append(f"<b>Hidden:</b> {_t(section.hidden)}")
    if section.estimated:
        summary.append(f"<b>{_e(section.method)} estimated:</b> {_t(section.estimated)}")
    if section.timing():
        summary.append(_e(section.timing()))
    if summary:
        parts.append(f'<p class="summary">{" ".join(summary)}</p>')
    parts.extend(_figure(f) for f in section.figures)
    parts.extend(_table(t) for t in section.tables)
    parts.extend(f'<p class="note">{_t(n)}</p>' for n in section.notes)
    parts.append("</section>")
    return "\n".join(parts)


def _skipped(skip: Skipped) -> str:
    return (
        f'<section id="{_e(skip.key)}" class="skip-box">'
        f"<p><b>{_e(skip.title)}</b> — skipped: {_e(skip.reason)}.</p></section>"
    )


def _contents(sections: Sequence[Section | Skipped]) -> str:
    items = []
    for s in sections:
        if isinstance(s, Skipped):
            items.append(
                f'<li class="skipped"><a href="#{_e(s.key)}">{_e(s.title)}</a>'
                '<span class="when">skipped</span></li>'
            )
        else:
            when = format_seconds(s.build_seconds) if s.build_seconds is not None else ""
            items.append(
                f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a><span class="when">{_e(when)}</span>'
                "</li>"
            )
    long = ' class="long"' if len(items) > 5 else ""
    return f"<nav><h2>Contents</h2><ol{long}>{''.join(items)}</ol></nav>"


def render_page(page: Page) -> str:
    """The page as one HTML document (a ``str``; encode as UTF-8)."""
    body = [
        "<header>",
        f"<h1>{_e(page.title)}</h1>",
        f'<p class="lead">{_e(page.lead)}</p>' if page.lead else "",
        f'<p class="meta">{" · ".join(_e(m) for m in page.meta)}</p>' if page.meta else "",
        "</header>",
        _contents(page.sections) if len(page.sections) > 1 else "",
    ]
    for s in page.sections:
        body.append(_skipped(s) if isinstance(s, Skipped) else _section(s))
    if page.footer:
        body.append(f"<footer>{_e(page.footer)}</footer>")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="emkit">\n'
        f"<title>{_e(page.title)}</title>\n<style>{_CSS}</style></head>\n"
        "<body><main>\n" + "\n".join(b for b in body if b) + "\n</main></body></html>\n"
    )


def write_page(path: str | os.PathLike[str], page: Page) -> Path:
    """Render ``page`` and write it to ``path`` atomically (never a half-written file).

    The file gets the usual permissions for a new file (``0o666`` less the umask), not the
    owner-only ones of the temporary file it is written through: a report is meant to be
    opened, served and shared.
    """
    from emkit.io import atomic_write

    target = Path(path)
    atomic_write(target, render_page(page).encode("utf-8"))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(target, 0o666 & ~umask)
    return target
