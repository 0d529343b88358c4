"""The AUM distribution report: a chart (PNG and a self-contained HTML page) and a summary per tier."""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import matplotlib

from services.crm.duckdb_settings import duckdb_config

matplotlib.use("Agg")  # renders to files; no display on servers or in CI
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

# Tier colours shared by the chart and the HTML table: Tier 1 the firm's navy, Tier 2 gold, Tier 3 slate.
TIER_COLOURS = {"TIER_1_SFO": "#1f3b73", "TIER_2_UHNW": "#c9a227", "TIER_3_RETAIL": "#8a99a8"}


@dataclass(frozen=True)
class DistributionCell:
    tier: str
    tier_label: str
    band_order: int
    band_label: str
    client_count: int
    total_aum: Decimal


@dataclass(frozen=True)
class TierSummary:
    tier: str
    tier_label: str
    clients: int
    total_aum: Decimal
    qualified_purchasers: int

    def aum_share(self, book: Decimal) -> Decimal:
        return Decimal(0) if book == 0 else (self.total_aum / book * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class ReportData:
    cells: list[DistributionCell]
    tiers: list[TierSummary]
    build_date: str


def load_report_data(database: Path) -> ReportData:
    """Read aum_distribution and the tier summary from a built or published DuckDB file."""
    with duckdb.connect(str(database), read_only=True, config=duckdb_config()) as connection:
        cells = [
            DistributionCell(*row)
            for row in connection.execute(
                "select tier, tier_label, band_order, band_label, client_count, total_aum"
                " from aum_distribution order by priority, band_order"
            ).fetchall()
        ]
        tiers = [
            TierSummary(*row)
            for row in connection.execute(
                "select tier, any_value(tier_label), count(*), sum(aum), count(*) filter (where is_qualified_purchaser)"
                " from client_priority group by tier order by min(priority)"
            ).fetchall()
        ]
        scored = connection.execute("select max(scored_at) from client_priority").fetchone()
    build_date = scored[0].strftime("%Y-%m-%d %H:%M UTC") if scored and isinstance(scored[0], datetime) else "unknown"
    return ReportData(cells=cells, tiers=tiers, build_date=build_date)


def usd_axis(amount: float) -> str:
    """Axis ticks for money: $0, $250M, $1.5B (display only; the data stays exact)."""
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(amount) >= size:
            return f"${amount / size:,.1f}{suffix}".replace(".0" + suffix, suffix)
    return f"${amount:,.0f}"


def render_chart(data: ReportData, path: Path) -> Path:
    bands = sorted({(cell.band_order, cell.band_label) for cell in data.cells})
    labels = [label for _, label in bands]
    positions = list(range(len(bands)))
    tiers = list(dict.fromkeys(cell.tier for cell in data.cells))
    figure, (count_axis, aum_axis) = plt.subplots(1, 2, figsize=(13, 5.6), dpi=110)
    for axis, value_of, ylabel in (
        (count_axis, lambda cell: cell.client_count, "Clients"),
        (aum_axis, lambda cell: float(cell.total_aum), "Assets under management (USD)"),
    ):
        bottoms = [0.0] * len(bands)
        for tier in tiers:
            cells = {cell.band_order: cell for cell in data.cells if cell.tier == tier}
            heights = [float(value_of(cells[order])) for order, _ in bands]
            label = next(cell.tier_label for cell in data.cells if cell.tier == tier)
            axis.bar(
                positions, heights, bottom=bottoms, color=TIER_COLOURS.get(tier, "#999999"), label=label, width=0.7
            )
            bottoms = [bottom + height for bottom, height in zip(bottoms, heights, strict=True)]
        for position, total in zip(positions, bottoms, strict=True):
            shown = usd_axis(total) if axis is aum_axis else f"{total:,.0f}"
            axis.annotate(
                shown,
                (position, total),
                ha="center",
                va="bottom",
                fontsize=8,
                xytext=(0, 2),
                textcoords="offset points",
            )
        axis.set_xticks(positions, labels)
        axis.set_xlabel("AUM band (log-scale)")
        axis.set_ylabel(ylabel)
        axis.spines[["top", "right"]].set_visible(False)
        axis.grid(axis="y", alpha=0.3)
        axis.set_axisbelow(True)
        axis.margins(y=0.15)
    aum_axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: usd_axis(value)))
    count_axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    count_axis.set_title("Clients per AUM band", fontsize=11)
    aum_axis.set_title("AUM per band", fontsize=11)
    count_axis.legend(frameon=False, fontsize=9, loc="upper right")
    book = sum((tier.total_aum for tier in data.tiers), Decimal(0))
    clients = sum(tier.clients for tier in data.tiers)
    figure.suptitle(
        f"Client AUM distribution by tier — {clients:,} clients, {usd_axis(float(book))} AUM"
        f" — build of {data.build_date}",
        fontsize=13,
        fontweight="bold",
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path


def render_html(data: ReportData, chart: Path, path: Path) -> Path:
    """One file with the chart inlined: opens offline, attaches to an email."""
    book = sum((tier.total_aum for tier in data.tiers), Decimal(0))
    image = base64.b64encode(chart.read_bytes()).decode("ascii")
    rows = "\n".join(
        f'<tr><td><span class="swatch" style="background:{TIER_COLOURS.get(t.tier, "#999")}"></span>'
        f"{html.escape(t.tier_label)}</td><td>{t.clients:,}</td><td>${t.total_aum:,.2f}</td>"
        f"<td>{t.aum_share(book)}%</td><td>{t.qualified_purchasers:,}</td></tr>"
        for t in data.tiers
    )
    cells = json.dumps(
        [{"tier": c.tier, "band": c.band_label, "clients": c.client_count, "aum": str(c.total_aum)} for c in data.cells]
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Client AUM distribution — {html.escape(data.build_date)}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem; color: #1d2433; }}
img {{ max-width: 100%; }}
table {{ border-collapse: collapse; margin-top: 1rem; }}
th, td {{ padding: .35rem .9rem; border-bottom: 1px solid #dde2e8; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.swatch {{ display: inline-block; width: .8rem; height: .8rem; margin-right: .5rem; border-radius: 2px; }}
</style></head><body>
<h1>Client AUM distribution by tier</h1>
<p>Build of {html.escape(data.build_date)}. Source: <code>aum_distribution</code> and <code>client_priority</code>.</p>
<img alt="Clients and AUM per AUM band, stacked by tier" src="data:image/png;base64,{image}">
<table><thead><tr>
<th>Tier</th><th>Clients</th><th>AUM</th><th>Share of AUM</th><th>Qualified Purchasers</th>
</tr></thead>
<tbody>
{rows}
</tbody></table>
<script type="application/json" id="aum-distribution">{cells}</script>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
