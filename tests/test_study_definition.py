"""The study definition (mbpm/study.yml): read into frozen dataclasses, checked with messages that
name the key, and the one place the package takes arms, visits, analytes, families, outcome sets
and the plan's choices from."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from mbpm import study
from mbpm.study import StudyDefinitionError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = study.DEFAULT_FILE.read_text(encoding="utf-8")


def test_the_shipped_definition_describes_this_trial():
    d = study.default()
    assert (d.treated.id, d.control.id, d.reference.id) == ("MBPM", "WL", "HC")
    assert (d.pre.id, d.post.id) == ("baseline", "week8") and d.post.week == 8
    assert d.reference.visits == ("baseline",)
    assert [a.id for a in d.analytes if a.competitive] == ["oxytocin", "dheas"]
    assert d.plan("significance_level") == 0.05 and d.plan("confidence_level") == 0.95
    assert d.family_of("promis29", "pain_interference") == "pain"  # a scale entry ...
    assert d.family_of("promis29", "physical_function") == "function and activation"
    assert d.family_of("maia", "trusting") == "mindfulness and interoception"  # ... an instrument's


def test_the_package_reads_its_study_facts_from_the_definition():
    from mbpm import analysis, assays, claims, design, instruments, outcomes, robustness
    from mbpm.stats import _core

    d = study.default()
    assert assays.ANALYTES == d.analyte_ids and assays.COMPETITIVE == {"oxytocin", "dheas"}
    assert instruments.STUDY_INSTRUMENTS == d.instruments
    assert outcomes.FAMILY_ORDER == d.family_order
    assert claims.ALPHA == d.plan("significance_level") and design.POWER == d.plan("target_power")
    assert design.FULL_RUN == d.design_trials() == {25: 1000, 50: 1000, 100: 1000}
    assert _core.CONFIDENCE == d.plan("confidence_level")
    assert assays.BELOW_LLOQ == d.plan("below_lloq")
    assert robustness.HEADLINE == tuple(d.outcome_set("headline"))
    assert analysis.INTERPLAY_OUTCOMES == tuple(d.outcome_set("interplay"))


def broken(tmp_path: Path, old: str, new: str) -> Path:
    assert old in DEFAULT, old
    path = tmp_path / "study.yml"
    path.write_text(DEFAULT.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ("role: control", "role: placebo", "arms[1].role: expected one of treated, control, reference, got 'placebo'"),
    ("role: control", "role: treated", "expected one treated and one control arm"),
    ("visits: [baseline]}", "visits: [week12]}", "arms[2].visits: 'week12' is not a visit id"),
    ("role: post", "role: pre", "expected one pre and one post visit"),
    ("format: sandwich}", "format: lateral-flow}", "analytes[1].format: expected one of competitive, sandwich"),
    ("[promis29, sfmpq, pam13", "[promis29, sfmpq, pam14", "no scoring key for instrument 'pam14'"),
    ("mindfulness and interoception: [ffmq, maia]", "mindfulness and interoception: [ffmq]", "scale maia.noticing is in no family"),
    ("pain: [promis29.pain_interference", "pain: [promis29.pain_interferenc", "'promis29.pain_interferenc' is neither"),
    ("  target_power:", "  target_powr:", "plan: missing choice 'target_power'"),
    ("  design_trials:", "  design_trial:", "plan: missing choice 'design_trials'"),
    ("{25: 1000, 50: 1000, 100: 1000}", "{25: 1000, 50: 0}", "plan.design_trials: expected patients per arm (>= 2)"),
    ("{25: 1000, 50: 1000, 100: 1000}", "1000", "plan.design_trials: expected patients per arm"),
    ("{25: 1000, 50: 1000, 100: 1000}", "{1: 1000}", "plan.design_trials: expected patients per arm"),
    ("id_pattern: 'P\\d{3}'", "id_pattern: 'P[\\d{3}'", "participants.id_pattern: 'P[\\\\d{3}' is not a regular expression"),
    ("id_pattern: 'P\\d{3}'", "id_pattern: 'P?\\d*'", "participants.id_pattern: 'P?\\\\d*' matches an empty participant_id"),
    ("id_pattern: 'P\\d{3}'", "id_pattern: 3", "participants.id_pattern: expected a regular expression (text), got 3"),
    ("id_pattern: 'P\\d{3}'", "id_patern: 'P\\d{3}'", "participants: missing key 'id_pattern'"),
])
def test_a_broken_definition_names_the_key(tmp_path: Path, old: str, new: str, message: str):
    with pytest.raises(StudyDefinitionError) as err:
        study.load(broken(tmp_path, old, new))
    assert message in str(err.value)


def test_a_folder_may_bring_its_own_definition(tmp_path: Path):
    assert study.for_folder(tmp_path) is study.default()
    (tmp_path / "study.yml").write_text(DEFAULT.replace("label: Wait-list", "label: Usual care"),
                                        encoding="utf-8")
    assert study.for_folder(tmp_path).control.label == "Usual care"


def test_every_statement_about_the_trial_names_its_source():
    facts = study.default().trial_facts
    topics = {topic for topic, _, _ in facts}
    for needed in ("Allocation, sequence and concealment", "Blinding", "Setting and dates",
                   "Registration", "Ethics and consent", "Sample size", "Primary outcome"):
        assert needed in topics, needed
    for topic, statement, source in facts:
        assert source in study.FACT_SOURCES, topic
        if source == "none":
            assert "not reported in the available sources" in statement.lower(), topic
    # nothing the sources do not say is stated as a fact about the trial
    text = " ".join(statement for _, statement, _ in facts).lower()
    assert not re.search(r"(?<!whether patients )were randomi[sz]ed", text)


def test_the_shipped_data_folder_carries_the_package_definition():
    # simulate writes the definition it used into every folder; the shipped one must be the copy
    # (test_simulate regenerates data/ byte for byte, this names the file when they drift)
    from mbpm import io

    assert (io.SHIPPED_DATA / study.FILE_NAME).read_bytes() == study.DEFAULT_FILE.read_bytes()


def test_one_definition_per_process(tmp_path: Path):
    assert study.use(study.DEFAULT_FILE) == study.active()  # the same definition again: fine
    other = broken(tmp_path, "label: Wait-list", "label: Usual care")
    with pytest.raises(StudyDefinitionError, match="already uses another study definition"):
        study.use(other)
    assert study.active().control.label == "Wait-list"


def test_the_participant_id_rule_belongs_to_the_definition(tmp_path: Path):
    assert study.default().participant_id == r"P\d{3}"  # the data contract's P + 3 digits
    from mbpm import io

    assert io.PARTICIPANT_ID == study.default().participant_id == io.participant_id_rule()
    own = study.load(broken(tmp_path, "id_pattern: 'P\\d{3}'", "id_pattern: 'S-\\d+'"))
    assert own.participant_id == r"S-\d+" and own != study.default()
    # a folder's study.yml without the section takes the package's rule; the package's must state it
    start = DEFAULT.index("participants:\n")
    without = DEFAULT[:start] + DEFAULT[DEFAULT.index("\n\n", start) + 2:]
    (tmp_path / "study.yml").write_text(without, encoding="utf-8")
    assert study.load(tmp_path / "study.yml").participant_id == r"P\d{3}"
    with pytest.raises(StudyDefinitionError, match="study.yml: missing key 'participants'"):
        study._id_pattern(yaml.safe_load(without), "study.yml", None)


def test_a_folders_study_yml_sets_the_participant_id_rule(tmp_path: Path):
    """A folder whose IDs are S-001 ... validates with its own study.yml saying so (a new process,
    as a user runs it), and fails with the package's rule."""
    import subprocess
    import sys

    from mbpm import simulate

    folder = simulate.write_folder(simulate.simulate_tables(seed=5, n_mbpm=4, n_wl=4, n_hc=2),
                                   tmp_path / "cohort")
    for name in ("participants.csv", "questionnaires.csv", "plate_layout.csv"):
        path = folder / name
        path.write_text(re.sub(r"\bP(\d{3})\b", r"S-\1", path.read_text(encoding="utf-8")),
                        encoding="utf-8")
    assert "S-001" in (folder / "participants.csv").read_text(encoding="utf-8")

    def validate() -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != "MBPM_DATA"}
        env["PYTHONPATH"] = str(ROOT)
        return subprocess.run([sys.executable, "-m", "mbpm", "validate", str(folder)], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=600)

    refused = validate()
    assert refused.returncode == 1 and "expected P followed by 3 digits, got 'S-001'" in refused.stdout
    (folder / "study.yml").write_text(DEFAULT.replace("id_pattern: 'P\\d{3}'", "id_pattern: 'S-\\d{3}'"),
                                      encoding="utf-8")
    accepted = validate()
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "0 error(s)" in accepted.stdout
