"""Charts as inline SVG, drawn by matplotlib from evidence values only.

No pyplot and no global state: each chart is its own Figure, rendered with
the SVG backend under fixed settings, so the same evidence gives the same bytes.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from auditor.evidence import Evidence

INK = "#1f2937"
DP = "#2563eb"
BASE = "#9ca3af"
ACCENT = "#059669"
WARN = "#d97706"
RC: dict[str, Any] = {
    "svg.hashsalt": "auditor",
    "text.parse_math": False,  # labels are plain text: a "$...$" in a column name is not mathtext
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "svg.id": "chart",
    "font.size": 8,
    "axes.edgecolor": "#d1d5db",
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg(draw: Callable[[Axes], None], name: str, alt: str, width: float = 6.4, height: float = 2.4) -> str:
    return _svg_figure(lambda figure: draw(figure.add_subplot()), name, alt, width, height)


def _accessible(svg: str, name: str, alt: str) -> str:
    """Ids unique in the page (each chart's prefixed with its name), and a ``<title>``: HTML's accessible
    name and, through WeasyPrint's tagging, the PDF Figure's ``/Alt``."""
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{name}-{m.group(1)}"', svg)
    svg = re.sub(r'(href="#|url\(#)([^")]+)', lambda m: f"{m.group(1)}{name}-{m.group(2)}", svg)
    opening = svg.index(">") + 1
    head = svg[:opening].replace("<svg ", f'<svg role="img" aria-labelledby="{name}-title" ', 1)
    return f'{head}<title id="{name}-title">{html.escape(alt)}</title>{svg[opening:]}'


def _svg_figure(draw: Callable[[Figure], None], name: str, alt: str, width: float, height: float) -> str:
    with matplotlib.rc_context(RC):  # type: ignore[arg-type]  # keys are valid rcParams
        figure = Figure(figsize=(width, height), dpi=72)
        FigureCanvasSVG(figure)
        draw(figure)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    # Comments only repeat the labels (already escaped by matplotlib); drop them.
    return _accessible(re.sub(r"<!--.*?-->\n?", "", text[text.index("<svg") :], flags=re.S), name, alt)


def epsilon_curve(ev: Evidence) -> str | None:
    if ev.training is None or ev.training.privacy is None or not ev.training.privacy.epsilon_curve:
        return None
    privacy = ev.training.privacy

    def draw(ax: Axes) -> None:
        steps = [p[0] for p in privacy.epsilon_curve]
        eps = [p[1] for p in privacy.epsilon_curve]
        ax.plot(steps, eps, color=DP, linewidth=1.8, label=f"ε ({privacy.accountant.upper()})")
        if privacy.target_epsilon is not None:
            ax.axhline(privacy.target_epsilon, color=WARN, linestyle="--", linewidth=1, label="target ε")
        ax.set_xlabel("optimizer steps")
        ax.set_ylabel(f"ε at δ = {privacy.delta:.1e}")
        ax.legend(frameon=False, loc="lower right")

    alt = (
        f"Line chart: privacy spent (epsilon, {privacy.accountant.upper()} accountant) against optimizer steps, "
        f"rising to {privacy.epsilon_curve[-1][1]:.3g} after {privacy.epsilon_curve[-1][0]:,} steps."
    )
    return _svg(draw, "epsilon", alt)


def training_curves(ev: Evidence) -> str | None:
    t = ev.training
    if t is None or not t.curve:
        return None

    def draw(ax: Axes) -> None:
        ax.plot(
            [p.epoch for p in t.curve],
            [float("nan") if p.value is None else p.value for p in t.curve],
            color=DP,
            marker="o",
            markersize=3,
            label="DP" if t.privacy else "model",
        )
        if t.baseline is not None:
            ax.plot(
                [p.epoch for p in t.baseline.curve],
                [float("nan") if p.value is None else p.value for p in t.baseline.curve],
                color=BASE,
                marker="o",
                markersize=3,
                label="non-private baseline",
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"held-out {t.curve_metric}")
        ax.legend(frameon=False, loc="lower right")

    alt = f"Line chart: held-out {t.curve_metric} after each of {len(t.curve)} epochs" + (
        ", DP model and non-private baseline." if t.baseline is not None else "."
    )
    return _svg(draw, "curves", alt, height=2.2)


def stage_energy(ev: Evidence) -> str | None:
    if ev.energy is None or not ev.energy.stages:
        return None
    stages = ev.energy.stages

    def draw(ax: Axes) -> None:
        names = list(stages)
        values = [stages[n].energy_kwh * 1000 for n in names]
        bars = ax.barh(names, values, color=ACCENT)
        ax.invert_yaxis()
        ax.set_xlabel("energy (Wh)")
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], padding=3, fontsize=7)

    alt = "Bar chart: energy per stage in Wh: " + ", ".join(f"{n} {stages[n].energy_kwh * 1000:.3g}" for n in stages)
    return _svg(draw, "stages", alt + ".", height=0.5 + 0.3 * len(stages))


def what_if(ev: Evidence) -> str | None:
    if ev.energy is None or not ev.energy.what_if:
        return None
    energy = ev.energy

    def draw(ax: Axes) -> None:
        labels = [f"{w.country_iso_code} ({w.carbon_intensity_g_per_kwh:.0f} g/kWh)" for w in energy.what_if]
        values = [w.emissions_kg * 1000 for w in energy.what_if]
        colors = [DP if w.country_iso_code == energy.country_iso_code else BASE for w in energy.what_if]
        bars = ax.barh(labels, values, color=colors)
        ax.invert_yaxis()
        ax.set_xlabel("emissions of this run's energy (g CO₂e)")
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], padding=3, fontsize=7)

    alt = "Bar chart: emissions of this run's energy on other grids, in g CO2e: " + ", ".join(
        f"{w.country_iso_code} {w.emissions_kg * 1000:.3g}" for w in energy.what_if
    )
    return _svg(draw, "what-if", alt + ".", height=0.5 + 0.3 * len(energy.what_if))


def pii_heatmap(ev: Evidence) -> str | None:
    if ev.pii is None:
        return None
    columns = [c for c in ev.pii.columns if c.entities]
    entities = sorted({e for c in columns for e in c.entities})
    if not columns:
        return None

    def draw(ax: Axes) -> None:
        grid = [[c.entities.get(e, 0) / max(c.non_null, 1) for e in entities] for c in columns]
        # Vector cells (pcolormesh), not imshow: a raster would be a data: URI the PDF fetcher refuses.
        ax.pcolormesh(grid, cmap="Blues", vmin=0, vmax=1, edgecolors="white", linewidth=0.5)
        ax.invert_yaxis()
        ax.set_xticks(
            [j + 0.5 for j in range(len(entities))],
            [e.replace("_", " ").lower() for e in entities],
            rotation=35,
            ha="right",
            fontsize=6.5,
        )
        ax.set_yticks([i + 0.5 for i in range(len(columns))], [c.name[:28] for c in columns], fontsize=7)
        ax.tick_params(length=0)
        for i, row in enumerate(grid):
            for j, share in enumerate(row):
                count = columns[i].entities.get(entities[j], 0)
                if count:
                    ax.text(
                        j + 0.5,
                        i + 0.5,
                        f"{count:,}",
                        ha="center",
                        va="center",
                        fontsize=6,
                        color="white" if share > 0.5 else INK,
                    )
        for spine in ax.spines.values():
            spine.set_visible(False)

    alt = (
        f"Heat map: detected entities ({len(entities)} types) in {len(columns)} columns; each cell gives the "
        "number of findings, its shade the share of the column's rows."
    )
    return _svg(draw, "pii", alt, width=6.6, height=1.4 + 0.28 * len(columns))


def roc_curve(ev: Evidence) -> str | None:
    if ev.audit is None or ev.audit.mia_dp is None:
        return None
    audit = ev.audit

    def draw(ax: Axes) -> None:
        for result, color in ((audit.mia_dp, DP), (audit.mia_baseline, BASE)):
            if result is not None:
                ax.plot(
                    [p[0] for p in result.roc],
                    [p[1] for p in result.roc],
                    color=color,
                    linewidth=1.6,
                    label=f"{result.model} (AUC {result.auc:.3f})",
                )
        ax.plot([1e-3, 1], [1e-3, 1], color=INK, linestyle=":", linewidth=0.8, label="random guess")
        ax.set_xscale("log")
        ax.set_yscale("log")
        # Log axes label ticks with mathtext, which is off (labels are plain text): plain numbers instead.
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            axis.set_minor_formatter(NullFormatter())
        ax.set_xlim(1e-3, 1)
        ax.set_ylim(1e-3, 1)
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("true-positive rate")
        ax.legend(frameon=False, loc="lower right")

    aucs = [f"{r.model} AUC {r.auc:.3f}" for r in (audit.mia_dp, audit.mia_baseline) if r is not None]
    alt = "ROC curve of the loss-threshold membership-inference attack, log scales: " + "; ".join(aucs) + "."
    return _svg(draw, "roc", alt, width=4.6, height=2.6)


TREND_METRICS = (
    ("epsilon", "ε"),
    ("pii_rows", "rows with PII"),
    ("energy_kwh", "energy (Wh)"),
    ("emissions_kg", "CO₂e (g)"),
    ("utility", "primary metric"),
)
FAIL = "#dc2626"


def trend(ev: Evidence) -> str | None:
    """Small multiples of the key figures over the project's recent runs, oldest first."""
    points = ev.trend
    if len(points) < 2:
        return None
    scale = {"energy_kwh": 1000.0, "emissions_kg": 1000.0}

    def draw(figure: Figure) -> None:
        axes = figure.subplots(len(TREND_METRICS), 1, sharex=True)
        xs = list(range(len(points)))
        for ax, (key, label) in zip(axes, TREND_METRICS, strict=True):
            values = [getattr(p, key) for p in points]
            known = [(x, v * scale.get(key, 1.0)) for x, v in zip(xs, values, strict=True) if v is not None]
            if known:
                ax.plot([x for x, _ in known], [v for _, v in known], color=DP, linewidth=1.4)
                colors = [FAIL if points[x].verdict == "fail" else DP for x, _ in known]
                ax.scatter([x for x, _ in known], [v for _, v in known], c=colors, s=12, zorder=3)
                last = known[-1]
                if last[0] == xs[-1]:
                    ax.annotate(f"{last[1]:.3g}", last, xytext=(4, 0), textcoords="offset points", fontsize=6.5)
            ax.set_ylabel(label, fontsize=7)
            ax.margins(x=0.05, y=0.25)
        labels = [p.started_at[5:16].replace("T", " ") for p in points]
        axes[-1].set_xticks(xs, labels, rotation=45, ha="right", fontsize=6.5)
        axes[-1].set_xlabel("run started (UTC); red points failed the gate")

    alt = f"Line charts of {', '.join(label for _, label in TREND_METRICS)} over the last {len(points)} runs."
    return _svg_figure(draw, "trend", alt, 6.4, 1.2 + 1.05 * len(TREND_METRICS))


def charts(ev: Evidence) -> dict[str, str | None]:
    return {
        "epsilon": epsilon_curve(ev),
        "curves": training_curves(ev),
        "stages": stage_energy(ev),
        "what_if": what_if(ev),
        "pii": pii_heatmap(ev),
        "roc": roc_curve(ev),
        "trend": trend(ev),
    }
