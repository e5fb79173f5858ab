"""A pytest plugin for the regression references: nbval compares numbers within floating-point noise.

nbval compares a re-executed chapter's outputs with the stored reference as strings, after the
regular expressions of ``tests/nbval_sanitize.cfg``. A regular expression can only cut digits, and
rounding (to any number of digits) still flips whenever a value sits near a rounding boundary:
12.5 computed as 12.499999999999998 on another CPU; a plate-curve point whose sixth digit moves
with the BLAS kernel. Among the thousands of numbers in the charts' data some always sit there.

So this plugin compares tolerantly instead (:func:`same_output`): the text around the numbers must
be identical, and each pair of numbers must agree within

* ``RELATIVE`` (1e-5) of their size, or ``ABSOLUTE`` (1e-12) near zero. Floating-point noise
  between BLAS kernels reaches 6.5e-7 relative here: the 4PL fits' parameters lie in a flat
  least-squares valley and are determined only to about 3e-8, and the back-calculated
  concentrations near the curve's asymptotes amplify that (measured over every chapter with
  OpenBLAS's Prescott kernel and one thread against the stored references; tightening the
  solver's tolerances or solving its steps by QR does not reduce it). A change of a reported
  number (shown with at most four significant digits) is at least 1e-4 relative; or
* one unit in the last place shown, for numbers printed with six or more significant digits or
  decimals (pandas shows floats with six decimals, so "0.182623" and "0.182624" are the same
  value printed on two machines). Shorter numbers, the ones prose and tables report, get no such
  allowance: "0.18" and "0.19" differ.

Integers (counts, ids) are compared exactly.

The plugin also makes every run of the suite a portability check: ``tests/refresh_reference.py``
stores the references as on another machine (:func:`other_machine`: OpenBLAS's Prescott kernel,
one thread, and NumPy's loops for an older CPU), while the kernels nbval starts run with this
machine's defaults, as the book build does.

And a determinism check (:func:`check_against_build`): the chapters nbval executes glue, value
for value and bit for bit, what the book build in ``_build/`` glued on this machine from the same
commit and data folder (``_build/jupyter_execute/chapters/<chapter>.glue.json``; numbers, words,
tables, chart specs and data). Excluded by design: the provenance chapter's build date and
commit (:data:`mbpm.provenance.VOLATILE_GLUE`). (Outputs carry no PDF, whose bytes would hold a
creation date: only the PDF build makes the charts' PDFs, :mod:`mbpm.chart_pdf`.) One execution of every chapter
thus serves both checks (issue 15: the suite executed the whole book once more for determinism).

The kernels of one pytest process share one results cache (``mbpm.cache``), in a new folder
(:func:`results_cache`): the chapters load the data folder and run the plan once per test run, as
the chapters of one book build do, and every value is computed in this run (an ``MBPM_CACHE_DIR``
of the caller's is not passed on) but one: the design simulation's table of 3,000 trials
(:data:`FROM_THE_BUILD`), which the folder starts with, copied from the build's
``_build/.mbpm_cache``. Executing it again took 107 s of the suite's 386 (issue 15) and checked
nothing else: nbval ignores that cell's outputs (its numbers are compared with the reference within
Monte Carlo noise, from the build: tests/test_portability.py), and the glued values it derives
would only be compared with the same computation by the build. A cache entry is keyed by mbpm's
code, the installed versions and the data folder's bytes (:mod:`mbpm.cache`), so it is served only
where the same code computed it from the same data; that two computations of the simulation give
the same table, bit for bit, is tested in other processes, hash seeds and worker counts on a
sample of trials (tests/test_design.py).

Its ``pytest_configure`` hook is imported by ``tests/conftest.py``, so it is active whenever
pytest collects the references under ``tests/``.

>>> same_output("F = 0.30000000000000004", "F = 0.3"), same_output("0.18", "0.19")
(True, False)
"""

from __future__ import annotations

import atexit
import json
import math
import os
import platform
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

#: A decimal or exponent-form number that is not part of a word, an id or a longer number.
DECIMAL = re.compile(r"(?<![\w.])-?\d+(?:\.\d+(?:[eE][-+]?\d+)?|[eE][-+]?\d+)(?![\w.])")
RELATIVE = 1e-5
ABSOLUTE = 1e-12
#: Numbers shown with at least this many significant digits or decimals are machine-precision
#: output; they may differ in their last shown digit.
LONG = 6


def last_place(text: str) -> float:
    """One unit in the last place of a long number as printed, else 0.

    >>> last_place("0.182623"), last_place("1.2345678e-05"), last_place("0.18")
    (1e-06, 1e-12, 0.0)
    """
    mantissa, _, exponent = text.lstrip("-").lower().partition("e")
    whole, _, decimals = mantissa.partition(".")
    significant = len((whole + decimals).lstrip("0"))
    if significant < LONG and (exponent or len(decimals) < LONG):
        return 0.0
    return 10.0 ** (int(exponent or 0) - len(decimals))


def same_number(reference: str, computed: str) -> bool:
    """Two printed numbers agree within noise (see the module docstring)."""
    a, b = float(reference), float(computed)
    allowed = max(RELATIVE * max(abs(a), abs(b)), ABSOLUTE, last_place(reference),
                  last_place(computed))
    return math.isclose(a, b, rel_tol=0, abs_tol=allowed * (1 + 1e-9))


def same_output(reference: str, computed: str) -> bool:
    """Identical text around the numbers, and every number the same within noise."""
    return (DECIMAL.split(reference) == DECIMAL.split(computed)
            and all(same_number(a, b) for a, b in zip(DECIMAL.findall(reference),
                                                      DECIMAL.findall(computed))))


class NoisyText(str):
    """An output string whose ``==`` and ``!=`` (what nbval compares with) use :func:`same_output`."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and same_output(str(self), str(other))

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


#: The OpenBLAS setting of the kernels the references are stored with (Prescott is an x86
#: kernel; on other CPUs only the thread count changes).
OTHER_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              **({"OPENBLAS_CORETYPE": "Prescott"}
                 if platform.machine().lower() in ("x86_64", "amd64") else {})}
NUMPY_FEATURES = "NPY_DISABLE_CPU_FEATURES"
SETTINGS = (*OTHER_BLAS, NUMPY_FEATURES)


def older_cpu() -> dict[str, str]:
    """NumPy limited to its oldest dispatched instruction set this CPU has (e.g. AVX2 loops on an
    AVX-512 machine), through ``NPY_DISABLE_CPU_FEATURES``: exp, log and power then round as on an
    older CPU. Empty where NumPy dispatches nothing newer."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        return {}
    available = [feature for feature in __cpu_dispatch__ if __cpu_features__.get(feature)]
    return {NUMPY_FEATURES: " ".join(available[1:])} if len(available) > 1 else {}


def other_machine() -> dict[str, str]:
    """The environment ``tests/refresh_reference.py`` stores the references in:
    :data:`OTHER_BLAS` and :func:`older_cpu`, except what the caller's environment already sets."""
    return {k: v for k, v in {**OTHER_BLAS, **older_cpu()}.items() if k not in os.environ}


#: The build's results cache, and the one kind of entry of it the suite's kernels reuse (see the
#: module docstring): ``mbpm.design.power_simulation``'s.
BUILD_RESULTS = Path(__file__).resolve().parent.parent / "_build" / ".mbpm_cache"
FROM_THE_BUILD = "design"


@lru_cache(maxsize=1)
def results_cache() -> str:
    """The ``MBPM_CACHE_DIR`` of this process's nbval kernels: a new folder, removed when the
    process ends, holding only the build's :data:`FROM_THE_BUILD` entries (none without a
    build: the chapters then compute them)."""
    folder = tempfile.mkdtemp(prefix="mbpm-nbval-results-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    copy_from_the_build(BUILD_RESULTS, Path(folder))
    return folder


def copy_from_the_build(build_results: Path, folder: Path) -> list[str]:
    """Copy the :data:`FROM_THE_BUILD` entries of ``build_results`` into ``folder``; their names."""
    names = [entry.name for entry in sorted(build_results.glob(f"{FROM_THE_BUILD}-*.pickle"))]
    for name in names:
        shutil.copyfile(build_results / name, folder / name)
    return names


def _kernels_share_a_new_results_cache() -> None:
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    if getattr(NbvalKernelspecManager.get_kernel_spec, "new_results_cache", False):
        return
    default_spec = NbvalKernelspecManager.get_kernel_spec

    def get_kernel_spec(self, kernel_name):
        spec = default_spec(self, kernel_name)
        if kernel_name == CURRENT_ENV_KERNEL_NAME:
            spec.env = {**spec.env, "MBPM_CACHE_DIR": results_cache()}
        return spec

    get_kernel_spec.new_results_cache = True
    NbvalKernelspecManager.get_kernel_spec = get_kernel_spec


#: Where the book build keeps what each chapter glued (myst-nb's ``<chapter>.glue.json``);
#: ``MBPM_BUILD_GLUE`` names another folder (tests/test_determinism.py plants a change there).
BUILD_GLUE = Path(__file__).resolve().parent.parent / "_build" / "jupyter_execute" / "chapters"
def glued(outputs) -> dict[str, dict]:
    """``{name: mime bundle}`` of the values glued in ``outputs`` (a cell's outputs), without
    myst-nb's mime prefix."""
    found = {}
    for output in outputs or []:
        meta = (output.get("metadata") or {}).get("scrapbook")
        if meta:
            prefix = len(meta.get("mime_prefix", ""))
            found[meta["name"]] = {mime[prefix:]: value for mime, value in output["data"].items()}
    return found


@lru_cache(maxsize=None)
def built_glue(chapter: str) -> dict[str, dict] | None:
    """What the build glued in ``chapter``, None without a build."""
    folder = Path(os.environ.get("MBPM_BUILD_GLUE", BUILD_GLUE))
    if not folder.is_dir():
        return None
    path = folder / f"{chapter}.glue.json"
    stored = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return {name: out["data"] for name, out in stored.items()}


def build_differences(build: dict[str, dict] | None, now: dict[str, dict], last_cell: bool,
                      seen: set[str]) -> list[str]:
    """What differs between the values a cell glued ``now`` and the ``build``'s of its chapter
    (:func:`built_glue`); at the chapter's ``last_cell``, also the build's values that no cell
    glued (``seen`` collects the names of the chapter's cells).

    >>> build_differences({"x": {"text/plain": "1.5"}}, {"x": {"text/plain": "1.6"}}, True, set())
    ['x: glued differently than the build from the same commit and data folder on this machine']
    """
    from mbpm.provenance import VOLATILE_GLUE

    if build is None:
        return [f"no book build in {os.environ.get('MBPM_BUILD_GLUE', BUILD_GLUE)} to compare "
                "the glued values with: run `make html` first (make test does)"]
    seen.update(now)
    problems = [f"{name}: glued {'differently than' if name in build else 'but not by'} the "
                "build from the same commit and data folder on this machine"
                for name, data in now.items()
                if name not in VOLATILE_GLUE and build.get(name) != data]
    if last_cell:
        problems += [f"{name}: glued by the build, not by this execution"
                     for name in sorted(set(build) - seen - set(VOLATILE_GLUE))]
    return problems


def check_against_build(cell) -> None:
    """Fail an executed nbval cell (``IPyNbCell``) whose glued values differ from the build's."""
    chapter = Path(str(cell.parent.fspath)).stem
    seen = cell.parent.__dict__.setdefault("glue_seen", set())
    code_cells = sum(c.cell_type == "code" for c in cell.parent.nb.cells)
    problems = build_differences(built_glue(chapter), glued(cell.test_outputs),
                                 cell.cell_num == code_cells - 1, seen)
    if problems:
        cell.raise_cell_error("No book build" if built_glue(chapter) is None else
                              "Glued values differ from the book build (same machine, same "
                              "data: a build must be reproducible)", "\n".join(problems))


def pytest_configure(config) -> None:
    from nbval.plugin import IPyNbCell

    _kernels_share_a_new_results_cache()

    if not getattr(IPyNbCell.runtest, "checks_build", False):
        compare_with_reference = IPyNbCell.runtest

        def runtest(self):
            compare_with_reference(self)
            check_against_build(self)

        runtest.checks_build = True
        IPyNbCell.runtest = runtest

    if getattr(IPyNbCell.sanitize, "compares_numbers", False):
        return
    regex_only = IPyNbCell.sanitize

    def sanitize(self, s):
        s = regex_only(self, s)
        return NoisyText(s) if isinstance(s, str) else s

    sanitize.compares_numbers = True
    IPyNbCell.sanitize = sanitize
