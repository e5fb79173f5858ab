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


# --- Robustness and design analysis ---

def specification_chart(specs: Any, columns: int = 2, width: int = 100) -> alt.FacetChart:
    """Specification curves: one panel per headline result, one row per analysis choice.

    ``specs`` is :func:`mbpm.robustness.specifications` (or a subset of its rows). Each row shows
    the standardized estimate (difference in change MBPM - WL in baseline SDs of the analysis
    scale) with its 95 % CI where the test gives one; filled points have p < 0.05, the primary
    specification is drawn as a larger diamond. Panels share the specification axis.
    """
    data = specs.assign(significance=specs["p"].lt(0.05).map({True: "p < 0.05", False: "p ≥ 0.05"}),
                        kind=specs["primary"].map({True: "primary", False: "alternative"}))
    y = alt.Y("spec:N", title=None, sort=None, axis=alt.Axis(labelLimit=170, labelFontSize=9))
    x_title = "MBPM − WL (SD)"
    x = alt.X("estimate_std:Q", title=x_title)
    colour = alt.Color("significance:N", title=None,
                       scale=alt.Scale(domain=["p < 0.05", "p ≥ 0.05"],
                                       range=[PALETTE[5], PALETTE[0]]))
    shape = alt.Shape("kind:N", title=None, scale=alt.Scale(domain=["primary", "alternative"],
                                                            range=["diamond", "circle"]))
    tooltip = [alt.Tooltip("label:N", title="Outcome"), alt.Tooltip("spec:N"),
               alt.Tooltip("estimate:Q", format=".3g", title="Estimate (test's scale)"),
               alt.Tooltip("estimate_std:Q", format=".2f"), alt.Tooltip("p:Q", format=".3f")]
    base = alt.Chart().encode(y=y)
    layers = [
        alt.Chart().mark_rule(color="#777777", strokeDash=[3, 3]).encode(x=alt.datum(0)),
        base.mark_rule(strokeWidth=1.2).encode(x=alt.X("ci_low_std:Q", title=x_title),
                                               x2="ci_high_std:Q", color=colour),
        base.mark_point(filled=True, size=45, opacity=1).encode(x=x, color=colour, shape=shape,
                                                                 tooltip=tooltip),
    ]
    return (alt.layer(*layers, data=data).properties(width=width, height=alt.Step(11))
            .facet(facet=alt.Facet("label:N", title=None, sort=list(dict.fromkeys(data["label"]))),
                   columns=columns)
            .resolve_scale(x="independent")
            .configure_legend(orient="bottom", direction="horizontal", columns=4)
            .configure_facet(spacing=12)
            .properties(description="Specification curves: each headline result's standardized "
                                    "estimate under every analysis choice"))


def power_chart(table: Any) -> alt.Chart:
    """Proportion of simulated trials reproducing each claim against patients per arm, with
    +-1.96 Monte Carlo standard errors. ``table`` is :func:`mbpm.design.power_table` restricted
    to the claims (``is_claim``)."""
    data = table.assign(low=(table["proportion"] - 1.96 * table["mc_se"]).clip(0, 1),
                        high=(table["proportion"] + 1.96 * table["mc_se"]).clip(0, 1))
    sizes = sorted(data["n_per_arm"].unique())
    x = alt.X("n_per_arm:Q", title="Patients per arm (log scale)",
              scale=alt.Scale(type="log", domain=[sizes[0] * 0.9, sizes[-1] * 1.1]),
              axis=alt.Axis(values=sizes))
    y_title = "Trials reproducing the claim"
    y = alt.Y("proportion:Q", title=y_title, scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format="%"))
    colour = alt.Color("label:N", title=None, scale=alt.Scale(range=PALETTE),
                       legend=alt.Legend(orient="bottom", columns=1, labelLimit=330))
    base = alt.Chart(data).encode(x=x, color=colour)
    return (alt.layer(
        alt.Chart(data).mark_rule(color="#777777", strokeDash=[4, 3]).encode(y=alt.datum(0.8)),
        base.mark_line(point=True).encode(
            y=y, tooltip=[alt.Tooltip("label:N", title="Claim"), alt.Tooltip("n_per_arm:Q"),
                          alt.Tooltip("proportion:Q", format=".1%"),
                          alt.Tooltip("mc_se:Q", format=".1%", title="MC SE"),
                          alt.Tooltip("trials:Q")]),
        base.mark_errorbar().encode(y=alt.Y("low:Q", title=y_title), y2="high:Q"))
        .properties(width=330, height=220,
                    description="Proportion of simulated trials reproducing each claim by "
                                "patients per arm"))
