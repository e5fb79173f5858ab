"""The trial report a clinical reviewer reads first: the structured summary's numbers, the
CONSORT flow diagram, the CONSORT 2025 checklist and the estimands and statistical analysis plan.

Everything here is computed from a data folder (:class:`mbpm.io.Study`), the results of the plan
(:func:`mbpm.analysis.run`) and the study definition (:mod:`mbpm.study`); the chapters
``summary``, ``consort`` and ``estimands`` only glue what these functions return.

* :func:`summary_findings`: the numbers of the structured summary (primary estimate with its CI
  and test report, the key secondary results, what the design can detect).
* :func:`flow_boxes` and :class:`ConsortFigure`: the CONSORT 2025 flow diagram, drawn as one
  SVG (inline in the website, converted to a vector PDF for LaTeX by vl-convert).
* :func:`checklist`: the CONSORT 2025 checklist (``consort2025.yml``) with the computed values.
* :func:`estimands` and :func:`analysis_plan`: ICH E9(R1) estimands per outcome family and a
  statistical analysis plan in the sections of Gamble et al. (JAMA 2017).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mbpm import chart_pdf, claims, outcomes, privacy, tables
from mbpm.analysis import TABLE
from mbpm import study as study_definition
from mbpm.io import Study
from mbpm.findings.format import lower_first, study_words
from mbpm.literal import Markup, visible

# ----------------------------------------------------------------------------------------------
# Structured summary
# ----------------------------------------------------------------------------------------------

ANCOVA = claims.ANCOVA
WELCH = claims.WELCH
SPEARMAN_MBPM = claims.SPEARMAN_MBPM


def _row(frame: pd.DataFrame, outcome: str, key: tuple[str, str]) -> pd.Series:
    """The result row of ``outcome`` in ``frame`` (a table of :class:`mbpm.analysis.Results`,
    e.g. ``results.ancova``) for (analysis, contrast) ``key``."""
    hit = frame.loc[(frame["outcome"] == outcome) & (frame["analysis"] == key[0])
                    & (frame["contrast"] == key[1])]
    if hit.empty:
        raise KeyError(f"no {key[0]} result for {outcome!r}")
    return hit.iloc[0]


def _estimate(row: pd.Series, prefix: str, digits: int = 2) -> dict[str, object]:
    """``<prefix>_estimate``, ``_low``, ``_high`` (the estimate and its CI as numbers),
    ``_ci`` (``"0.93 (95 % CI 0.71 to 1.22)"``), ``_test`` (:func:`mbpm.tables.row_report`),
    ``_p_fdr`` (prose p) and ``_n`` (the analysed n: per arm, ``23/23``, where arms are compared;
    patients/controls at baseline)."""
    est, low, high = float(row["estimate"]), float(row["ci_low"]), float(row["ci_high"])
    ci = (f"{tables.apa_number(est, digits)} (95\u00a0% CI {tables.apa_number(low, digits)} to "
          f"{tables.apa_number(high, digits)})")
    d = study_definition.active()
    treated, control = d.treated.size_key, d.control.size_key
    reference = d.reference.size_key if d.reference is not None else ""
    if treated in row and pd.notna(row.get(treated)):
        n: object = tables.n_per_arm(row, (treated, control))
    elif "n_patients" in row and pd.notna(row.get("n_patients")) and reference in row:
        n = tables.n_per_arm(row, ("n_patients", reference))
    else:
        n = int(row["n"])
    return {f"{prefix}_estimate": est, f"{prefix}_low": low, f"{prefix}_high": high,
            f"{prefix}_ci": ci, f"{prefix}_test": tables.row_report(row),
            f"{prefix}_p_fdr": tables.biomarker_p_text(float(row["p_fdr"])), f"{prefix}_n": n}


def _significance(p_fdr: float, alpha: float) -> str:
    return "reached" if p_fdr < alpha else "did not reach"


def primary_conclusion(row: pd.Series, alpha: float) -> str:
    """The primary comparison in words: inconclusive unless its FDR p is below ``alpha``
    (a non-significant result is not evidence of no effect; Altman & Bland 1995).

    >>> primary_conclusion(pd.Series({"estimate": 1.06, "p_fdr": 0.9, "log_scale": True}), 0.05)
    'is inconclusive: not significant after the false discovery rate adjustment'
    """
    if float(row["p_fdr"]) >= alpha:
        return "is inconclusive: not significant after the false discovery rate adjustment"
    higher = float(row["estimate"]) > (1.0 if bool(row["log_scale"]) else 0.0)
    return f"shows a {'higher' if higher else 'lower'} value under MBPM than on the wait-list"


def summary_findings(study: Study, results: Any, detectable: pd.DataFrame,
                     changed: pd.DataFrame) -> dict[str, object]:
    """Every number of the structured summary, by glue name.

    ``results`` is :func:`mbpm.analysis.run`, ``detectable`` :func:`mbpm.design.detectable_effects`
    and ``changed`` :func:`mbpm.robustness.changed_conclusions`. Keys: the flow (``n_assessed``,
    ``n_patients``, ``n_mbpm``, ``n_wl``, ``n_hc``, ``n_done_mbpm``, ``n_done_wl``); the primary
    ANCOVA (``primary_*`` of :func:`_estimate`, ``primary_label``, ``primary_reached``,
    ``primary_conclusion``); the main
    pain and mood ANCOVAs (``pain_*``, ``mood_*``); distress at baseline (``distress_*``, Welch
    patients - controls); the oxytocin-pain correlation in MBPM (``interplay_*``); the number of
    outcomes and how many ANCOVAs reach FDR significance (``n_outcomes``, ``n_ancova_fdr``);
    the detectable oxytocin ratio (``mde_ratio``, ``mde_sd``, ``power_pct``); the claims ledger
    (``n_claims``, ``n_claims_supported``), the sensitivity analyses that change a
    conclusion (``n_changed``, ``changed_text``), the marker and primary outcome in a sentence
    (``interplay_marker``, ``primary_word``) and the arm and visit words
    (:func:`mbpm.findings.format.study_words`).
    """
    from mbpm import cohort, robustness
    from mbpm.findings import robustness as robustness_findings

    definition = study_definition.active()
    alpha = definition.plan("significance_level")
    label = outcomes.catalogue_frame()["label"]
    primary = definition.plan("primary")["outcome"]
    flow = cohort.consort_counts(study).groupby(["stage", "group"])["count"].sum()
    treated, control = definition.treated.id, definition.control.id
    reference = definition.reference
    out: dict[str, object] = {
        "n_assessed": int(flow["assessed", ""]), "n_patients": int(flow["enrolled", "patients"]),
        "n_mbpm": int(flow["allocated", treated]), "n_wl": int(flow["allocated", control]),
        "n_hc": int(flow["enrolled", reference.id]) if reference is not None else 0,
        "n_done_mbpm": int(flow["analysed", treated]),
        "n_done_wl": int(flow["analysed", control]), "alpha": alpha,
        "primary_label": label[primary], "pain_label": label[claims.MAIN_PAIN],
        "mood_label": label[claims.MAIN_MOOD], "distress_label": label[claims.DISTRESS]}
    prim = _row(results.ancova, primary, ANCOVA)
    out |= _estimate(prim, "primary")
    out["primary_reached"] = _significance(float(prim["p_fdr"]), alpha)
    out["primary_conclusion"] = primary_conclusion(prim, alpha)
    out |= _estimate(_row(results.ancova, claims.MAIN_PAIN, ANCOVA), "pain")
    out |= _estimate(_row(results.ancova, claims.MAIN_MOOD, ANCOVA), "mood")
    out |= _estimate(_row(results.baseline, claims.DISTRESS, WELCH), "distress")
    out |= _estimate(_row(results.correlations, claims.MAIN_PAIN, SPEARMAN_MBPM), "interplay")
    out["n_outcomes"] = len(results.tested)
    out["n_ancova_fdr"] = int((results.ancova["p_fdr"] < alpha).sum())
    mde = detectable.set_index(["test", "outcome"]).loc[
        (robustness_findings.ancova_test_name(definition), label[primary])]
    out |= {"mde_sd": float(mde["mde_sd"]), "mde_ratio": float(mde["mde_natural"]),
            "power_pct": 100 * definition.plan("target_power")}
    found = claims.ledger_findings(claims.ledger(results.table()))
    out |= {"n_claims": found["n_claims"], "n_claims_supported": found["n_claims_supported"]}
    out |= {"n_changed": len(changed), "changed_text": robustness.changed_conclusions_text(changed)}
    marker = definition.outcome_set("interplay_marker")
    return out | {"interplay_marker": lower_first(label[marker]),
                  "primary_word": lower_first(label[primary]), **study_words(definition)}


# ----------------------------------------------------------------------------------------------
# CONSORT flow diagram
# ----------------------------------------------------------------------------------------------

#: Drawing units of the diagram (px on screen, pt in the PDF). It is drawn twice: :data:`WIDE`
#: for a desktop's text column and the PDF's text width, :data:`NARROW` for a 390 px phone (whose
#: text column is about 358 px wide); its text is FONT px in both, never scaled down.
WIDE, NARROW = 480, 356
FONT, LINE, PAD, GAP, BANNER = 12, 15, 6, 18, 18
#: The website shows the narrow drawing below this window width (px).
NARROW_BELOW_PX = 560
#: What the diagram says about an unknown stage (the study definition's vocabulary).
NOT_REPORTED = study_definition.FACT_SOURCES["none"]
NBSP = "\u00a0"


@dataclass(frozen=True)
class Box:
    """One box of the flow diagram: ``key``, the lines of text (the first is its heading)."""

    key: str
    lines: tuple[str, ...]


def _range(values: pd.Series) -> str:
    """``"23"`` or ``"21–23"`` (an en dash) for the smallest and largest of ``values``."""
    lo, hi = int(values.min()), int(values.max())
    return str(lo) if lo == hi else f"{lo}–{hi}"


def _n(count: object) -> str:
    """``"(n = 23)"`` with no-break spaces, so a line never breaks inside it."""
    return f"(n{NBSP}={NBSP}{count})"


def analysed_counts(results: Any, arm: str) -> dict[str, Any]:
    """Who each analysis of one arm uses: ``primary`` (the plan's primary ANCOVA, n),
    ``completers`` (the ANCOVA and mixed ANOVA n over all outcomes, a Series) and ``mixed``
    (participants of the arm with any value of the outcome, the mixed model's n, a Series)."""
    primary = study_definition.active().plan("primary")["outcome"]
    d = study_definition.active()
    column = (d.treated if arm == d.treated.id else d.control).size_key
    anc = results.ancova.set_index("outcome")[column]
    long = results.long.loc[(results.long["group"] == arm) & results.long["value"].notna()]
    mixed = long.groupby("outcome")["participant_id"].nunique()
    return {"primary": int(anc[primary]), "completers": anc, "mixed": mixed}


#: Longest reason shown in a CONSORT box (longer ones end in "…"; the data chapter's flow
#: table shows them whole).
REASON_CHARS = 60


def flow_boxes(counts: pd.DataFrame, results: Any) -> dict[str, Box]:
    """The boxes of the CONSORT 2025 flow diagram from :func:`mbpm.cohort.consort_counts` and
    the results of the plan: assessed, excluded with reasons, allocated, per arm (``MBPM``,
    ``WL``) allocated and received, lost to follow-up with reasons, analysed with the numbers
    excluded from each analysis; and the healthy controls, outside the trial flow. Free text of
    the folder (reasons) is shown as :func:`mbpm.literal.visible` text."""
    def total(stage: str, group: str | None = None) -> int:
        rows = counts[(counts["stage"] == stage) & ((counts["group"] == group) if group else True)]
        return int(rows["count"].sum())

    def reasons(stage: str, group: str | None = None) -> list[str]:
        rows = counts[(counts["stage"] == stage) & ((counts["group"] == group) if group else True)]
        return privacy.reasons(  # PRIVACY GUARD: real data -> free text replaced by its number
            [f"• {visible(r, REASON_CHARS)} {_n(n)}" for r, n in zip(rows["reason"], rows["count"])])

    definition = study_definition.active()
    boxes = {
        "assessed": Box("assessed", (f"Assessed for eligibility {_n(total('assessed'))}",)),
        "excluded": Box("excluded", (f"Excluded {_n(total('excluded'))}",
                                     *reasons("excluded"))),
        "allocated": Box("allocated", (f"Allocated {_n(total('enrolled', 'patients'))}",
                                       f"method of allocation: {NOT_REPORTED}")),
    }
    for arm in (definition.treated, definition.control):
        done = total("analysed", arm.id)
        used = analysed_counts(results, arm.id)
        boxes[f"allocated {arm.id}"] = Box(arm.id, (
            f"Allocated to {arm.label} {_n(total('allocated', arm.id))}",
            "received the allocated intervention: not recorded in the data"))
        boxes[f"lost {arm.id}"] = Box(arm.id, (
            f"Lost to follow-up {_n(total('lost', arm.id))}", *reasons("lost", arm.id),
            f"Completed {definition.post.label.lower()} {_n(done)}"))
        boxes[f"analysed {arm.id}"] = Box(arm.id, (
            f"Analysed, primary outcome {_n(used['primary'])}",
            f"excluded: {done - used['primary']} (a missing sample)",
            f"Completers' analyses {_n(_range(used['completers']))}",
            f"excluded: {_range(done - used['completers'])} (a missing value)",
            f"Mixed model, everyone with data {_n(_range(used['mixed']))}"))
    size = definition.reference.size_key if definition.reference is not None else ""
    hc = results.baseline[size] if size in results.baseline else pd.Series([0])
    if definition.reference is not None:
        boxes["reference"] = Box("reference", (
            f"{definition.reference.label} {_n(total('enrolled', definition.reference.id))}",
            "recruited separately, not allocated; measured once at baseline; "
            f"analysed at baseline {_n(_range(hc))}"))
    return boxes


def _font(bold: bool = False) -> Any:
    """The DejaVu Sans face matplotlib ships (the font of the book's charts), for measuring."""
    import matplotlib
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), FONT)


def wrap(text: str, width: float, bold: bool = False) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` px in DejaVu Sans at
    :data:`FONT` px (a word wider than the line stays whole).

    >>> wrap("Assessed for eligibility (n = 80)", 150)
    ['Assessed for eligibility', '(n = 80)']
    """
    font, lines, line = _font(bold), [], ""
    for word in text.split(" "):
        trial = f"{line} {word}" if line else word
        if line and font.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line]


def _text(x: float, y: float, lines: list[tuple[str, bool]], anchor: str = "start") -> str:
    """An SVG ``<text>`` of ``lines`` (text, bold) from the first baseline at ``y``."""
    weight = {True: ' font-weight="bold"', False: ""}
    spans = "".join(f'<tspan x="{x:g}" y="{y + i * LINE:g}"{weight[bold]}>{html.escape(t)}</tspan>'
                    for i, (t, bold) in enumerate(lines))
    return f'<text text-anchor="{anchor}">{spans}</text>'


def _box_lines(box: Box, width: float) -> list[tuple[str, bool]]:
    """The wrapped lines of a box (text, bold): its heading and the analysed counts in bold;
    a reason's continuation lines indented under its bullet."""
    out: list[tuple[str, bool]] = []
    for i, line in enumerate(box.lines):
        bold = i == 0 or line.startswith(("Completed", "Completers", "Mixed model"))
        bullet = line.startswith("•")
        parts = wrap(line, width - 2 * PAD - (10 if bullet else 0), bold)
        out += [(("\u2002 " if bullet and j else "") + part, bold) for j, part in enumerate(parts)]
    return out


@dataclass
class _Canvas:
    """SVG elements of a diagram ``width`` wide, laid out top to bottom (``y``)."""

    width: float
    parts: list[str]
    y: float = 0.0

    def banner(self, label: str) -> None:
        self.parts.append(f'<rect x="0" y="{self.y:g}" width="{self.width:g}" height="{BANNER}" '
                          'rx="3" fill="#d6e9f8"/>')
        self.parts.append(_text(self.width / 2, self.y + BANNER - 5, [(label, True)], "middle"))
        self.y += BANNER + GAP / 2

    def box(self, x: float, width: float, lines: list[tuple[str, bool]], height: float,
            dashed: bool = False) -> None:
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        self.parts.append(f'<rect x="{x:g}" y="{self.y:g}" width="{width:g}" height="{height:g}" '
                          f'fill="#ffffff" stroke="#333333"{dash}/>')
        self.parts.append(_text(x + PAD, self.y + PAD + FONT - 2, lines))

    def line(self, x1: float, y1: float, x2: float, y2: float, arrow: bool = True) -> None:
        head = f' marker-end="url(#consort-arrow-{self.width:g})"' if arrow else ""
        self.parts.append(f'<line x1="{x1:g}" y1="{y1:g}" x2="{x2:g}" y2="{y2:g}" '
                          f'stroke="#333333"{head}/>')


def _height(lines: list) -> float:
    return 2 * PAD + len(lines) * LINE


def _enrolment(c: _Canvas, boxes: dict[str, Box]) -> None:
    """Assessed, excluded (to the right of the flow line) and allocated, centred."""
    mid, centre_w = c.width / 2, min(260.0, c.width - 40)
    side_x = mid + 20
    c.banner("Enrolment")
    top = _box_lines(boxes["assessed"], centre_w)
    top_y = c.y
    c.box(mid - centre_w / 2, centre_w, top, _height(top))
    c.y += _height(top) + GAP / 2
    excl = _box_lines(boxes["excluded"], c.width - side_x)
    c.box(side_x, c.width - side_x, excl, _height(excl))
    c.line(mid, c.y + _height(excl) / 2, side_x, c.y + _height(excl) / 2)
    c.y += _height(excl) + GAP
    c.line(mid, top_y + _height(top), mid, c.y)
    alloc = _box_lines(boxes["allocated"], centre_w)
    c.box(mid - centre_w / 2, centre_w, alloc, _height(alloc))
    c.y += _height(alloc)


def consort_svg(boxes: dict[str, Box], description: str, width: float = WIDE) -> str:
    """The flow diagram as SVG ``width`` px wide: the four CONSORT stages (enrolment, allocation,
    follow-up, analysis) as banners, the boxes of :func:`flow_boxes` with arrows between them,
    and the healthy controls apart (dashed, outside the flow). Text is wrapped to the boxes
    (:func:`wrap`), never scaled. ``description`` is the text alternative (``<title>``)."""
    c = _Canvas(width, [])
    column = (width - 12) / 2
    _enrolment(c, boxes)
    arms = [k.split(" ", 1)[1] for k in boxes if k.startswith("allocated ")]
    xs = {arm: 0.0 if i == 0 else width - column for i, arm in enumerate(arms)}
    centre = {arm: xs[arm] + column / 2 for arm in arms}
    split = c.y + GAP / 4
    c.line(width / 2, c.y, width / 2, split, arrow=False)
    c.line(centre[arms[0]], split, centre[arms[-1]], split, arrow=False)
    bottom = {arm: split for arm in arms}
    c.y += GAP / 2
    for stage, label in (("allocated", "Allocation"), ("lost", "Follow-up"),
                         ("analysed", "Analysis")):
        c.banner(label)
        wrapped = {arm: _box_lines(boxes[f"{stage} {arm}"], column) for arm in arms}
        height = max(_height(lines) for lines in wrapped.values())
        for arm in arms:
            c.line(centre[arm], bottom[arm], centre[arm], c.y)
            c.box(xs[arm], column, wrapped[arm], height)
            bottom[arm] = c.y + height
        c.y += height + GAP / 2
    if "reference" in boxes:
        c.y += GAP / 2
        ref = _box_lines(boxes["reference"], width)
        c.box(0, width, ref, _height(ref), dashed=True)
        c.y += _height(ref)
    height = int(np.ceil(c.y)) + 1
    marker = (f'<defs><marker id="consort-arrow-{width:g}" viewBox="0 0 10 10" refX="10" '
              'refY="5" markerWidth="7" markerHeight="7" orient="auto">'
              '<path d="M 0 0 L 10 5 L 0 10 z" fill="#333333"/></marker></defs>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height}" '
            f'width="{width:g}" height="{height}" font-family="DejaVu Sans, Verdana, sans-serif" '
            f'font-size="{FONT}" fill="#111111"><title>{html.escape(description)}</title>'
            f'{marker}{"".join(c.parts)}</svg>')


#: Shows the narrow drawing on a narrow window, the wide one otherwise.
_CONSORT_CSS = (f"<style>.mbpm-consort .consort-narrow {{ display: none; }}\n"
                f"@media (max-width: {NARROW_BELOW_PX}px) {{ .mbpm-consort .consort-wide "
                "{ display: none; } .mbpm-consort .consort-narrow { display: block; } }</style>")


class ConsortFigure:
    """The flow diagram for a notebook: inline SVG in the website (drawn :data:`WIDE` on a
    desktop, :data:`NARROW` on a phone, text at :data:`FONT` px in both), the wide drawing for
    the PDF build to convert (:mod:`mbpm.chart_pdf`: vl-convert's ``svg_to_pdf``, the book's
    fonts), and the boxes' text for a terminal."""

    def __init__(self, boxes: dict[str, Box],
                 description: str = "CONSORT flow diagram: enrolment, allocation, follow-up "
                                    "and analysis of each arm") -> None:
        self.boxes, self.description = boxes, description
        self.svg = {w: consort_svg(boxes, description, w) for w in (WIDE, NARROW)}

    def html(self) -> str:
        drawings = "".join(f'<div class="consort-{name}">{self.svg[w]}</div>'
                           for name, w in (("wide", WIDE), ("narrow", NARROW)))
        return (f'{_CONSORT_CSS}<div class="mbpm-consort" role="img" '
                f'aria-label="{html.escape(self.description)}">{drawings}</div>')

    def pdf_source(self) -> str:
        """The wide drawing, for the PDF build to convert (:mod:`mbpm.chart_pdf`)."""
        return chart_pdf.svg_pdf_source(self.svg[WIDE])

    def text(self) -> str:
        return "\n".join(" / ".join(box.lines) for box in self.boxes.values())

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/html": self.html(), chart_pdf.SPEC_MIME: self.pdf_source(),
                "text/plain": self.text()}


def consort_figure(study: Study, results: Any = None) -> ConsortFigure:
    """The CONSORT flow diagram of ``study``: :func:`flow_boxes` of its flow counts and of the
    ``results`` of the plan (default: :func:`mbpm.analysis.run` of ``study``), as a
    :class:`ConsortFigure`."""
    from mbpm import analysis, cohort

    results = analysis.run(study) if results is None else results
    return ConsortFigure(flow_boxes(cohort.consort_counts(study), results))


# ----------------------------------------------------------------------------------------------
# CONSORT 2025 checklist
# ----------------------------------------------------------------------------------------------

CHECKLIST_FILE = Path(__file__).resolve().parent / "consort2025.yml"
#: The status of an item's answer (``status`` in consort2025.yml) and how the book words it.
STATUSES = {"computed": "computed from the data", "stated": "stated from a public source",
            "not available": "not available"}
#: Items of CONSORT 2025 (numbered 1 to 30; some have sub-items a, b, ...).
N_ITEMS = 30
_LABEL = r"[a-z0-9][a-z0-9_-]*"


class ChecklistError(ValueError):
    """consort2025.yml breaks its format; the message names the item and the key."""


@dataclass(frozen=True)
class ChecklistItem:
    """One item or sub-item of the checklist and the book's answer (see consort2025.yml)."""

    id: str
    section: str
    topic: str
    item: str
    status: str
    answer: str
    where: tuple[str, ...]
    source: str | None = None
    value: str | None = None

    @property
    def number(self) -> int:
        """The item's number: ``"21c"`` -> 21."""
        return int(self.id.rstrip("abcdefgh"))


def _checked_item(entry: Any, section: str, where: str) -> ChecklistItem:
    """One entry of consort2025.yml as a :class:`ChecklistItem`, or :class:`ChecklistError`."""
    import re

    if not isinstance(entry, dict) or not re.fullmatch(r"[0-9]+[a-h]?", str(entry.get("id"))):
        raise ChecklistError(f"{where}: an item without a valid id ({entry!r:.60})")
    at = f"{where}, item {entry['id']}"
    for key in ("topic", "item", "answer"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise ChecklistError(f"{at}: missing text {key!r}")
    if entry.get("status") not in STATUSES:
        raise ChecklistError(f"{at}: status must be one of {', '.join(STATUSES)}, got "
                             f"{entry.get('status')!r}")
    if entry["status"] == "stated" and entry.get("source") not in study_definition.FACT_SOURCES:
        raise ChecklistError(f"{at}: a stated answer needs a source of "
                             f"{', '.join(study_definition.FACT_SOURCES)}")
    labels = entry.get("where")
    if not labels or not all(isinstance(x, str) and re.fullmatch(_LABEL, x) for x in labels):
        raise ChecklistError(f"{at}: 'where' must list the book's labels that answer it")
    return ChecklistItem(str(entry["id"]), section, entry["topic"], entry["item"],
                         entry["status"], entry["answer"], tuple(labels), entry.get("source"),
                         entry.get("value"))


def load_checklist(path: str | Path = CHECKLIST_FILE) -> tuple[ChecklistItem, ...]:
    """Read and check consort2025.yml: every entry has an id, a topic, the item in words, an
    answer, a status of :data:`STATUSES` (a ``stated`` one with its source), and at least one
    label; ids are unique and the items run from 1 to :data:`N_ITEMS`.

    >>> items = load_checklist()
    >>> len({i.number for i in items}), items[0].id, items[-1].id
    (30, '1a', '30')
    """
    path = Path(path)
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    sections = doc.get("sections") if isinstance(doc, dict) else None
    if not isinstance(sections, dict):
        raise ChecklistError(f"{path.name}: expected a mapping 'sections'")
    items = tuple(_checked_item(e, section, path.name)
                  for section, entries in sections.items() for e in entries or [])
    ids = [i.id for i in items]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ChecklistError(f"{path.name}: item {twice[0]} appears twice")
    missing = sorted(set(range(1, N_ITEMS + 1)) - {i.number for i in items})
    if missing or len({i.number for i in items}) != N_ITEMS:
        raise ChecklistError(f"{path.name}: items {missing} are missing (CONSORT 2025 has "
                             f"{N_ITEMS})")
    return items


def status_counts(items: tuple[ChecklistItem, ...]) -> dict[str, int]:
    """Number of entries (items and sub-items) per status, in the order of :data:`STATUSES`."""
    return {status: sum(i.status == status for i in items) for status in STATUSES}


def checklist_values(study: Study, results: Any, detectable: pd.DataFrame,
                     specs: pd.DataFrame) -> dict[str, str]:
    """The computed value each checklist entry may show (``value`` in consort2025.yml), as text:
    ``primary_result``, ``claims``, ``allocation``, ``eligibility``, ``outcomes``,
    ``detectable``, ``analysed``, ``missing``, ``flow``, ``losses``, ``baseline_data``,
    ``sensitivity``. ``detectable`` is :func:`mbpm.design.detectable_effects`, ``specs``
    :func:`mbpm.robustness.specifications`."""
    from mbpm import cohort, io, robustness

    definition = study_definition.active()
    f = summary_findings(study, results, detectable, robustness.changed_conclusions(specs))
    counts = cohort.consort_counts(study)
    rules = {c.name: c for c in io.SCHEMA["participants.csv"]}
    miss = cohort.missingness(study)
    markers = study.biomarkers
    arms = (definition.treated, definition.control)
    used = {arm.id: analysed_counts(results, arm.id) for arm in arms}
    losses = "; ".join(
        f"{arm.label}: " + tables.english_list(
            privacy.reasons(  # PRIVACY GUARD: real data -> free text replaced by its number
                [f"{visible(r.reason, REASON_CHARS)} {r.count}" for r in counts.loc[
                    (counts["stage"] == "lost") & (counts["group"] == arm.id)].itertuples()]))
        for arm in arms)
    agree = robustness.agreement(specs)
    return {
        "primary_result": f"{f['primary_label']}: ratio {f['primary_ci']}, {f['primary_test']}, "
                          f"n{tables.NBSP}={tables.NBSP}{f['primary_n']}",
        "claims": f"{f['n_claims_supported']} of {f['n_claims']} claims supported in every part",
        "allocation": f"{f['n_mbpm']}:{f['n_wl']} ({arms[0].label}:{arms[1].label})",
        "eligibility": f"ages {int(rules['age'].minimum)} to {int(rules['age'].maximum)}; pain "
                       f"for at least {rules['pain_years'].minimum:.2f} years",
        "outcomes": f"{f['n_outcomes']} outcomes in {len(definition.families)} families; "
                    f"primary: {f['primary_label']} (ANCOVA)",
        "detectable": f"{f['primary_label']} ratio {f['mde_ratio']:.2f} ({f['mde_sd']:.2f} "
                      f"baseline SD) at {f['power_pct']:.0f} % power",
        "analysed": "; ".join(f"{arm.label}: primary {used[arm.id]['primary']}, completers "
                              f"{_range(used[arm.id]['completers'])}, mixed model "
                              f"{_range(used[arm.id]['mixed'])}" for arm in arms),
        "missing": f"{int(miss['missing'].sum())} of {int((miss['rows'] * miss['items']).sum())} "
                   f"questionnaire items unanswered; {int((markers['flag'] == 'below_lloq').sum())}"
                   f" of {len(markers)} samples below the LLOQ",
        "flow": f"allocated {f['n_mbpm']}/{f['n_wl']}, completed "
                f"{definition.post.label.lower()} "
                f"{f['n_done_mbpm']}/{f['n_done_wl']}, analysed for the primary outcome "
                f"{f['primary_n']}",
        "losses": losses,
        "baseline_data": f"{f['n_patients']} patients ({f['n_mbpm']}/{f['n_wl']}), {f['n_hc']} "
                         f"{_reference_words(definition)}",
        "sensitivity": f"{int(agree['specs'].sum())} specifications of {len(agree)} headline "
                       f"results; {f['n_changed']} change a conclusion",
    }


def _reference_words(definition: study_definition.Definition) -> str:
    """The reference group in a sentence (``"healthy controls"``), or ``"reference group"``."""
    ref = definition.reference
    return lower_first(ref.label) if ref is not None else "reference group"


def reference(label: str) -> str:
    """A MyST cross-reference to a label: ``{numref}`` for figures and tables, else ``{ref}``."""
    role = "numref" if label.startswith(("fig-", "tbl-")) else "ref"
    return f"{{{role}}}`{label}`"


def checklist_table(items: tuple[ChecklistItem, ...], values: dict[str, str]) -> pd.DataFrame:
    """The checklist for the appendix, three columns that stay readable on a phone: Item (its
    number), the topic in bold with what the item asks in italics, the book's answer, the
    computed value and where the book answers it (cross-references; :class:`~mbpm.literal.Markup` with every
    text escaped by :func:`mbpm.literal.myst`) and Status (:data:`STATUSES`, with the source of a
    stated answer). Raises KeyError for a ``value`` :func:`checklist_values` does not compute."""
    from mbpm.literal import myst

    rows = []
    for i in items:
        value = f" Here: {myst(values[i.value])}." if i.value else ""
        where = ", ".join(reference(label) for label in i.where)
        source = f" ({study_definition.FACT_SOURCES[i.source]})" if i.status == "stated" else ""
        rows.append({"Item": i.id,
                     "Topic, what it asks, and the book's answer": Markup(
                         f"**{myst(i.topic)}.** *{myst(i.item)}* {myst(i.answer)}{value} "
                         f"See {where}."),
                     "Status": STATUSES[i.status] + source})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------------------------
# Estimands (ICH E9(R1)) and the statistical analysis plan (Gamble et al. 2017)
# ----------------------------------------------------------------------------------------------

def _source(key: str) -> str:
    return study_definition.FACT_SOURCES[key]


def _fact(definition: study_definition.Definition, topic: str) -> tuple[str, str]:
    """The statement and source text of the trial fact on ``topic`` (study.yml ``trial_facts``);
    a topic the definition states no fact on is marked so, with source ``none``."""
    for fact_topic, statement, source in definition.trial_facts:
        if fact_topic == topic:
            return statement, _source(source)
    return "Not stated in the study definition.", _source("none")


def estimands(definition: study_definition.Definition | None = None) -> pd.DataFrame:
    """One ICH E9(R1) estimand per outcome family of the study definition: Family, Treatments,
    Population, Variable, Intercurrent events and strategy, Population-level summary, Source.

    The population and arms come from the definition's arms, the variable from the family's
    outcomes at the post visit (biomarkers on the natural log), the summary from the plan's
    primary analysis (ANCOVA adjusted for the pre visit): a ratio of geometric means for the
    log outcomes, a difference in means otherwise. The trial records no intercurrent event
    (attendance, other treatment), so the strategy is the book's: treatment policy, with values
    missing after loss to follow-up handled as missing data, not as intercurrent events.
    """
    definition = definition or study_definition.active()
    catalogue = outcomes.catalogue_frame()
    treated, control, pre, post = (definition.treated, definition.control, definition.pre,
                                   definition.post)
    rows = []
    for family in definition.family_order:
        members = catalogue.loc[catalogue["family"] == family]
        log = bool(members["log"].all())
        variable = (f"{'natural log of ' if log else ''}the {post.label.lower()} value of "
                    f"{tables.english_list(list(members['label']))}")
        summary = ("ratio of geometric means" if log else "difference in means") + (
            f", {treated.label} over {control.label.lower()}" if log else
            f", {treated.label} minus {control.label.lower()}") + (
            f", at {post.label.lower()} adjusted for {pre.label.lower()} (ANCOVA), with its "
            f"{100 * definition.plan('confidence_level'):.0f} % CI; Benjamini-Hochberg within "
            "the family")
        rows.append({
            "Family": family,
            "Treatments": f"{treated.label} against {control.label.lower()}, over the "
                          f"{post.week - pre.week:g} weeks from {pre.label.lower()} to "
                          f"{post.label.lower()}",
            "Population": f"Chronic pain patients allocated to {treated.label} or "
                          f"{control.label.lower()} (each in the arm of allocation)",
            "Variable": variable,
            "Intercurrent events and strategy": (
                "Not attending the course, or starting other treatment, is not recorded: "
                "treatment policy (the value whatever happened after allocation). Loss to "
                "follow-up is missing data: completers in the primary analysis, the mixed "
                "model on everyone with data (missing at random) beside it"),
            "Population-level summary": summary,
            "Source": f"population: {_source('abstract')}; the rest: {_source('book')}"})
    return pd.DataFrame(rows)


#: The analyses of the book: the tables of :class:`mbpm.analysis.Results` (the plan), then the
#: two the book added beyond it. (name, what it answers, origin).
ANALYSES = {
    TABLE.baseline: ("Welch t-test and Mann-Whitney U, patients vs controls at baseline",
                 "claim 1", "plan"),
    "ancova": ("ANCOVA of the follow-up value on arm, adjusted for baseline (completers)",
               "primary (oxytocin) and secondary outcomes", "plan"),
    "mixed_anova": ("Mixed ANOVA, arm × time interaction (completers)", "secondary", "plan"),
    "within": ("Paired t-test and Wilcoxon signed-rank within each arm", "secondary", "plan"),
    "mixed_model": ("Linear mixed model, REML with Satterthwaite df (everyone with data)",
                    "secondary; missing at random", "plan"),
    "nonparametric": ("Mann-Whitney U on change scores", "sensitivity to normality", "plan"),
    "correlations": ("Spearman correlation of change in oxytocin with change in pain and mood",
                     "claim 5", "plan"),
    "specifications": ("Specification curves over test, scale, values below the LLOQ and sample",
                       "robustness of the headline results", "added"),
    "design": ("Design analysis: detectable effects and simulated reproduction of the claims",
               "what a trial of this size can detect", "added"),
}
ORIGINS = {"plan": "pre-specified in the book's plan", "added": "added by this book"}
WHERE = {TABLE.baseline: "baseline-chapter", "ancova": "biomarkers-oxytocin",
         "mixed_anova": "psychological",
         "within": "biomarkers", "mixed_model": "biomarkers", "nonparametric": "robustness",
         "correlations": "oxytocin_pain", "specifications": "robustness", "design": "tbl-mde"}


def analysis_register() -> pd.DataFrame:
    """Every analysis of the book with what it answers, whether it is pre-specified or added,
    and where it is reported (Markup cross-references). The trial's own plan is not public, so
    whether the paper pre-specified any of them is not known."""
    from mbpm.literal import myst

    return pd.DataFrame([{"Analysis": Markup(f"{myst(name)} ({reference(WHERE[key])})"),
                          "Answers": answers, "Origin": ORIGINS[origin]}
                         for key, (name, answers, origin) in ANALYSES.items()])


def analysis_plan(definition: study_definition.Definition | None = None) -> pd.DataFrame:
    """The statistical analysis plan in the six sections of Gamble et al. (JAMA 2017):
    Section, Item, The plan, Source (:data:`mbpm.study.FACT_SOURCES`). Trial facts come from
    study.yml ``trial_facts``, the plan's choices from its ``plan``, the rest from the
    definition's arms, visits and families; what no source says is marked so."""
    d = definition or study_definition.active()
    alpha, conf = d.plan("significance_level"), d.plan("confidence_level")
    primary = d.plan("primary")
    label = outcomes.catalogue_frame()["label"]
    book, none = _source("book"), _source("none")
    visits = tables.english_list([v.label.lower() + ("" if "week" in v.label.lower() else
                                                     f" (week {v.week:g})") for v in d.visits])
    below = {"half_lloq": "half the LLOQ", "lloq": "the LLOQ", "missing": "missing"}
    rows = [
        ("Administrative information", "Title and citation", f"{d.title}; {d.citation}",
         _source("title")),
        ("Administrative information", "Trial registration", *_fact(d, "Registration")),
        ("Administrative information", "Protocol and plan versions",
         "The trial's protocol and plan are not in the available sources; this plan is the "
         "book's, kept in its study definition (mbpm/study.yml) under version control.", book),
        ("Introduction", "Background and objectives", "The abstract's claims: " +
         tables.english_list([f"{k}. {v}" for k, v in claims.CLAIMS.items()]), _source("abstract")),
        ("Study methods", "Design", *_fact(d, "Design")),
        ("Study methods", "Allocation", *_fact(d, "Allocation, sequence and concealment")),
        ("Study methods", "Sample size", *_fact(d, "Sample size")),
        ("Study methods", "Framework", f"Superiority, two-sided tests at α = {alpha:g}; no "
         "equivalence margin, so no claim of no difference is tested.", book),
        ("Study methods", "Interim analyses and stopping", "None reported.", none),
        ("Study methods", "Timing of outcome assessments", f"At {visits}.", _source("abstract")),
        ("Statistical principles", "Confidence intervals and p-values",
         f"{100 * conf:.0f} % CIs; two-sided p; α = {alpha:g}.", book),
        ("Statistical principles", "Multiplicity", f"{_sentence(d.plan('fdr'))}, over the "
         f"{len(d.families)} families of {tables.english_list(list(d.family_order))}.", book),
        ("Statistical principles", "Adherence and protocol deviations",
         "Not recorded in the available sources or the data.", none),
        ("Statistical principles", "Analysis populations", "Completers (both visits) for the "
         "ANCOVA, mixed ANOVA and paired tests; everyone with data for the mixed model; each in "
         "the arm of allocation.", book),
        ("Trial population", "Eligibility and flow", f"Chronic pain patients, the "
         f"{_reference_words(d)} apart; screening, allocation, losses and the analysed n in the "
         "CONSORT flow diagram.", _source("abstract")),
        ("Trial population", "Baseline characteristics",
         f"Per arm and for the {_reference_words(d)}.", book),
        ("Analysis", "Outcome definitions", f"The outcomes of the {len(d.families)} families, "
         "each with its estimand (above).", book),
        ("Analysis", "Primary analysis", f"{primary['analysis']} of log "
         f"{label[primary['outcome']].lower()} at {post_label(d)} on arm, adjusted for log "
         f"{d.pre.label.lower()}.", book),
        ("Analysis", "Missing data", "Questionnaire items by each instrument's rule; samples "
         f"below the LLOQ as {below[d.plan('below_lloq')]}; completers' analyses with the mixed "
         "model (missing at random) beside them.", book),
        ("Analysis", "Additional analyses", "Specification curves and the design analysis, "
         "added by this book beyond its plan.", book),
        ("Analysis", "Harms", "Not reported in the available sources; no harms data.", none),
        ("Analysis", "Software", "Python with pandas, SciPy, statsmodels and pingouin; versions "
         "in the provenance chapter.", book),
    ]
    return pd.DataFrame(rows, columns=["Section", "Item", "The plan", "Source"])


def _sentence(text: str) -> str:
    """``text`` with its first letter in upper case (the rest unchanged)."""
    return text[:1].upper() + text[1:]


def post_label(definition: study_definition.Definition) -> str:
    """The post visit in words, lower case (``"week 8"``)."""
    return definition.post.label.lower()


def plan_markdown(plan: pd.DataFrame) -> Any:
    """:func:`analysis_plan` as MyST: each section numbered and in bold, one bullet per item
    with its source (literal text, :func:`mbpm.literal.myst`)."""
    from IPython.display import Markdown

    from mbpm.literal import myst

    blocks = []
    for number, (section, rows) in enumerate(plan.groupby("Section", sort=False), start=1):
        bullets = [f"- *{myst(r['Item'])}*: {myst(r['The plan'])} (source: {myst(r['Source'])})"
                   for r in rows.to_dict("records")]
        blocks.append(f"**{number}. {myst(section)}**\n\n" + "\n".join(bullets))
    return Markdown("\n\n".join(blocks))


def estimands_markdown(frame: pd.DataFrame) -> Any:
    """:func:`estimands` as MyST: per family its name in bold and one bullet per attribute
    (literal text, :func:`mbpm.literal.myst`)."""
    from IPython.display import Markdown

    from mbpm.literal import myst

    blocks = []
    for row in frame.to_dict("records"):
        bullets = [f"- *{myst(k)}*: {myst(v)}" for k, v in row.items() if k != "Family"]
        blocks.append(f"**{myst(_sentence(row['Family']))}**\n\n" + "\n".join(bullets))
    return Markdown("\n\n".join(blocks))
