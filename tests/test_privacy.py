"""Privacy guard (issue 16): a book built from a folder without the simulation marker publishes
aggregates only: no participant IDs, no per-participant points or tooltips, no count below the
stated minimum, free text replaced by counts, also in notebooks and the search index.

The fast tests render the chapters' participant-level charts and tables from an unmarked copy of
the shipped folder; the slow test builds the whole book from it and scans every file of
``_build/html`` (:func:`mbpm.privacy.scan`).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import book_builds
from _data_helpers import read_rows, write_rows
from mbpm import analysis, cohort, figures, io, outcomes, privacy, study, tables, trial_report

ID = re.compile(r"(?<![A-Za-z0-9])P\d{3}(?![A-Za-z0-9])")


def unmarked_copy(out: Path) -> Path:
    """The shipped folder without its SIMULATED marker (as a real export would arrive), its
    withdrawal reasons made unique so that a scan finds them wherever they are published."""
    folder = Path(shutil.copytree(io.SHIPPED_DATA, out))
    (folder / io.SIMULATION_MARKER).unlink()
    rows = read_rows(folder / "participants.csv")
    k = rows[0].index("withdrawal_reason")
    for i, r in enumerate(rows[1:]):
        if r[k]:
            r[k] = f"moved away, private note {i:03d}"
    write_rows(folder / "participants.csv", rows)
    return folder


@pytest.fixture
def use_folder(monkeypatch: pytest.MonkeyPatch):
    def use(folder: Path) -> None:
        monkeypatch.setenv("MBPM_DATA", str(folder))
        privacy._policy_for.cache_clear()
    yield use
    privacy._policy_for.cache_clear()


def _pages(folder: Path) -> str:
    """What the chapters render of a folder: their participant-level charts and the flow tables."""
    loaded = io.load_study(folder)
    results = analysis.run(loaded)
    catalogue = outcomes.catalogue_frame()
    charts = [figures.interplay_scatter(results.long, catalogue), figures.group_means(results.long, catalogue),
              figures.biomarker_trajectories(results.long, "oxytocin"), figures.plate_curves(loaded.assay),
              ]
    html = [figures.render(chart.to_dict())["text/html"] for chart in charts]
    consort = trial_report.consort_figure(loaded, results)
    html += [consort.html(), consort.text()]  # the boxes' lines, unwrapped in text()
    html.append(str(tables.markdown(cohort.consort_counts(loaded)).data))
    return "\n".join(html)


@pytest.fixture(scope="module")
def unmarked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unmarked_copy(tmp_path_factory.mktemp("privacy") / "data")


def test_unmarked_folder_renders_no_participant(unmarked: Path, use_folder) -> None:
    use_folder(unmarked)
    assert not privacy.policy().participant_level
    text = _pages(unmarked)
    assert not ID.findall(text), sorted(set(ID.findall(text)))[:5]
    assert "private note" not in text
    assert "reason(s) recorded (free text not published)" in text
    assert privacy.PLACEHOLDER in text  # the scatter of single participants says why it is empty


def test_simulated_folder_and_opt_in_keep_participant_level_output(unmarked: Path, use_folder,
                                                                   tmp_path: Path) -> None:
    """The guard is what removes them: the marked cohort and the documented opt-in show them."""
    use_folder(io.SHIPPED_DATA)
    assert len(set(ID.findall(_pages(io.SHIPPED_DATA)))) >= 45
    internal = Path(shutil.copytree(unmarked, tmp_path / "internal"))
    doc = yaml.safe_load(study.DEFAULT_FILE.read_text(encoding="utf-8"))
    doc["privacy"] = {"participant_level": True, "min_cell": 5}
    (internal / study.FILE_NAME).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    use_folder(internal)
    assert privacy.policy().participant_level
    assert "private note" in _pages(internal)


def test_sample_points_of_the_standard_curves_are_dropped(unmarked: Path, use_folder) -> None:
    """The plate charts draw each sample well at its concentration: one participant's value."""
    use_folder(unmarked)
    spec = figures.plate_curves(io.load_study(unmarked).assay).to_dict()
    kinds = {r.get("kind") for rows in privacy.chart_spec(spec)["datasets"].values() for r in rows}
    assert "sample" in {r.get("kind") for rows in spec["datasets"].values() for r in rows}
    assert "sample" not in kinds and "standard" in kinds and "curve" in kinds


def test_small_counts_and_free_text_in_tables() -> None:
    rule = privacy.Policy(participant_level=False, min_cell=5)
    df = pd.DataFrame({"participant_id": ["P001", "P002"], "reason": ["my private words", ""],
                       "count": [3, 12], "n_mbpm": [0, 4], "share": ["4 (16 %)", "20 (80 %)"]})
    out = privacy.table(df, rule)
    assert "participant_id" not in out
    assert list(out["reason"]) == ["(free text, not published)", ""]
    assert list(out["count"]) == ["< 5", 12]
    assert list(out["n_mbpm"]) == [0, "< 5"]  # 0 identifies no one
    assert list(out["share"]) == ["< 5", "20 (80 %)"]


def test_privacy_section_is_checked() -> None:
    with pytest.raises(study.StudyDefinitionError, match="privacy"):
        privacy.parse({"participant_level": "yes"}, simulated=False)
    with pytest.raises(study.StudyDefinitionError, match="privacy"):
        privacy.parse({"min_cell": 0}, simulated=False)


def test_scan_finds_ids_and_free_text(tmp_path: Path, unmarked: Path) -> None:
    site = tmp_path / "html"
    (site / "chapters").mkdir(parents=True)
    rows = read_rows(unmarked / "participants.csv")
    reason = next(r[rows[0].index("withdrawal_reason")] for r in rows[1:] if r[rows[0].index("withdrawal_reason")])
    (site / "chapters" / "a.html").write_text(f"<p>P001 and P0010 and {reason}</p>")
    (site / "searchindex.js").write_text("Search.setIndex({x: 'nothing'})")
    found = privacy.scan(site, unmarked)
    assert found[0] == "chapters/a.html: 1 participant ID(s), e.g. P001", found
    assert any("free text" in f for f in found)
    assert privacy.scan_cli(site, unmarked) == 1


@pytest.mark.book
@pytest.mark.slow
def test_book_from_an_unmarked_folder_publishes_no_participant(tmp_path: Path) -> None:
    """Build the whole book from an unmarked copy of the shipped folder, then scan every file
    of _build/html (pages, _sources notebooks, _downloads, searchindex.js)."""
    data = unmarked_copy(tmp_path / "data")
    book_builds.short_design_run(data)
    book = book_builds.copy_sources(tmp_path / "book")
    result = book_builds.build(book, data, "html")
    site = book / "_build" / "html"
    assert (site / "chapters" / "biomarkers.html").is_file(), (result.stdout + result.stderr)[-3000:]
    findings = privacy.scan(site, data)
    assert findings == [], findings
    assert (site / "searchindex.js").is_file() and any((site / "_sources").rglob("*.ipynb"))
