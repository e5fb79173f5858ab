"""Tables the data chapter shows: simulation parameters, CONSORT counts, sample flow, missingness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from mbpm.instruments.items import ITEM_SETS
from mbpm.io import Study
from mbpm.stats import ARMS, REFERENCE
from mbpm.study import active


def _compact(value: Any) -> str:
    """A parameter value as short text: ``key = value`` pairs for mappings (nested ones in
    parentheses), JSON for lists, scalars as they are."""
    if isinstance(value, dict):
        return "; ".join(f"{k} = ({_compact(v)})" if isinstance(v, dict) else f"{k} = {_compact(v)}"
                         for k, v in value.items())
    if isinstance(value, str | int | float) or value is None:
        return str(value)
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _rows(node: Any, prefix: str) -> list[dict[str, str]]:
    """Flatten simulation.yml: one row per parameter; a mapping of sub-parameters (e.g. the item
    blocks) gets one row per entry, the reason and source on its first row."""
    if isinstance(node, dict) and "value" in node and "reason" in node:
        value = node["value"]
        entries = value.items() if isinstance(value, dict) and all(
            isinstance(v, dict) for v in value.values()) else [("", value)]
        return [{"parameter": f"{prefix}.{key}" if key else prefix, "value": _compact(v),
                 "reason": node["reason"] if i == 0 else "",
                 "source": node.get("source", "") if i == 0 else ""}
                for i, (key, v) in enumerate(entries)]
    if isinstance(node, dict):
        return [r for k, v in node.items() for r in _rows(v, f"{prefix}.{k}" if prefix else k)]
    return [{"parameter": prefix, "value": str(node), "reason": "", "source": ""}]


def simulation_table(path: str | Path | None = None) -> pd.DataFrame:
    """Every parameter of simulation.yml (``path``, default the data folder's own, else the
    shipped one: :func:`mbpm.design.folder_params`): parameter (dotted name), value, reason,
    source."""
    if path is None:
        from mbpm.design import folder_params

        doc = yaml.safe_load(folder_params().text)
    else:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return pd.DataFrame(_rows(doc, ""), columns=["parameter", "value", "reason", "source"])


def consort_counts(study: Study) -> pd.DataFrame:
    """CONSORT flow: stage, group, reason, count.

    assessed; excluded (per reason); enrolled (patients = assessed - excluded); allocated (per
    arm); lost (per arm and withdrawal reason); analysed (per arm: completed week 8); and the
    healthy controls enrolled outside the screening flow.
    """
    s, p = study.screening, study.participants
    rows: list[tuple[str, str, str, int]] = []
    rows.append(("assessed", "", "", int(s.loc[s["stage"] == "assessed", "count"].sum())))
    for reason, count in s.loc[s["stage"] == "excluded", ["reason", "count"]].itertuples(index=False):
        rows.append(("excluded", "", reason, int(count)))
    patients = p[p["group"] != REFERENCE]
    rows.append(("enrolled", "patients", "", len(patients)))
    for arm in ARMS:
        in_arm = patients[patients["group"] == arm]
        rows.append(("allocated", arm, "", len(in_arm)))
        lost = in_arm[in_arm["completed_week8"] == "no"]
        reasons = lost["withdrawal_reason"].fillna("not recorded").value_counts().sort_index()
        rows += [("lost", arm, reason, int(n)) for reason, n in reasons.items()]
        done = int((in_arm["completed_week8"] == "yes").sum())
        rows.append(("analysed", arm, f"completed {active().post.label.lower()}", done))
    reference = active().reference
    if reference is not None:
        rows.append(("enrolled", reference.id, f"{reference.label.lower()} (not screened for the "
                     "trial)", int((p["group"] == reference.id).sum())))
    return pd.DataFrame(rows, columns=["stage", "group", "reason", "count"])


def sample_flow(study: Study) -> pd.DataFrame:
    """Flow of the saliva samples per analyte, from the layout to the reported results.

    Columns: ``analyte``; ``in layout`` (distinct participant and visit with sample wells);
    ``failed plates`` (samples left out because every plate they were on has no usable standard
    curve, :data:`mbpm.io.PLATE_FAILURE_POLICIES`); ``re-assayed`` (on more than one usable
    plate, combined by :func:`mbpm.assays.combine_runs`); ``runs contradict`` (re-assayed, left
    out); ``reported``. ``in layout - failed plates - runs contradict = reported``.
    """
    from mbpm.assays import ANALYTES

    lay = study.layout[study.layout["role"] == "sample"]
    failed = set(study.assay.plates.loc[study.assay.plates["failure"] != "", "plate_id"])
    keys = ["analyte", "participant_id", "visit"]
    runs = lay[keys + ["plate_id"]].drop_duplicates()
    usable = runs.assign(usable=~runs["plate_id"].isin(failed)).groupby(keys)["usable"].any()
    notes = study.reassayed if len(study.reassayed) else pd.DataFrame(columns=[*keys, "outcome"])
    rows = []
    for analyte in ANALYTES:
        ok = usable[usable.index.get_level_values("analyte") == analyte]
        mine = notes[notes["analyte"] == analyte]
        contradict = int((mine["outcome"] == "dropped: runs contradict").sum())
        rows.append({"analyte": analyte, "in layout": len(ok), "failed plates": int((~ok).sum()),
                     "re-assayed": len(mine) - contradict, "runs contradict": contradict,
                     "reported": int((study.biomarkers["analyte"] == analyte).sum())})
    return pd.DataFrame(rows)


def missingness(study: Study) -> pd.DataFrame:
    """Unanswered items by instrument and visit: instrument, visit, rows, items, missing, percent."""
    q = study.questionnaires
    out = []
    for instrument in dict.fromkeys(s.instrument for s in ITEM_SETS):
        cols = [c for s in ITEM_SETS if s.instrument == instrument and not s.optional for c in s.columns]
        for visit, block in q.groupby("visit", sort=True):
            cells = block[cols].size
            missing = int(block[cols].isna().to_numpy().sum())
            out.append((instrument, visit, len(block), len(cols), missing, 100.0 * missing / cells))
    return pd.DataFrame(out, columns=["instrument", "visit", "rows", "items", "missing", "percent"])


def validation_table(study: Study) -> pd.DataFrame:
    """The validation report as a table: severity, file, message, count."""
    return study.report.as_frame()


def codebook_compact() -> pd.DataFrame:
    """:func:`mbpm.io.codebook` with runs of columns that share one rule merged into one row.

    A run of consecutive columns of one file with the same type, rule and requirement (the
    questionnaire items of one block, say) becomes ``first … last (n columns)``.
    """
    from mbpm.io import codebook

    book = codebook()
    key = book[["file", "type", "rule", "required"]].astype(str).agg("|".join, axis=1)
    run = (key != key.shift()).cumsum()
    rows = []
    for _, block in book.groupby(run, sort=False):
        first = block.iloc[0].to_dict()
        if len(block) > 1:
            first["column"] = (f"{block['column'].iloc[0]} … {block['column'].iloc[-1]} "
                               f"({len(block)} columns)")
        rows.append(first)
    return pd.DataFrame(rows, columns=book.columns)


def simulation_display(parameters: pd.DataFrame) -> pd.DataFrame:
    """:func:`simulation_table` for the page: reason and source in one column, and dotted
    parameter names breakable after each dot and underscore (a zero-width space)."""
    why = parameters["reason"].where(parameters["source"] == "",
                                     parameters["reason"] + " Source: " + parameters["source"] + ".")
    breakable = parameters["parameter"].str.replace(".", ".\u200b").str.replace("_", "_\u200b")
    return pd.DataFrame({"parameter": breakable,
                         "value": parameters["value"], "reason and source": why})
