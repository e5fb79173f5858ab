"""Importing mbpm as the chapters do stays quick: the heavy libraries load at their first use.

Each check runs in a fresh interpreter (``sys.modules`` of the test process already holds
everything). benchmarks/bench_imports.py times the same imports in a kernel (issue 15).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from mbpm import chart_pdf
from mbpm.stats._core import CONFIDENCE

ROOT = Path(__file__).resolve().parents[1]
#: What the chapters import.
CHAPTER_IMPORTS = ("from mbpm import analysis, book, claims, cohort, design, figures, findings, io, "
                   "outcomes, provenance, report, robustness, stats, study, tables, trial_report\n"
                   "from mbpm.findings import (baseline, biomarkers, data, discussion, methods, "
                   "oxytocin_pain, psychological, provenance, robustness)\n"
                   "from mbpm.stats import ranks\n"
                   "figures.use()\n")
HEAVY = ("pingouin", "seaborn", "matplotlib", "xarray", "statsmodels", "scipy.stats",
         "scipy.optimize", "altair")


def run(code: str) -> object:
    """Run ``code`` in a new interpreter with this checkout first on the path; return the JSON
    it prints last."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_chapter_imports_load_no_heavy_library() -> None:
    loaded = run(CHAPTER_IMPORTS + "import json, sys\n"
                 f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    assert loaded == []


def test_descriptive_tables_load_no_scipy_stats() -> None:
    """The group summaries (with t CIs) that the biomarker and psychological chapters draw from
    the cached results: scipy.special's t quantile, not scipy.stats (1.8 s per chapter). The CI
    is checked against the closed form of the t quantile on 2 df, (2p - 1) / sqrt(2p (1 - p))."""
    loaded = run("import json, sys\nimport pandas as pd\nfrom mbpm import stats\n"
                 "long = pd.DataFrame({'participant_id': ['P001', 'P002', 'P003'] * 2,\n"
                 "    'group': [stats.TREATED] * 6, 'visit': [stats.PRE] * 3 + [stats.POST] * 3,\n"
                 "    'outcome': ['x'] * 6, 'value': [1.0, 2.0, 4.0, 2.0, 3.0, 7.0]})\n"
                 "table = stats.describe(long)\n"
                 "print(json.dumps([sorted(m for m in ('scipy.stats', 'statsmodels') "
                 "if m in sys.modules), float(table['mean_ci_high'][0])]))")
    modules, high = loaded
    assert modules == []
    p = 0.5 + CONFIDENCE / 2
    t = (2 * p - 1) / np.sqrt(2 * p * (1 - p))
    assert abs(high - (7 / 3 + t * np.std([1, 2, 4], ddof=1) / np.sqrt(3))) < 1e-12


def test_the_builds_input_fingerprint_imports_no_pandas() -> None:
    """Every build (and an author's one-chapter rebuild) fingerprints mbpm/ and the data folder
    in the Sphinx process, which otherwise needs neither pandas nor NumPy (about 1 s)."""
    loaded = run("import json, sys\nfrom pathlib import Path\nsys.path.insert(0, 'chapters/_ext')\n"
                 "import book_assets\nbook_assets.inputs_fingerprint(Path('.'))\n"
                 "print(json.dumps([m for m in ('pandas', 'numpy') if m in sys.modules]))")
    assert loaded == []


def test_book_import_loads_no_pingouin_or_plotting() -> None:
    loaded = run("import json, sys\nimport mbpm.book\n"
                 "print(json.dumps([m for m in ('pingouin', 'seaborn', 'matplotlib') "
                 "if m in sys.modules]))")
    assert loaded == []


def test_altair_is_set_up_when_first_imported_after_use() -> None:
    """figures.use() before Altair is imported still gives the book's theme and renderer,
    and a chart drawn then goes through the book's renderer (HTML div and the PDF build's
    source: no PDF, so vl-convert is not even imported); nothing imports matplotlib."""
    state = run(CHAPTER_IMPORTS + """
import json, sys
before = 'altair' in sys.modules
import altair as alt
chart = alt.Chart(alt.Data(values=[{'x': 1}])).mark_point().encode(x='x:Q')
bundle = chart._repr_mimebundle_()
bundle = bundle[0] if isinstance(bundle, tuple) else bundle
print(json.dumps([before, alt.renderers.active, alt.theme.active,
                  'mbpm-chart' in bundle['text/html'], sorted(bundle),
                  'matplotlib' in sys.modules, 'vl_convert' in sys.modules]))
""")
    assert state == [False, "mbpm", "mbpm", True, [chart_pdf.SPEC_MIME, "text/html", "text/plain"],
                     False, False]


def test_use_after_altair_import_sets_it_up_at_once() -> None:
    state = run("""
import json
import altair as alt
from mbpm import figures
figures.use()
print(json.dumps([alt.renderers.active, alt.theme.active]))
""")
    assert state == ["mbpm", "mbpm"]


def test_lazy_module_computes_what_the_module_does() -> None:
    from scipy import stats as real

    from mbpm.lazy import lazy_module

    stats = lazy_module("scipy.stats")
    assert stats.t.ppf(0.975, 10) == real.t.ppf(0.975, 10)
    assert stats.rankdata is real.rankdata
