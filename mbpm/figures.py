"""One Altair theme and one renderer, so that every chart works in both outputs of the book.

The renderer returns a mimebundle with

* ``text/html``: a ``<div>`` and a ``vegaEmbed`` call, interactive in the website. The Vega
  JavaScript itself is not in the output: the book serves one copy of it (written from
  ``vl_convert.javascript_bundle()``), so nothing is fetched from the network. The div id is a
  hash of the spec, so re-running a notebook gives the same output (nbval compares it).
* :data:`mbpm.chart_pdf.SPEC_MIME`: the spec as JSON text, which only the PDF build turns into a
  vector image (:mod:`mbpm.chart_pdf`), so executing a chapter writes no PDF.
* ``text/plain``: a short description (also what a terminal shows).

myst-nb picks ``text/html`` for the website (its default priorities, myst_nb.core.render
``base_render_priority``) and the spec's image for the PDF (``chart_pdf.ChartSpecRenderer``).

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

import numpy as np
import pandas as pd

from mbpm import chart_pdf, privacy
from mbpm import study as study_definition
from mbpm.lazy import lazy_module, when_imported
from mbpm.literal import script_json, visible

# Imported at first use (mbpm.lazy): a chapter that draws no chart never imports Altair.
alt = lazy_module("altair")


def vega_lite_version() -> str:
    """The Vega-Lite version of the installed Altair's schema, as vl-convert names it ("v6.1")."""
    return "v" + ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])


def __getattr__(name: str) -> Any:
    """``VEGA_LITE_VERSION``: :func:`vega_lite_version` (computed when read, not at import)."""
    if name == "VEGA_LITE_VERSION":
        return vega_lite_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


RENDERER = "mbpm"
THEME = "mbpm"
FONT = "DejaVu Sans"

#: Okabe & Ito (2008) colour-blind-safe palette, in the order the book uses it.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
#: Fixed colours of the study groups, the same in every chart.
_DEFINITION = study_definition.active()
#: The arms (treated, control), the reference group and the visits (pre, post) by role, from the
#: study definition: charts are laid out by role, labelled by the definition.
_TREATED, _CONTROL = _DEFINITION.treated, _DEFINITION.control
_REFERENCE = _DEFINITION.reference.id if _DEFINITION.reference else "reference"
_PRE, _POST = _DEFINITION.pre, _DEFINITION.post
#: The arms and visits as chart text writes them: "MBPM", "WL", "wait-list", "baseline and week 8".
_T, _C, _CW = _TREATED.id, _CONTROL.id, _CONTROL.label[:1].lower() + _CONTROL.label[1:]
_MARKER_WORD = _DEFINITION.analyte(_DEFINITION.outcome_set("interplay_marker")).label.lower()
_VISITS_TEXT = f"{_PRE.label.lower()} and {_POST.label.lower()}"
GROUP_COLOURS = {_TREATED.id: "#0072B2", _CONTROL.id: "#E69F00", _REFERENCE: "#009E73"}
#: Width (px) a chart may use: the website's text column on a desktop (784 px in a 1400 px
#: window, with both sidebars). On a narrower screen a chart scrolls inside its own box
#: (chapters/_ext/book_assets.py) so that its labels stay at their size.
COLUMN_WIDTH = 720
#: Smallest text of any chart (px at 100 % zoom); tests/test_browser.py measures it.
MIN_FONT = 12


def _theme() -> dict[str, Any]:
    """The book's Altair theme: readable fonts, colour-blind-safe categories, no chart border."""
    return {
        "config": {
            "font": FONT,
            "view": {"continuousWidth": 420, "continuousHeight": 280, "stroke": None},
            "range": {"category": PALETTE},
            "axis": {"labelFontSize": MIN_FONT, "titleFontSize": MIN_FONT + 1, "grid": True,
                     "gridOpacity": 0.4, "labelOverlap": True},
            # Below the plot, so a legend neither widens a chart nor is cut at its right edge.
            "legend": {"labelFontSize": MIN_FONT, "titleFontSize": MIN_FONT + 1,
                       "orient": "bottom", "direction": "horizontal", "labelLimit": 360},
            "header": {"labelFontSize": MIN_FONT + 1, "titleFontSize": MIN_FONT + 1},
            "title": {"fontSize": MIN_FONT + 2, "anchor": "start"},
        }
    }


def _without_floats(node: Any) -> Any:
    """``node`` with every float replaced by a placeholder (ints, strings and structure kept)."""
    if isinstance(node, dict):
        return {k: _without_floats(v) for k, v in node.items()}
    if isinstance(node, list | tuple):
        return [_without_floats(v) for v in node]
    return "<float>" if isinstance(node, float) else node


#: How many charts of each shape this kernel has drawn (see :func:`chart_id`).
_DRAWN: dict[str, int] = {}


def chart_id(spec: dict[str, Any]) -> str:
    """A stable HTML id for a chart: 12 hex digits of the SHA-256 of its spec *without its
    floats*, plus ``-2``, ``-3``, ... for the second and later chart of the same shape drawn by
    this kernel.

    The id must not depend on numbers: a float that differs in its 15th digit on another CPU or
    BLAS kernel would change a hash of the full spec, and the regression test compares the
    chart's HTML (where floats are compared to six significant digits only). The names, labels,
    encodings and counts in a spec are exact, and a chapter draws its charts in a fixed order.
    """
    digest = hashlib.sha256(json.dumps(_without_floats(spec), sort_keys=True).encode()).hexdigest()
    base = f"mbpm-chart-{digest[:12]}"
    _DRAWN[base] = _DRAWN.get(base, 0) + 1
    return base if _DRAWN[base] == 1 else f"{base}-{_DRAWN[base]}"


def to_html(spec: dict[str, Any]) -> str:
    """A ``<div>`` plus the ``vegaEmbed`` call that draws ``spec`` with the book's Vega bundle.

    The spec (its data may hold a folder's free text) is embedded with
    :func:`mbpm.literal.script_json`, so no ``</script>`` in it can end the script.
    """
    div = chart_id(spec)
    description = html.escape(visible(spec.get("description", "Chart")))
    options = script_json({"actions": {"export": True, "source": False, "compiled": False,
                                      "editor": False}, "renderer": "svg"})
    return (
        f'<div id="{div}" class="mbpm-chart" role="img" aria-label="{description}"></div>\n'
        '<script type="text/javascript">\n'
        "(function () {\n"
        f"  var el = document.getElementById({script_json(div)});\n"
        "  if (typeof vegaEmbed === 'undefined') {\n"
        "    el.textContent = 'This chart needs the book\\'s vega-bundle.js, which did not load.';\n"
        "    return;\n"
        "  }\n"
        f"  vegaEmbed(el, {script_json(spec, sort_keys=True)}, {options})\n"
        "    .catch(function (err) { console.error(err); el.textContent = String(err); });\n"
        "})();\n"
        "</script>"
    )


def stable_dataset_names(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with Altair's dataset names (``data-<hash of the values>``) replaced by
    ``data-1``, ``data-2``, ... in the order the spec lists them.

    Altair names each consolidated dataset by a hash of its full-precision values, so a float
    that differs in its last digit on another CPU renames the dataset and changes the chart's
    HTML beyond what the regression test rounds away (found by tests/test_portability.py).
    """
    names = list(spec.get("datasets", {}))
    if not names:
        return spec
    text = json.dumps(spec)
    for i, name in enumerate(names, start=1):
        text = text.replace(json.dumps(name), json.dumps(f"data-{i}"))
    return json.loads(text)


def render(spec: dict[str, Any], **_metadata: Any) -> dict[str, Any]:
    """Altair renderer: interactive HTML for the website, the spec for the PDF build."""
    spec = privacy.chart_spec(spec)  # PRIVACY GUARD: real data -> no participant-level rows
    spec = stable_dataset_names(spec)
    description = spec.get("description", "Altair chart")
    return {
        "text/html": to_html(spec),
        chart_pdf.SPEC_MIME: chart_pdf.pdf_source(spec, vega_lite_version()),
        "text/plain": f"<{description}>",
    }


def use() -> None:
    """Set up a chapter's kernel: the book's Altair theme and renderer, and plain number reprs.

    NumPy 2 writes scalars as ``np.float64(1.2)``; myst-nb's ``{glue:text}`` formats the
    ``text/plain`` repr of a glued value, so the legacy (NumPy 1.25) repr keeps ``1.2``.
    Altair is set up by :func:`use_altair` when it is first imported (now, if it already is):
    a chapter without charts does not import it.
    """
    np.set_printoptions(legacy="1.25")
    when_imported("altair", use_altair)


def use_altair(altair: Any = None) -> None:
    """The book's Altair theme and renderer, and no row limit on chart data."""
    altair = altair or alt
    altair.theme.register(THEME, enable=True)(_theme)
    altair.renderers.register(RENDERER, render)
    altair.renderers.enable(RENDERER)
    altair.data_transformers.disable_max_rows()


#: Keys Vega-Lite allows only at the top of a spec.
_TOP_LEVEL_ONLY = ("$schema", "config", "datasets")


class Spec:
    """A finished Vega-Lite spec that behaves as a finished Altair chart does: ``to_dict()``
    gives (a copy of) the spec, ``properties(**kw)`` a spec with those top-level properties,
    ``spec[key]`` a top-level entry, and a notebook (or ``glue``) shows it through the book's
    renderer. (Not a ``dict`` subclass: IPython would print a dict's repr as its text.)

    >>> Spec({"mark": "point"}).properties(width=100).to_dict()
    {'mark': 'point', 'width': 100}
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self._spec = spec

    def __getitem__(self, key: str) -> Any:
        return self._spec[key]

    def __repr__(self) -> str:
        return f"Spec(<{self._spec.get('description', 'chart')}>)"

    def to_dict(self, validate: bool = True) -> dict[str, Any]:  # noqa: ARG002 - Altair's signature
        """The spec (a deep copy: the caller may change it). Its parts were validated by Altair
        when they were made (:func:`concat`)."""
        return json.loads(json.dumps(self._spec))

    def properties(self, **properties: Any) -> Spec:
        return Spec({**self._spec, **properties})

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return alt.renderers.get()(self.to_dict())


def concat(direction: str, charts: Any, **properties: Any) -> Spec:
    """``alt.hconcat`` (``direction="hconcat"``) or ``alt.vconcat`` (``"vconcat"``) of finished
    charts (Altair charts or :class:`Spec`), made from their specs: the same spec Altair writes
    (``tests/test_figures_results2.py`` compares them), at a fraction of the cost.

    Each chart's ``to_dict()`` (Altair validates it there) gives its spec; the top-level-only keys
    (``$schema``, ``config``: the book's theme, the same in every chart; ``datasets``, merged by
    name: Altair names a dataset by a hash of its values) move to the top, and a lone chart's
    data to the concat, as Altair moves them. Altair's own concat
    deep-copies every subchart at each level of nesting and its ``to_dict`` copies and
    validates the whole nest again: 4-8 s for the five-analyte small multiples of
    :func:`biomarker_panels`, most of an author's one-chapter rebuild (issue 15).

    >>> spec = concat("hconcat", [Spec({"mark": "point", "datasets": {"d": [1]}}),
    ...                           Spec({"mark": "bar"})], spacing=4)
    >>> spec["hconcat"], spec["datasets"], spec["spacing"]
    ([{'mark': 'point'}, {'mark': 'bar'}], {'d': [1]}, 4)
    """
    if direction not in ("hconcat", "vconcat"):
        raise ValueError(f"direction must be 'hconcat' or 'vconcat', got {direction!r}")
    specs = [chart.to_dict() for chart in charts]
    top = {k: v for k, v in specs[0].items() if k in _TOP_LEVEL_ONLY[:2]} if specs else {}
    datasets: dict[str, Any] = {}
    for spec in specs:
        datasets.update(spec.get("datasets", {}))
    parts = [{k: v for k, v in spec.items() if k not in _TOP_LEVEL_ONLY} for spec in specs]
    # Altair lifts the data of a lone subchart to the concat (of several, only when they hold
    # the same data object, which no two charts here do).
    lifted = {"data": parts[0].pop("data")} if len(parts) == 1 and "data" in parts[0] else {}
    return Spec({**top, **lifted, direction: parts, **properties,
                 **({"datasets": datasets} if datasets else {})})


def plate_curves(result: Any, columns: int = 3) -> alt.FacetChart:
    """One small multiple per fitted plate: its standard curve, standards and samples.

    ``result`` is a :class:`mbpm.assays.AssayResult`. Each panel shows the standard wells
    (points, at their nominal concentration), the fitted 4PL (line, log concentration axis),
    the sample wells placed on the curve at their back-calculated in-well concentration
    (triangles), and the LLOQ and ULOQ (dashed rules); OD is blank-corrected. Wells beyond the
    curve's asymptotes have no finite concentration and are not drawn. Scales are per panel.

    The axes are named once, in the chart's title (the panel headers give plate, analyte and
    unit), and the panels are short, so that all 18 plates of the study print legibly on one
    page of the PDF (issue 14: 1533 px tall, its text printed at 4 pt).
    """
    from mbpm.assays import curve_chart_data

    data = curve_chart_data(result)
    kinds = ["standard", "sample", "curve"]
    colour = alt.Color("kind:N", title=None, scale=alt.Scale(domain=kinds, range=PALETTE[:3]))
    x = alt.X("concentration:Q", scale=alt.Scale(type="log", nice=False),
              axis=alt.Axis(labelOverlap="greedy", tickCount=4), title=None)
    y = alt.Y("od:Q", title=None, axis=alt.Axis(tickCount=4))
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
        .properties(width=COLUMN_WIDTH // columns - 45, height=90)
        .facet(facet=alt.Facet("panel:N", title=None), columns=columns)
        .resolve_scale(x="independent", y="independent")
        .properties(title=alt.Title(
            "Optical density at 450 nm, blank-corrected (y), against the concentration in the "
            "well (x, log scale)", anchor="start", fontSize=MIN_FONT, fontWeight="normal",
            offset=8),
            spacing={"row": 14, "column": 12},
            description="Standard curve of every ELISA plate with its standards and samples")
    )


# --- Study flow (CONSORT) ---

#: Box centres of the CONSORT diagram in a 0-1 x 0-6 grid (x across, y down).
_CONSORT_LAYOUT = {
    "assessed": (0.5, 0.0), "excluded": (0.83, 1.0), "enrolled": (0.5, 2.0), "hc": (0.17, 1.0),
    **{f"{stage} {arm.id}": (x, y) for arm, x in ((_TREATED, 0.27), (_CONTROL, 0.73))
       for stage, y in (("allocated", 3.0), ("lost", 4.0), ("analysed", 5.0))},
}


def _arm_box(stage: str, arm: Any) -> str:
    """A CONSORT box name: ``"enrolled"`` is shared, the later stages are per arm."""
    return stage if stage == "enrolled" else f"{stage} {arm.id}"


_CONSORT_EDGES = [("assessed", "enrolled"), ("assessed", "excluded"),
                  *[(_arm_box(a, arm), _arm_box(b, arm))
                    for a, b in (("enrolled", "allocated"), ("allocated", "lost"),
                                 ("lost", "analysed"))
                    for arm in (_TREATED, _CONTROL)]]


# --- Baseline and psychological outcomes ---
# Charts of chapters/baseline.md and chapters/psychological.md with their data-shaping helpers.


#: Colour of each outcome family, the same in every chart of the book's results.
FAMILY_COLOURS = {"biomarkers": PALETTE[7], "pain": PALETTE[5], "mood": PALETTE[0],
                  "function and activation": PALETTE[2],
                  "mindfulness and interoception": PALETTE[3]}
#: Outcomes of the group-means figure of the psychological chapter.
MAIN_PAIN_MOOD = tuple(study_definition.active().outcome_set("pain_mood_figure"))
#: x position of each visit and horizontal offset of each arm in the group-means chart.
VISIT_X = {_PRE.id: 0.0, _POST.id: 1.0}
ARM_OFFSET = {_TREATED.id: -0.06, _CONTROL.id: 0.06}


def _forest(data: Any, x_title: str, description: str, shape: Any = None,
            width: int = COLUMN_WIDTH - 300) -> Spec:
    """Shared forest layout: one row per outcome (``label``), the point ``x`` with its CI
    (``low``, ``high``), a rule at 0, coloured by family, one block per family (titled by it,
    as tall as its number of outcomes), all on one x scale with its axis under the last block.

    The blocks are stacked (``vconcat``), not faceted: a facet with an independent discrete y
    over several layers makes Vega-Lite log "faceted independent scales that union domain of the
    same fields from different source" (issue 14; vega-lite issue 2736), and a reader's console
    should not show a warning.
    """
    shape = alt.Undefined if shape is None else shape  # no shape encoding unless one is given
    families = [f for f in FAMILY_COLOURS if f in set(data["family"])]
    colour = alt.Color("family:N", legend=None,  # the block titles name the families
                       scale=alt.Scale(domain=families,
                                       range=[FAMILY_COLOURS[f] for f in families]))
    tooltip = [alt.Tooltip("label:N", title="Outcome"), alt.Tooltip("x:Q", format=".2f"),
               alt.Tooltip("low:Q", format=".2f"), alt.Tooltip("high:Q", format=".2f")]
    # Blocks above the last draw the x grid only (no labels, ticks or title).
    hidden = alt.Axis(labels=False, ticks=False, domain=False, title=None)

    def block(family: str, last: bool) -> alt.LayerChart:
        rows = data.loc[data["family"] == family]
        y = alt.Y("label:N", title=None, sort=list(pd.unique(rows["label"])),
                  axis=alt.Axis(labelLimit=230))
        axis = alt.Axis() if last else hidden
        x = alt.X("x:Q", title=x_title, axis=axis)
        base = alt.Chart().encode(y=y)
        return alt.layer(
            alt.Chart().mark_rule(color="#555555", strokeDash=[3, 3])
            .encode(x=alt.datum(0, axis=axis)),
            base.mark_rule(strokeWidth=1.5).encode(x=alt.X("low:Q", title=x_title, axis=axis),
                                                   x2="high:Q", color=colour),
            base.mark_point(filled=True, size=45, opacity=1).encode(
                x=x, color=colour, shape=shape, tooltip=tooltip),
            data=rows,
        ).properties(width=width, height=alt.Step(MIN_FONT + 6), title=alt.Title(
            family, anchor="start", frame="group", fontSize=MIN_FONT + 1, fontWeight="bold",
            offset=4))

    blocks = [block(f, i == len(families) - 1) for i, f in enumerate(families)]
    return concat("vconcat", blocks, spacing=6, description=description,
                  resolve={"scale": {"x": "shared", "color": "shared", "shape": "shared"}})


def baseline_forest_data(baseline: Any, catalogue: Any) -> Any:
    """Welch rows of ``Results.baseline`` for the forest plot: label, family, higher_is, x =
    Hedges' g (patients - HC), low, high; catalogue order."""
    from mbpm.stats import names
    from mbpm.findings.format import short_label

    welch = baseline.loc[baseline["analysis"] == names.WELCH].set_index("outcome")
    ids = [o for o in catalogue.index if o in welch.index]
    return welch.loc[ids].assign(
        label=[short_label(catalogue.at[o, "label"]) for o in ids],
        family=catalogue.loc[ids, "family"].to_numpy(),
        higher_is=catalogue.loc[ids, "higher_is"].map(
            {"worse": "worse", "better": "better", "neutral": "no direction (biomarker)"}),
        x=welch.loc[ids, "effect_size"], low=welch.loc[ids, "effect_size_ci_low"],
        high=welch.loc[ids, "effect_size_ci_high"],
    ).reset_index()[["outcome", "label", "family", "higher_is", "x", "low", "high"]]


def baseline_forest(baseline: Any, catalogue: Any) -> Spec:
    """Forest plot of Hedges' g (patients - healthy controls) with 95 % CI for every outcome,
    grouped and coloured by family; the marker says whether a higher score is better or worse."""
    data = baseline_forest_data(baseline, catalogue)
    kinds = ["worse", "better", "no direction (biomarker)"]
    shape = alt.Shape("higher_is:N", title="Higher score is",
                      scale=alt.Scale(domain=kinds, range=["circle", "square", "diamond"]),
                      legend=alt.Legend(orient="top", direction="horizontal", offset=10))
    return _forest(data, "Hedges' g, patients − controls (SD units)",
                   "Forest plot of Hedges' g with 95 % CI, patients versus the reference group, "
                   "for every biomarker and questionnaire scale", shape=shape)


def adjusted_effects_data(ancova: Any, catalogue: Any) -> Any:
    """Standardized ANCOVA effects of the questionnaire scales, oriented so positive favours MBPM:
    x = sign * effect_size (adjusted MBPM - WL difference / pooled baseline SD), sign from
    :func:`mbpm.tables.favours_mbpm_sign`; CI bounds oriented the same way (swapped when the sign
    is -1). Biomarkers have no favourable direction and are left out."""
    from mbpm.stats import names
    from mbpm.findings.format import favours_mbpm_sign, short_label

    rows = ancova.loc[ancova["analysis"] == names.ANCOVA].set_index("outcome")
    ids = [o for o in catalogue.index if o in rows.index
           and catalogue.at[o, "higher_is"] != "neutral"]
    sign = catalogue.loc[ids, "higher_is"].map(favours_mbpm_sign).to_numpy()
    lo, hi = (rows.loc[ids, c].to_numpy() * sign
              for c in ("effect_size_ci_low", "effect_size_ci_high"))
    return rows.loc[ids].assign(
        label=[short_label(catalogue.at[o, "label"]) for o in ids],
        family=catalogue.loc[ids, "family"].to_numpy(),
        x=rows.loc[ids, "effect_size"].to_numpy() * sign,
        low=[min(a, b) for a, b in zip(lo, hi)], high=[max(a, b) for a, b in zip(lo, hi)],
    ).reset_index()[["outcome", "label", "family", "x", "low", "high", "p", "p_fdr"]]


def adjusted_effects(ancova: Any, catalogue: Any) -> Spec:
    """Every scale's ANCOVA effect (adjusted MBPM - WL at week 8 in pooled-baseline-SD units) with
    95 % CI, oriented so that right of 0 favours MBPM and left favours the wait-list."""
    return _forest(adjusted_effects_data(ancova, catalogue),
                   f"← favours {_CW} · favours {_T} → (SD units)",
                   f"Adjusted {_T} versus {_CW} effect at {_POST.label.lower()} for every "
                   "questionnaire scale, in baseline SD units with 95 % CI, oriented so that "
                   f"positive values favour {_T}")


def group_means_data(long: Any, outcome_ids: Any, catalogue: Any) -> Any:
    """Rows for :func:`group_means`: individual values (``kind`` = "participant") and per arm and
    visit the mean with its 95 % t CI (``kind`` = "mean", from :func:`mbpm.stats.describe`), each
    with label, group, visit, x = VISIT_X[visit] + ARM_OFFSET[group]."""
    from mbpm.stats import describe
    from mbpm.findings.format import short_label

    sub = long.loc[long["outcome"].isin(outcome_ids) & long["group"].isin(list(ARM_OFFSET))]
    means = describe(sub).rename(columns={"mean_ci_low": "low", "mean_ci_high": "high"})
    data = pd.concat([
        sub.assign(kind="participant")[["kind", "participant_id", "outcome", "group", "visit",
                                        "value"]],
        means.assign(kind="mean", value=means["mean"])[["kind", "outcome", "group", "visit",
                                                        "value", "low", "high", "n"]],
    ], ignore_index=True)
    data["label"] = data["outcome"].map(lambda o: short_label(catalogue.at[o, "label"]))
    order = {o: i for i, o in enumerate(outcome_ids)}
    data = data.sort_values("outcome", key=lambda s: s.map(order), kind="stable")
    data["x"] = data["visit"].map(VISIT_X) + data["group"].map(ARM_OFFSET)
    return data


def trajectory_layers(data: Any, x: alt.X, y: alt.Y, colour: alt.Color, *, mean_kind: str,
                      value_format: str, people_points: bool = False) -> alt.LayerChart:
    """Baseline-to-week-8 layers shared by the trajectory charts: each participant's line
    (faint; rows with ``kind == "participant"``) and, from rows with ``kind == mean_kind``, the
    arm's (geometric) mean per visit as a bold line and points with its 95 % CI as error bars."""
    people = alt.Chart().transform_filter(alt.datum.kind == "participant")
    means = alt.Chart().transform_filter(alt.datum.kind == mean_kind)
    tooltip = [alt.Tooltip("group:N"), alt.Tooltip("visit:N"), alt.Tooltip("n:Q"),
               alt.Tooltip("value:Q", title=mean_kind, format=value_format),
               alt.Tooltip("low:Q", format=value_format), alt.Tooltip("high:Q", format=value_format)]
    layers = [people.mark_line(strokeWidth=0.8, opacity=0.22).encode(
        x=x, y=y, color=colour, detail="participant_id:N")]
    if people_points:
        layers.append(people.mark_point(size=10, opacity=0.3, filled=True)
                      .encode(x=x, y=y, color=colour))
    layers += [
        means.mark_line(strokeWidth=2.6).encode(x=x, y=y, color=colour),
        means.mark_rule(strokeWidth=2.1).encode(x=x, y="low:Q", y2="high:Q", color=colour),
        means.mark_point(size=50, filled=True, opacity=1, stroke="white", strokeWidth=0.8)
        .encode(x=x, y=y, color=colour, tooltip=tooltip),
    ]
    return alt.layer(*layers, data=data)


def group_means(long: Any, catalogue: Any, outcome_ids: Any = MAIN_PAIN_MOOD,
                columns: int = 4) -> alt.FacetChart:
    """Small multiples, one per outcome: each participant's baseline-to-week-8 line (faint) and the
    arm means with 95 % CIs (points, error bars, bold lines), MBPM and WL side by side."""
    data = group_means_data(long, outcome_ids, catalogue)
    colour = alt.Color("group:N", title="Group",
                       legend=alt.Legend(orient="bottom", symbolOpacity=1, symbolStrokeWidth=2.5),
                       scale=alt.Scale(domain=list(ARM_OFFSET),
                                       range=[GROUP_COLOURS[g] for g in ARM_OFFSET]))
    x = alt.X("x:Q", title=None, scale=alt.Scale(domain=[-0.3, 1.3]),
              axis=alt.Axis(values=list(VISIT_X.values()), grid=False,
                            labelExpr=f"datum.value < 0.5 ? '{_PRE.label.lower()}' : "
                                      f"'{_POST.label.lower()}'"))
    y = alt.Y("value:Q", title="Score", scale=alt.Scale(zero=False))
    layers = trajectory_layers(data, x, y, colour, mean_kind="mean", value_format=".2f")
    layers = layers.properties(width=COLUMN_WIDTH // columns - 70, height=150)
    return (layers.facet(facet=alt.Facet("label:N", title=None, sort=[
                str(v) for v in dict.fromkeys(data["label"])],
                header=alt.Header(labelExpr="split(datum.value, ': ')")), columns=columns)
            # An x axis under each panel: a shared one would also be drawn under the empty
            # places of the last row (two empty panels in issue 14).
            .resolve_scale(y="independent").resolve_axis(x="independent")
            .properties(description=f"Group means with 95 % CI at {_VISITS_TEXT} for the "
                                    f"main pain and mood outcomes, {_T} versus {_CW}, with "
                                    "each participant's change as a faint line"))


# --- Biomarkers and oxytocin-pain ---
# Charts of chapters/biomarkers.md and chapters/oxytocin_pain.md with their data-shaping helpers.

#: The two arms of the course comparison, in the order of the facets.
ARMS = (_TREATED.id, _CONTROL.id)
#: How the two visits are written on the axes.
VISIT_LABELS = {_PRE.id: _PRE.label, _POST.id: _POST.label}
#: The main pain and mood outcomes whose change is plotted against the change in log oxytocin.
INTERPLAY_MAIN = tuple(study_definition.active().outcome_set("interplay_figure"))
#: Name (and colour, black) of the regression line fitted to both arms together.
POOLED = f"{_T} + {_C} pooled"


def trajectory_data(long: Any, analyte: str) -> Any:
    """Rows for :func:`biomarker_trajectories` of one analyte (MBPM and WL only).

    ``kind`` = "participant": one row per participant and visit (``participant_id``, ``group``,
    ``visit``, ``value``); ``kind`` = "geometric mean": per arm and visit the geometric mean
    exp(mean ln x) of everyone measured at that visit with its 95 % CI
    exp(mean ln x +/- t_{n-1} SD(ln x) / sqrt(n)) in ``low``/``high`` and ``n``, from
    :func:`mbpm.stats.describe`. ``visit`` is written as in :data:`VISIT_LABELS`.
    """
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


def biomarker_trajectories(long: Any, analyte: str, *, panel_width: int = 260,
                           panel_height: int = 240, compact: bool = False) -> alt.FacetChart:
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
    layers = trajectory_layers(data, x, y, colour, mean_kind="geometric mean",
                               value_format=".3g", people_points=True)
    layers = layers.properties(width=panel_width, height=panel_height)
    chart = layers.facet(column=alt.Column("group:N", title=None, sort=list(ARMS),
                                           header=alt.Header(labelFontWeight="bold")))
    if compact:
        chart = chart.properties(title=f"{name})")
    return chart.properties(
        spacing=8,
        description=f"{ANALYTE_LABELS[analyte]} at {_VISITS_TEXT} for each participant, "
                    f"{_T} and {_CW} side by side, with the geometric mean and 95 % CI of "
                    "each arm, on a log scale")


def biomarker_panels(long: Any, analytes: Any, *, columns: int = 2, panel_width: int = 115,
                     panel_height: int = 140) -> Spec:
    """Small multiples of compact :func:`biomarker_trajectories`, ``columns`` analytes per row,
    each with its own log axis (:func:`concat`)."""
    from mbpm.assays import ANALYTE_LABELS

    blocks = [biomarker_trajectories(long, a, panel_width=panel_width, panel_height=panel_height,
                                     compact=True)
              for a in analytes]
    rows = [concat("hconcat", blocks[i:i + columns], spacing=14)
            for i in range(0, len(blocks), columns)]
    names = ", ".join(ANALYTE_LABELS[a] for a in analytes)
    return concat("vconcat", rows, spacing=12).properties(
        description=f"{names} at {_VISITS_TEXT} for each participant, {_T} and {_CW} "
                    "side by side, with the geometric mean and 95 % CI of each arm, log scales")


def interplay_data(long: Any, catalogue: Any, outcome_ids: Any = INTERPLAY_MAIN,
                   x_outcome: str = _DEFINITION.outcome_set("interplay_marker")) -> Any:
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
                      columns: int = 3, panel_width: int = 160,
                      panel_height: int = 150) -> alt.FacetChart:
    """Change in each outcome (y, week 8 - baseline, "Change in score") against the change in log
    oxytocin (x, ln(week 8 / baseline), "Δ ln oxytocin"), one panel per outcome, points coloured by arm, with two ordinary
    least-squares lines (Vega-Lite's linear regression transform): MBPM alone and both arms
    pooled (:data:`POOLED`), over the range of the data they fit."""
    data = interplay_data(long, catalogue, outcome_ids)
    domain = [*ARMS, POOLED]
    colour = alt.Color("series:N", title=None, scale=alt.Scale(
        domain=domain, range=[*(GROUP_COLOURS[a] for a in ARMS), PALETTE[7]]),
        legend=alt.Legend(orient="bottom", direction="horizontal", symbolOpacity=1))
    x = alt.X("x:Q", title=f"Δ ln {_MARKER_WORD}")
    y = alt.Y("y:Q", title="Change in score", scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("participant_id:N"), alt.Tooltip("group:N"),
               alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".2f")]
    base = alt.Chart()
    layers = alt.layer(
        alt.Chart().mark_rule(color="#999999", strokeDash=[3, 3]).encode(x=alt.datum(0)),
        base.mark_point(size=22, filled=True, opacity=0.75).encode(
            x=x, y=y, color=colour, tooltip=tooltip),
        base.transform_regression("x", "y", groupby=["series"], method="linear")
        .transform_filter(alt.datum.series == _TREATED.id)
        .mark_line(strokeWidth=2).encode(x=x, y=y, color=colour),
        base.transform_regression("x", "y", method="linear")
        .transform_calculate(series=f"'{POOLED}'")
        .mark_line(strokeWidth=1.6, strokeDash=[6, 3]).encode(x=x, y=y, color=colour),
        data=data,
    ).properties(width=panel_width, height=panel_height)
    order = list(dict.fromkeys(data["label"]))
    return (layers.facet(facet=alt.Facet("label:N", title=None, sort=order, header=alt.Header(
                labelExpr="split(datum.value, ': ')")), columns=columns)
            .resolve_scale(y="independent").resolve_axis(x="independent")
            .properties(spacing=10, description=(
                "Scatter plots of the change in each main pain and mood outcome against the "
                f"change in log salivary {_MARKER_WORD}, coloured by arm, with least-squares lines for "
                f"{_T} and for both arms pooled")))

# --- Robustness and design analysis ---

def specification_chart(specs: Any, columns: int = 2, width: int = 110) -> alt.FacetChart:
    """Specification curves: one panel per headline result, one row per analysis choice.

    ``specs`` is :func:`mbpm.robustness.specifications` (or a subset of its rows). Each row shows
    the standardized estimate (difference in change MBPM - WL in baseline SDs of the analysis
    scale) with its 95 % CI where the test gives one; coloured points have p below
    :data:`mbpm.claims.ALPHA`, the primary
    specification is drawn as a larger diamond. Panels share the specification axis.
    """
    from mbpm.claims import ALPHA

    below, above = f"p < {ALPHA:g}", f"p ≥ {ALPHA:g}"
    data = specs.assign(significance=specs["p"].lt(ALPHA).map({True: below, False: above}),
                        kind=specs["primary"].map({True: "primary", False: "alternative"}))
    y = alt.Y("spec:N", title=None, sort=None, axis=alt.Axis(labelLimit=240))
    x_title = f"{_T} − {_C} (SD)"
    x = alt.X("estimate_std:Q", title=x_title)
    colour = alt.Color("significance:N", title=None,
                       scale=alt.Scale(domain=[below, above],
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
    return (alt.layer(*layers, data=data).properties(width=width, height=alt.Step(MIN_FONT + 4))
            .facet(facet=alt.Facet("label:N", title=None, sort=list(dict.fromkeys(data["label"]))),
                   columns=columns)
            .resolve_scale(x="independent")
            .configure_legend(orient="bottom", direction="horizontal", columns=4)
            .configure_facet(spacing=12)
            .properties(description="Specification curves: each headline result's standardized "
                                    "estimate under every analysis choice"))


def power_chart(table: Any) -> alt.Chart:
    """Proportion of simulated trials reproducing each claim against patients per arm, with
    +-1.96 Monte Carlo standard errors and a dashed line at the target power
    (:data:`mbpm.design.POWER`). ``table`` is :func:`mbpm.design.power_table` restricted to the
    claims (``is_claim``)."""
    from mbpm.design import POWER

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
        alt.Chart(data).mark_rule(color="#777777", strokeDash=[4, 3]).encode(y=alt.datum(POWER)),
        base.mark_line(point=True).encode(
            y=y, tooltip=[alt.Tooltip("label:N", title="Claim"), alt.Tooltip("n_per_arm:Q"),
                          alt.Tooltip("proportion:Q", format=".1%"),
                          alt.Tooltip("mc_se:Q", format=".1%", title="MC SE"),
                          alt.Tooltip("trials:Q")]),
        base.mark_errorbar().encode(y=alt.Y("low:Q", title=y_title), y2="high:Q"))
        .properties(width=COLUMN_WIDTH - 120, height=300,
                    description="Proportion of simulated trials reproducing each claim by "
                                "patients per arm"))
