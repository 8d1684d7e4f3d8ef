"""Plotly figures of the run reports: each takes plain rows and returns a figure, or None with no data."""

from __future__ import annotations

from collections import defaultdict

import plotly.graph_objects as go

HEIGHT = 420
NEW, LEFT = "new users", "left"


def _layout(fig: go.Figure, title: str, **extra) -> go.Figure:
    """Common layout: title, size, white background."""
    fig.update_layout(**({"title": title, "height": HEIGHT, "template": "plotly_white",
                          "margin": {"t": 60, "l": 60, "r": 30}} | extra))
    return fig


def segment_label(segment_id: int | None, names: dict[int, str]) -> str:
    """'#3 Loyal big spenders' (or 'unsegmented' for no segment)."""
    if segment_id is None:
        return "unsegmented"
    return f"#{segment_id} {names.get(segment_id, '')}".strip()


def segment_sizes(rows: list[tuple]) -> go.Figure | None:
    """Users per segment per snapshot date, stacked bars: (snapshot_date, segment_id, segment_name, users) rows."""
    if not rows:
        return None
    series: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for day, segment_id, name, users in rows:
        xs, ys = series[f"#{segment_id} {name}"]
        xs.append(str(day))
        ys.append(users)
    fig = go.Figure([go.Bar(x=xs, y=ys, name=label) for label, (xs, ys) in series.items()])
    return _layout(fig, "Segment sizes over time (users)", barmode="stack", yaxis_title="users",
                   xaxis={"title": "snapshot date", "type": "category"})


def rfm_grid(rows: list[tuple]) -> go.Figure | None:
    """Users per recency score x frequency score: (r_score, f_score, users) rows."""
    if not rows:
        return None
    r_scores = sorted({r for r, _, _ in rows})
    f_scores = sorted({f for _, f, _ in rows})
    counts = {(r, f): n for r, f, n in rows}
    z = [[counts.get((r, f), 0) for f in f_scores] for r in r_scores]
    fig = go.Figure(go.Heatmap(z=z, x=[f"F{f}" for f in f_scores], y=[f"R{r}" for r in r_scores],
                               colorscale="Blues", text=z, texttemplate="%{text}", colorbar={"title": "users"}))
    return _layout(fig, "RFM distribution (users by recency and frequency score)",
                   xaxis_title="frequency score", yaxis_title="recency score")


def transitions_sankey(rows: list[tuple], names: dict[int, str]) -> go.Figure | None:
    """Flow of users from their previous segment to the current one: (from_id, to_id, users) rows."""
    if not rows:
        return None
    sources = [NEW if a is None else f"before: {segment_label(a, names)}" for a, _, _ in rows]
    targets = [LEFT if b is None else f"now: {segment_label(b, names)}" for _, b, _ in rows]
    labels = list(dict.fromkeys(sources + targets))
    index = {label: i for i, label in enumerate(labels)}
    fig = go.Figure(go.Sankey(node={"label": labels, "pad": 12},
                              link={"source": [index[s] for s in sources], "target": [index[t] for t in targets],
                                    "value": [n for _, _, n in rows]}))
    return _layout(fig, "Segment transitions since the previous snapshot (users)")


def dq_outcomes(rows: list[tuple]) -> go.Figure | None:
    """Checks per dataset that passed, warned or failed: dq_results rows (dataset, _, _, severity, success, ...)."""
    if not rows:
        return None
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "warning": 0, "failed": 0})
    for dataset, _, _, severity, success, *_ in rows:
        counts[dataset]["passed" if success else ("failed" if severity == "error" else "warning")] += 1
    colours = {"passed": "#2ca02c", "warning": "#ff7f0e", "failed": "#d62728"}
    datasets = list(counts)
    fig = go.Figure([go.Bar(x=datasets, y=[counts[d][k] for d in datasets], name=k, marker_color=colours[k])
                     for k in colours])
    return _layout(fig, "Data-quality checks by dataset", barmode="stack", yaxis_title="checks")


def quarantine_reasons(rows: list[tuple]) -> go.Figure | None:
    """Quarantined rows per dataset and reason: (dataset, reason, rows) rows."""
    if not rows:
        return None
    fig = go.Figure(go.Bar(x=[n for _, _, n in rows], y=[f"{d}: {r}" for d, r, _ in rows], orientation="h",
                           marker_color="#d62728"))
    return _layout(fig, "Quarantined rows by reason", xaxis_title="rows", yaxis={"automargin": True})


def _model_entries(report: dict) -> list[tuple[str, dict]]:
    """(who, metrics) for the challenger, its champion if any, then each baseline."""
    entries = [("challenger", report.get("challenger") or {})]
    if report.get("champion"):
        entries.append((f"champion v{report.get('champion_version')}", report["champion"]))
    entries += [(f"baseline: {name}", metrics) for name, metrics in (report.get("baselines") or {}).items()]
    return entries


def model_metrics(models: list[dict]) -> go.Figure | None:
    """Primary metric of each registered model beside its champion and baselines (same test rows)."""
    bars: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    order: list[str] = []  # bars grouped by model: challenger, champion, baselines
    for model in models:
        for who, metrics in _model_entries(model["report"]):
            value = metrics.get(model["primary"])
            if value is not None:
                xs, ys = bars[who.split(" v")[0] if who.startswith("champion") else who]
                order.append(f"{model['name']} v{model['version']} ({model['primary']})<br>{who}")
                xs.append(order[-1])
                ys.append(value)
    if not bars:
        return None
    fig = go.Figure([go.Bar(x=xs, y=ys, name=who) for who, (xs, ys) in bars.items()])
    return _layout(fig, "Model metrics against champion and baselines (primary metric, test window)",
                   yaxis_title="metric value", height=HEIGHT + 80,
                   xaxis={"automargin": True, "categoryorder": "array", "categoryarray": order})


def allocation(rows: list[tuple], names: dict[int, str]) -> go.Figure | None:
    """Coupons per segment, stacked by offer: (segment_id, offer_name, coupons, cost) rows."""
    if not rows:
        return None
    offers: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for segment_id, offer, coupons, _ in rows:
        xs, ys = offers[offer]
        xs.append(segment_label(segment_id, names))
        ys.append(coupons)
    fig = go.Figure([go.Bar(x=xs, y=ys, name=offer) for offer, (xs, ys) in offers.items()])
    return _layout(fig, "Coupon allocation by segment and offer", barmode="stack", yaxis_title="coupons",
                   xaxis={"automargin": True})


def budget(campaigns: list[dict]) -> go.Figure | None:
    """Budget used against budget per campaign, as gauges."""
    if not campaigns:
        return None
    width = 1 / len(campaigns)
    # each gauge's own title sits at the top of its domain: the domain ends below the figure title
    fig = go.Figure([go.Indicator(mode="gauge+number", value=c["budget_used"],
                                  title={"text": c.get("name") or c["campaign_id"], "font": {"size": 14}},
                                  gauge={"axis": {"range": [0, max(c["budget"], c["budget_used"], 1)]}},
                                  domain={"x": [i * width, (i + 1) * width - 0.05], "y": [0, 0.78]})
                     for i, c in enumerate(campaigns)])
    return _layout(fig, "Budget used (expected coupon cost) against the budget")


def ads_by_channel(rows: list[tuple]) -> go.Figure | None:
    """Ads per channel: (channel, ads) rows."""
    if not rows:
        return None
    fig = go.Figure(go.Bar(x=[c for c, _ in rows], y=[n for _, n in rows], marker_color="#1f77b4"))
    return _layout(fig, "Ads by channel", yaxis_title="ads")


def lift_intervals(results: list[dict]) -> go.Figure | None:
    """Conversion lift (percentage points) with its 95 % interval per campaign, segment and offer row.

    `results`: rows of journey.campaign_results_current (level, key, rate_lift, rate_lift_low, rate_lift_high);
    rows without a lift (an empty arm) are left out.
    """
    rows = [r for r in results if r["rate_lift"] is not None]
    if not rows:
        return None
    labels = [f"{r['level']}: {r['key']}" for r in rows]
    lift = [100 * r["rate_lift"] for r in rows]
    fig = go.Figure(go.Scatter(
        x=lift, y=labels, mode="markers", marker={"size": 10},
        error_x={"type": "data", "symmetric": False,
                 "array": [100 * r["rate_lift_high"] - x for r, x in zip(rows, lift, strict=True)],
                 "arrayminus": [x - 100 * r["rate_lift_low"] for r, x in zip(rows, lift, strict=True)]}))
    fig.add_vline(x=0, line_dash="dash", line_color="grey")
    return _layout(fig, "Conversion lift, treated − holdout (percentage points, 95 % interval)",
                   xaxis_title="lift (percentage points)", yaxis={"autorange": "reversed", "automargin": True},
                   height=max(HEIGHT, 60 + 30 * len(rows)))
