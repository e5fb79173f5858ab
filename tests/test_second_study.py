"""A second study, defined only by two files in a test folder (tests/fixtures/second_study:
study.yml and simulation.yml), runs through ``simulate``, ``validate`` and ``export`` with no change
to the package: other arm ids and labels (MBSR / TAU / REF), other visits (pre / post, week 0 and
week 10), MAIA-2 (37 items) instead of MAIA v1, one more analyte (cortisol, a competitive kit) and
other arm sizes. Each command is a new process started from another working directory, as a user
would run it; the expectations below are read from the fixture's definition, not from the outputs.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from book_builds import SECOND_STUDY_SEED, SharedBuild

from mbpm import study
from mbpm.instruments import registry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "second_study"
SECOND = study.load(FIXTURE / "study.yml")
SIZES = {"MBSR": 18, "TAU": 20, "REF": 10}  # design.n_* of the fixture's simulation.yml


def mbpm(*args: str, cwd: Path, data: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MBPM_DATA"}
    env["PYTHONPATH"] = str(ROOT)
    if data is not None:
        env["MBPM_DATA"] = str(data)
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """Simulate, validate and export the second study (each a new process, cwd elsewhere)."""
    work = tmp_path_factory.mktemp("second")
    mbpm("-m", "mbpm", "simulate", "cohort", "--seed", str(SECOND_STUDY_SEED),
         "--study", str(FIXTURE / "study.yml"), "--params", str(FIXTURE / "simulation.yml"), cwd=work)
    report = mbpm("-m", "mbpm", "validate", "cohort", cwd=work).stdout
    mbpm("-m", "mbpm", "export", "cohort", "out", cwd=work)
    return work / "cohort", work / "out", report


def test_the_definition_differs_from_the_shipped_one_where_a_study_may():
    shipped = study.default()
    assert set(SECOND.arm_ids).isdisjoint(shipped.arm_ids)
    assert set(SECOND.visit_ids).isdisjoint(shipped.visit_ids) and SECOND.post.week == 10
    assert "maia2" in SECOND.instruments and "maia" not in SECOND.instruments
    assert set(SECOND.analyte_ids) - set(shipped.analyte_ids) == {"cortisol"}
    assert SECOND.analyte("cortisol").competitive


def test_the_simulated_folder_describes_itself(run):
    folder, _, _ = run
    for name in ("study.yml", "simulation.yml"):
        assert (folder / name).read_bytes() == (FIXTURE / name).read_bytes()
    marker = yaml.safe_load((folder / "SIMULATED").read_text(encoding="utf-8"))
    assert {k: v for k, v in marker.items() if k.startswith("n_")} == \
        {arm.size_key: SIZES[arm.id] for arm in SECOND.arms}


def test_the_data_use_the_second_studys_arms_and_visits(run):
    folder, _, report = run
    assert "0 error(s)" in report and "maia2" in report
    people = rows(folder / "participants.csv")
    groups = [p["group"] for p in people]
    assert {g: groups.count(g) for g in set(groups)} == SIZES
    visits = {(p["participant_id"], q) for p, q in
              ((r, r["visit"]) for r in rows(folder / "questionnaires.csv"))}
    group_of = {p["participant_id"]: p["group"] for p in people}
    seen = {(group_of[pid], visit) for pid, visit in visits}
    assert seen == {(a.id, v) for a in SECOND.arms for v in a.visits}


def test_maia2_is_scored_and_cortisol_quantified(run):
    _, out, _ = run
    scores = rows(out / "scores.csv")
    instruments = {r["instrument"] for r in scores}
    assert instruments == set(SECOND.instruments)
    maia2 = {r["scale"] for r in scores if r["instrument"] == "maia2"}
    assert maia2 == {s.name for s in registry.find("maia2").scales}
    cortisol = [r for r in rows(out / "biomarkers.csv") if r["analyte"] == "cortisol"]
    assert {r["unit"] for r in cortisol} == {SECOND.analyte("cortisol").unit}
    values = [float(r["concentration"]) for r in cortisol]
    assert len(values) > 0.9 * (sum(SIZES.values()) + 0.8 * (SIZES["MBSR"] + SIZES["TAU"]))
    assert all(v > 0 for v in values)


def test_the_results_are_labelled_with_the_second_studys_names(run):
    _, out, _ = run
    results = rows(out / "results.csv")
    t, c, r = SECOND.treated.id, SECOND.control.id, SECOND.reference.id
    pre, post = SECOND.pre, SECOND.post
    assert {row["contrast"] for row in results} == {
        f"patients ({t}+{c}) vs {r}", f"{t} vs {c}", f"{t}: {post.id} vs {pre.id}",
        f"{c}: {post.id} vs {pre.id}",
        f"{t} - {c} at {post.label.lower()}, adjusted for {pre.label.lower()}",
        "group x time interaction", t, f"{t}+{c} (pooled)"}
    assert {"cortisol", "maia2.trusting"} <= {row["outcome"] for row in results}
    header = set(results[0])
    assert {arm.size_key for arm in SECOND.arms} <= header
    assert not {arm.size_key for arm in study.default().arms} & header


def test_mbpm_data_makes_the_folders_definition_the_one_in_use(run):
    folder, _, _ = run
    code = ("from mbpm import assays, io, stats; "
            "print(assays.ANALYTES[-1], stats.TREATED, stats.POST, io.GROUPS)")
    done = mbpm("-c", code, cwd=folder.parent, data=folder)
    assert done.stdout.split() == ["cortisol", "MBSR", "post", "('MBSR',", "'TAU',", "'REF')"]


def _article(page: Path) -> str:
    """The main article of a built page, scripts, styles and code blocks dropped."""
    html = page.read_text(encoding="utf-8")
    body = html.split('<article class="bd-article"', 1)[-1].split("</article>", 1)[0]
    return re.sub(r"<(script|style|pre)\b.*?</\1>", " ", body, flags=re.S)


def _visible(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _page_text(page: Path) -> str:
    """The visible text of a built page: the main article, tags, scripts and code dropped."""
    return _visible(_article(page))


def _page_units(page: Path) -> list[str]:
    """What a reader takes in as one statement: each chart (its Vega-Lite spec: titles, axes,
    legends, description), each alt text and ARIA label, each table row, and each sentence of
    the rest of the article."""
    html = page.read_text(encoding="utf-8")
    charts = [s for s in re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)
              if "vegaEmbed" in s]
    body = _article(page)
    charts += re.findall(r'\b(?:alt|aria-label)="([^"]*)"', body)
    rows = [_visible(row) for row in re.findall(r"<tr\b.*?</tr>", body, flags=re.S)]
    rest = _visible(re.sub(r"<tr\b.*?</tr>", " . ", body, flags=re.S))
    return charts + rows + sentences(rest)


def test_the_book_builds_on_the_second_study_with_its_arm_names(hostile_second_study: SharedBuild):
    """``MBPM_DATA=<second study> jupyter-book build .`` succeeds with no cell error, and the
    results pages name the second definition's arms (treated id and label, control label),
    from the definition and never from the shipped one's ids.

    The build is the one tests/test_injection.py checks too (the ``hostile_second_study`` fixture:
    the second study simulated with the seed of :func:`run`, hostile text in its free-text
    fields, which the arm names checked here do not come from)."""
    status, log = hostile_second_study.results["html"]
    problems = [line for line in log.splitlines()
                if "ERROR" in line or "Error" in line or "WARNING: " in line]
    assert status == 0, "\n".join(problems[:40]) or log[-3000:]
    assert "Traceback" not in log
    definition = yaml.safe_load((hostile_second_study.folder / "study.yml").read_text(encoding="utf-8"))
    assert definition == yaml.safe_load((FIXTURE / "study.yml").read_text(encoding="utf-8"))
    html = hostile_second_study.built / "html" / "chapters"
    treated, control = SECOND.treated, SECOND.control
    # The results pages whose arm names come from the package (tables, figures, glued text).
    for name in ("summary", "psychological", "biomarkers", "oxytocin_pain", "baseline"):
        text = _page_text(html / f"{name}.html")
        assert treated.id in text, name
        assert control.label.lower() in text.lower(), name
    left = {page.stem: found for page in sorted(html.glob("*.html"))
            if (found := shipped_names_left(_page_units(page)))}
    assert not left, left


#: The shipped definition's arm and visit names as prose and tables write them ("baseline" is
#: left out: it is also the statistical word for the value before treatment).
SHIPPED_NAMES = re.compile(r"\b(MBPM|WL|HC|(?i:week[ -]?8|wait-list|healthy controls?))\b")
#: The only statements that may name the shipped arms on another study's pages: those that say
#: what the published paper did, with its citation or (in a table row) its source.
PAPER = re.compile(r"Aygün|the article['’]s")


def sentences(text: str) -> list[str]:
    """``text`` cut after '. ', '? ', '! ' or ': ' (not after "et al.", "e.g." or "i.e.")."""
    return re.split(r"(?<!\bal\.)(?<!e\.g\.)(?<!i\.e\.)(?<=[.?!:])\s+", text)


def shipped_names_left(units: list[str]) -> list[str]:
    """The statements (sentences, table rows) that name a shipped arm or visit without citing
    the paper."""
    found = [(u, SHIPPED_NAMES.search(u)) for u in units]
    return [u[max(0, m.start() - 80):m.end() + 60].strip() for u, m in found
            if m and not PAPER.search(u)]


def test_shipped_names_left_finds_a_shipped_name_outside_a_cited_sentence():
    def left(text: str) -> list[str]:
        return shipped_names_left(sentences(text))

    assert left("Usual care and MBSR differ. Aygün et al. studied MBPM.") == []
    assert left("The wait-list arm. Week 10 values.") == ["The wait-list arm."]
    assert left("Oxytocin at week-8 rose.") == ["Oxytocin at week-8 rose."]
    assert left("MBPMX and HCT are other words, mbpm a package.") == []
    assert shipped_names_left(["13 An MBPM course. Stated (the article's abstract)"]) == []
    assert shipped_names_left(["13 An MBPM course. Not available"]) == ["13 An MBPM course. Not available"]
