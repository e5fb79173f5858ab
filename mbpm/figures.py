"""One Altair theme and one renderer, so that every chart works in both outputs of the book.

The renderer returns a mimebundle with

* ``text/html``: a ``<div>`` and a ``vegaEmbed`` call, interactive in the website. The Vega
  JavaScript itself is not in the output: the book serves one copy of it (written from
  ``vl_convert.javascript_bundle()``), so nothing is fetched from the network. The div id is a
  hash of the spec, so re-running a notebook gives the same output (nbval compares it).
* ``application/pdf``: a vector image from vl-convert, which myst-nb prefers for LaTeX.
* ``text/plain``: a short description (also what a terminal shows).

myst-nb picks ``text/html`` for the website and ``application/pdf`` for the PDF with its default
priorities (myst_nb.core.render ``base_render_priority``), so no warning is suppressed.

Usage, in a chapter's first (hidden) cell::

    from mbpm import figures
    figures.use()
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

VEGA_LITE_VERSION = "v" + ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
RENDERER = "mbpm"
THEME = "mbpm"
FONT = "DejaVu Sans"

#: Okabe & Ito (2008) colour-blind-safe palette, in the order the book uses it.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Fixed colours of the study groups, the same in every chart.
GROUP_COLOURS = {"MBPM": "#0072B2", "WL": "#E69F00", "HC": "#009E73"}
#: Points per inch of the PDF image; 72 keeps chart sizes in the PDF equal to those on screen.
PDF_SCALE = 1.0


def _theme() -> dict[str, Any]:
    """The book's Altair theme: readable fonts, colour-blind-safe categories, no chart border."""
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": 420, "continuousHeight": 280, "stroke": None},
            "range": {"category": PALETTE},
            "axis": {"labelFontSize": 11, "titleFontSize": 12, "grid": True, "gridOpacity": 0.4},
            "legend": {"labelFontSize": 11, "titleFontSize": 12},
            "header": {"labelFontSize": 12, "titleFontSize": 12},
            "title": {"fontSize": 13, "anchor": "start"},
        }
    }


def chart_id(spec: dict[str, Any]) -> str:
    """A stable HTML id for a chart: the first 12 hex digits of the SHA-256 of its spec."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
    return f"mbpm-chart-{digest[:12]}"


def to_html(spec: dict[str, Any]) -> str:
    """A ``<div>`` plus the ``vegaEmbed`` call that draws ``spec`` with the book's Vega bundle."""
    div = chart_id(spec)
    description = html.escape(str(spec.get("description", "Chart")))
    options = json.dumps({"actions": {"export": True, "source": False, "compiled": False,
                                      "editor": False}, "renderer": "svg"})
    return (
        f'<div id="{div}" class="mbpm-chart" role="img" aria-label="{description}"></div>\n'
        '<script type="text/javascript">\n'
        "(function () {\n"
        f"  var el = document.getElementById({json.dumps(div)});\n"
        "  if (typeof vegaEmbed === 'undefined') {\n"
        "    el.textContent = 'This chart needs the book\\'s vega-bundle.js, which did not load.';\n"
        "    return;\n"
        "  }\n"
        f"  vegaEmbed(el, {json.dumps(spec, sort_keys=True)}, {options})\n"
        "    .catch(function (err) { console.error(err); el.textContent = String(err); });\n"
        "})();\n"
        "</script>"
    )


def to_pdf(spec: dict[str, Any]) -> bytes:
    """Vector PDF of ``spec`` through vl-convert (no browser, no network)."""
    return vl_convert.vegalite_to_pdf(spec, vl_version=VEGA_LITE_VERSION, scale=PDF_SCALE)


def render(spec: dict[str, Any], **_metadata: Any) -> dict[str, Any]:
    """Altair renderer: interactive HTML for the website, vector PDF for LaTeX."""
    description = spec.get("description", "Altair chart")
    return {
        "text/html": to_html(spec),
        "application/pdf": to_pdf(spec),
        "text/plain": f"<{description}>",
    }


def _register_fonts() -> None:
    """Give vl-convert the DejaVu fonts that matplotlib ships, so text renders on any machine."""
    import matplotlib

    vl_convert.register_font_directory(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf"))


def use() -> None:
    """Register and enable the book's theme and renderer in the running kernel."""
    _register_fonts()
    alt.theme.register(THEME, enable=True)(_theme)
    alt.renderers.register(RENDERER, render)
    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()


def plate_curves(result: Any, columns: int = 3) -> alt.FacetChart:
    """One small multiple per fitted plate: its standard curve, standards and samples.

    ``result`` is a :class:`mbpm.assays.AssayResult`. Each panel shows the standard wells
    (points, at their nominal concentration), the fitted 4PL (line, log concentration axis),
    the sample wells placed on the curve at their back-calculated in-well concentration
    (triangles), and the LLOQ and ULOQ (dashed rules); OD is blank-corrected. Wells beyond the
    curve's asymptotes have no finite concentration and are not drawn. Scales are per panel.
    """
    from mbpm.assays import curve_chart_data

    data = curve_chart_data(result)
    kinds = ["standard", "sample", "curve"]
    colour = alt.Color("kind:N", title=None, scale=alt.Scale(domain=kinds, range=PALETTE[:3]))
    x = alt.X("concentration:Q", scale=alt.Scale(type="log"), title="Concentration in the well")
    y = alt.Y("od:Q", title="OD 450 nm, blank-corrected")
    tooltip = [alt.Tooltip("kind:N"), alt.Tooltip("concentration:Q", format=".3g"),
               alt.Tooltip("od:Q", format=".3f")]
    base = alt.Chart().encode(x=x)
    layers = [
        base.transform_filter(alt.datum.kind == "curve").mark_line(strokeWidth=1.5)
        .encode(y=y, color=colour),
        base.transform_filter(alt.datum.kind == "standard").mark_point(filled=True, size=30)
        .encode(y=y, color=colour, tooltip=tooltip),
        base.transform_filter(alt.datum.kind == "sample")
        .mark_point(shape="triangle-up", size=25, opacity=0.7)
        .encode(y=y, color=colour, tooltip=tooltip),
        base.transform_filter(alt.FieldOneOfPredicate(field="kind", oneOf=["LLOQ", "ULOQ"]))
        .mark_rule(strokeDash=[4, 3], color="#777777")
        .encode(tooltip=[alt.Tooltip("kind:N"), alt.Tooltip("concentration:Q", format=".4g")]),
    ]
    return (
        alt.layer(*layers, data=data)
        .properties(width=170, height=130)
        .facet(facet=alt.Facet("panel:N", title=None), columns=columns)
        .resolve_scale(x="independent", y="independent")
        .properties(description="Standard curve of every ELISA plate with its standards and "
                                "samples")
    )


# --- Biomarkers and oxytocin-pain ---
# Charts of chapters/biomarkers.md and chapters/oxytocin_pain.md with their data-shaping helpers.

#: The two arms of the course comparison, in the order of the facets.
ARMS = ("MBPM", "WL")
#: How the two visits are written on the axes.
VISIT_LABELS = {"baseline": "Baseline", "week8": "Week 8"}
#: The main pain and mood outcomes whose change is plotted against the change in log oxytocin.
INTERPLAY_MAIN = ("promis29.pain_interference", "promis29.pain_intensity", "sfmpq.total",
                  "pcs.total", "bdi2.total")
#: Name (and colour, black) of the regression line fitted to both arms together.
POOLED = "MBPM + WL pooled"


def trajectory_data(long: Any, analyte: str) -> Any:
    """Rows for :func:`biomarker_trajectories` of one analyte (MBPM and WL only).

    ``kind`` = "participant": one row per participant and visit (``participant_id``, ``group``,
    ``visit``, ``value``); ``kind`` = "geometric mean": per arm and visit the geometric mean
    exp(mean ln x) of everyone measured at that visit with its 95 % CI
    exp(mean ln x +/- t_{n-1} SD(ln x) / sqrt(n)) in ``low``/``high`` and ``n``, from
    :func:`mbpm.stats.describe`. ``visit`` is written as in :data:`VISIT_LABELS`.
    """
    import pandas as pd

    from mbpm.stats import describe

    sub = long.loc[(long["outcome"] == analyte) & long["group"].isin(list(ARMS))]
    means = describe(sub, log_outcomes=[analyte])
    data = pd.concat([
        sub.assign(kind="participant")[["kind", "participant_id", "group", "visit", "value"]],
        means.assign(kind="geometric mean", value=means["gmean"], low=means["gmean_ci_low"],
                     high=means["gmean_ci_high"])[["kind", "group", "visit", "value", "low",
                                                   "high", "n"]],
    ], ignore_index=True)
    return data.assign(visit=data["visit"].map(VISIT_LABELS))


def biomarker_trajectories(long: Any, analyte: str, *, panel_width: int = 182,
                           panel_height: int = 200, compact: bool = False) -> alt.FacetChart:
    """One analyte, one facet per arm (MBPM, WL): each participant's baseline-to-week-8 line
    (faint), and the geometric mean per visit with its 95 % CI (bold line, points, error bars),
    on a log-scale concentration axis with the unit (:func:`trajectory_data`).

    ``compact`` (for small multiples): the analyte and unit become the chart title, the y axis
    says only the unit, and the visits are written as weeks 0 and 8 under an axis title "Week".
    """
    from mbpm.assays import ANALYTE_LABELS, UNITS

    data = trajectory_data(long, analyte)
    colour = alt.Color("group:N", legend=None, scale=alt.Scale(
        domain=list(ARMS), range=[GROUP_COLOURS[g] for g in ARMS]))
    name = f"{ANALYTE_LABELS[analyte]} ({UNITS[analyte]}"
    axis = alt.Axis(labelAngle=0, grid=False, labelExpr=(
        "datum.value == 'Baseline' ? '0' : '8'" if compact else alt.Undefined))
    x = alt.X("visit:N", title="Week" if compact else None, sort=list(VISIT_LABELS.values()),
              scale=alt.Scale(padding=0.3), axis=axis)
    y = alt.Y("value:Q", scale=alt.Scale(type="log"),
              title=f"{UNITS[analyte]}, log scale" if compact else f"{name}, log scale)")
    people = alt.Chart().transform_filter(alt.datum.kind == "participant")
    means = alt.Chart().transform_filter(alt.datum.kind == "geometric mean")
    tooltip = [alt.Tooltip("group:N"), alt.Tooltip("visit:N"), alt.Tooltip("n:Q"),
               alt.Tooltip("value:Q", title="geometric mean", format=".3g"),
               alt.Tooltip("low:Q", format=".3g"), alt.Tooltip("high:Q", format=".3g")]
    layers = alt.layer(
        people.mark_line(strokeWidth=0.8, opacity=0.25).encode(
            x=x, y=y, color=colour, detail="participant_id:N"),
        people.mark_point(size=10, opacity=0.3, filled=True).encode(x=x, y=y, color=colour),
        means.mark_line(strokeWidth=2.8).encode(x=x, y=y, color=colour),
        means.mark_rule(strokeWidth=2.2).encode(x=x, y="low:Q", y2="high:Q", color=colour),
        means.mark_point(size=55, filled=True, opacity=1, stroke="white", strokeWidth=0.8)
        .encode(x=x, y=y, color=colour, tooltip=tooltip),
        data=data,
    ).properties(width=panel_width, height=panel_height)
    chart = layers.facet(column=alt.Column("group:N", title=None, sort=list(ARMS),
                                           header=alt.Header(labelFontWeight="bold")))
    if compact:
        chart = chart.properties(title=f"{name})")
    return chart.properties(
        spacing=8,
        description=f"{ANALYTE_LABELS[analyte]} at baseline and week 8 for each participant, "
                    "MBPM and wait-list side by side, with the geometric mean and 95 % CI of "
                    "each arm, on a log scale")


def biomarker_panels(long: Any, analytes: Any, *, columns: int = 2, panel_width: int = 74,
                     panel_height: int = 105) -> alt.VConcatChart:
    """Small multiples of compact :func:`biomarker_trajectories`, ``columns`` analytes per row,
    each with its own log axis."""
    from mbpm.assays import ANALYTE_LABELS

    blocks = [biomarker_trajectories(long, a, panel_width=panel_width, panel_height=panel_height,
                                     compact=True)
              for a in analytes]
    rows = [alt.hconcat(*blocks[i:i + columns], spacing=14)
            for i in range(0, len(blocks), columns)]
    names = ", ".join(ANALYTE_LABELS[a] for a in analytes)
    return alt.vconcat(*rows, spacing=12).properties(
        description=f"{names} at baseline and week 8 for each participant, MBPM and wait-list "
                    "side by side, with the geometric mean and 95 % CI of each arm, log scales")


def interplay_data(long: Any, catalogue: Any, outcome_ids: Any = INTERPLAY_MAIN,
                   x_outcome: str = "oxytocin") -> Any:
    """One row per MBPM/WL participant and outcome with both changes: ``x`` = ln(week 8 /
    baseline) of ``x_outcome``, ``y`` = week 8 - baseline of the outcome (its ``label`` from the
    catalogue), ``group`` and ``series`` (= group, the colour field of
    :func:`interplay_scatter`). From :func:`mbpm.stats.change_scores`; people missing a visit of
    either variable are left out."""
    from mbpm.stats import change_scores

    ids = list(outcome_ids)
    sub = long.loc[long["outcome"].isin([x_outcome, *ids]) & long["group"].isin(list(ARMS))]
    ch = change_scores(sub, log_outcomes=[x_outcome]).dropna(subset=["change"])
    x = ch.loc[ch["outcome"] == x_outcome].set_index("participant_id")["change"]
    ys = ch.loc[ch["outcome"].isin(ids)]
    ys = ys.loc[ys["participant_id"].isin(x.index)]
    order = {o: i for i, o in enumerate(ids)}
    data = ys.assign(x=ys["participant_id"].map(x), y=ys["change"],
                     label=ys["outcome"].map(catalogue["label"]), series=ys["group"],
                     _order=ys["outcome"].map(order))
    data = data.sort_values(["_order", "participant_id"], kind="stable")
    return data[["participant_id", "group", "series", "outcome", "label", "x", "y"]] \
        .reset_index(drop=True)


def interplay_scatter(long: Any, catalogue: Any, outcome_ids: Any = INTERPLAY_MAIN, *,
                      columns: int = 3, panel_width: int = 88,
                      panel_height: int = 105) -> alt.FacetChart:
    """Change in each outcome (y, week 8 - baseline, "Change in score") against the change in log
    oxytocin (x, ln(week 8 / baseline), "Δ ln oxytocin"), one panel per outcome, points coloured by arm, with two ordinary
    least-squares lines (Vega-Lite's linear regression transform): MBPM alone and both arms
    pooled (:data:`POOLED`), over the range of the data they fit."""
    data = interplay_data(long, catalogue, outcome_ids)
    domain = [*ARMS, POOLED]
    colour = alt.Color("series:N", title=None, scale=alt.Scale(
        domain=domain, range=[GROUP_COLOURS["MBPM"], GROUP_COLOURS["WL"], PALETTE[7]]),
        legend=alt.Legend(orient="bottom", direction="horizontal", symbolOpacity=1))
    x = alt.X("x:Q", title="Δ ln oxytocin")
    y = alt.Y("y:Q", title="Change in score", scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("participant_id:N"), alt.Tooltip("group:N"),
               alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".2f")]
    base = alt.Chart()
    layers = alt.layer(
        alt.Chart().mark_rule(color="#999999", strokeDash=[3, 3]).encode(x=alt.datum(0)),
        base.mark_point(size=22, filled=True, opacity=0.75).encode(
            x=x, y=y, color=colour, tooltip=tooltip),
        base.transform_regression("x", "y", groupby=["series"], method="linear")
        .transform_filter(alt.datum.series == "MBPM")
        .mark_line(strokeWidth=2).encode(x=x, y=y, color=colour),
        base.transform_regression("x", "y", method="linear")
        .transform_calculate(series=f"'{POOLED}'")
        .mark_line(strokeWidth=1.6, strokeDash=[6, 3]).encode(x=x, y=y, color=colour),
        data=data,
    ).properties(width=panel_width, height=panel_height)
    order = list(dict.fromkeys(data["label"]))
    return (layers.facet(facet=alt.Facet("label:N", title=None, sort=order, header=alt.Header(
                labelExpr="split(datum.value, ': ')", labelFontSize=11)), columns=columns)
            .resolve_scale(y="independent").resolve_axis(x="independent")
            .properties(spacing=10, description=(
                "Scatter plots of the change in each main pain and mood outcome against the "
                "change in log salivary oxytocin, coloured by arm, with least-squares lines for "
                "MBPM and for both arms pooled")))
