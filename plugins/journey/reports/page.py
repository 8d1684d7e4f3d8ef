"""HTML assembly of a run report: sections of Plotly charts and small tables, one self-contained page.

plotly.js is written once next to the reports (`assets/plotly.min.js`) and referenced relatively,
so a report opens offline, straight from the file system.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
from jinja2 import Environment, select_autoescape
from plotly.offline import get_plotlyjs

ASSETS_DIR = "assets"
PLOTLY_JS = "plotly.min.js"

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<script src="{{ plotly_src }}"></script>
<style>
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; background: #fff; }
section { border-top: 1px solid #ddd; padding: 8px 0 16px; }
table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; } .empty { color: #777; font-style: italic; } .meta { color: #555; }
</style></head>
<body>
<h1>{{ title }}</h1>
<p class="meta">{% for key, value in meta.items() %}{{ key }}: <b>{{ value }}</b>{% if not loop.last %} · {% endif %}{% endfor %}</p>
{% for s in sections %}
<section id="{{ s.id }}" data-charts="{{ s.figures | length }}">
<h2>{{ s.title }}</h2>
{% for note in s.notes %}<p>{{ note }}</p>{% endfor %}
{% for chart in s.charts %}{{ chart | safe }}{% endfor %}
{% if s.table %}<table><tr>{% for h in s.table[0] %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in s.table[1:] %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>{% endif %}
{% if not s.figures and not s.table %}<p class="empty">{{ s.empty }}</p>{% endif %}
</section>
{% endfor %}
</body></html>
"""


@dataclass
class Section:
    """One report section: charts (None entries = no data), notes, an optional table (header row first)."""

    id: str
    title: str
    figures: list[go.Figure | None] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    table: list[tuple] = field(default_factory=list)
    empty: str = "No data for this run."

    def __post_init__(self) -> None:
        """Drop charts that had no data."""
        self.figures = [f for f in self.figures if f is not None]


def ensure_plotly_js(reports_dir: Path) -> Path:
    """Write plotly.min.js under reports/assets once (again when the installed plotly changed)."""
    path = reports_dir / ASSETS_DIR / PLOTLY_JS
    js = get_plotlyjs()
    if not path.exists() or path.stat().st_size != len(js.encode()):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{PLOTLY_JS}.{os.getpid()}.tmp")  # concurrent tasks each write their own
        tmp.write_text(js, encoding="utf-8")
        tmp.replace(path)
    return path


def _chart_html(fig: go.Figure, div_id: str) -> str:
    """A figure as a <div> plus its script, without plotly.js itself."""
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False})


def render_page(title: str, meta: dict[str, str], sections: list[Section], plotly_src: str) -> str:
    """The report page as an HTML string."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    views = [{"id": s.id, "title": s.title, "figures": s.figures, "notes": s.notes, "table": s.table,
              "empty": s.empty, "charts": [_chart_html(f, f"{s.id}-{i}") for i, f in enumerate(s.figures)]}
             for s in sections]
    return env.from_string(TEMPLATE).render(title=title, meta=meta, sections=views, plotly_src=plotly_src)


def write_page(path: Path, reports_dir: Path, title: str, meta: dict[str, str], sections: list[Section]) -> Path:
    """Write the page at path (atomically), with plotly.js referenced relatively from reports/assets."""
    ensure_plotly_js(reports_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    src = Path(*[".."] * len(path.parent.relative_to(reports_dir).parts), ASSETS_DIR, PLOTLY_JS).as_posix()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(render_page(title, meta, sections, src), encoding="utf-8")
    tmp.replace(path)
    return path
