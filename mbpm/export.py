"""``python -m mbpm export DATA_DIR OUT_DIR``: the study's numbers as CSV files.

* ``scores.csv``: participant_id, visit, instrument, scale, value (one row per scored scale;
  scales that the missing-item rule leaves missing are absent).
* ``biomarkers.csv``: participant_id, visit, analyte, concentration, unit, flag, plate_id.
  A sample flagged ``below_lloq``/``above_uloq`` is reported *at* the limit (times its
  dilution), never extrapolated; how the analysis treats it is :func:`mbpm.assays.censor`'s
  option (``results.csv`` uses the default, :data:`mbpm.assays.BELOW_LLOQ`).
* ``results.csv``: every statistic the chapters report, one row per outcome, analysis and
  contrast (columns of :data:`mbpm.stats.RESULT_COLUMNS` first).
"""

from __future__ import annotations

from pathlib import Path

from mbpm import analysis, assays, io
from mbpm.errors import DataError

SCORE_COLUMNS = ["participant_id", "visit", "instrument", "scale", "value"]
FILES = ("scores.csv", "biomarkers.csv", "results.csv")


def export(data_dir: Path, out_dir: Path) -> dict[str, Path]:
    """Load, validate and analyse ``data_dir``; write the three CSV files into ``out_dir``.

    ``out_dir`` must be a folder (made if missing) other than the data folder, which is only
    ever read; files of these three names in it are replaced.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise DataError(f"{out_dir}: exists and is not a folder (export writes {', '.join(FILES)} "
                        "into a folder)")
    if out_dir.resolve() == io.data_dir(data_dir):
        raise DataError(f"{out_dir}: is the data folder, which export never writes to; name another folder")
    study = io.load_study(data_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {
        "scores.csv": study.scores[SCORE_COLUMNS],
        "biomarkers.csv": study.biomarkers[list(assays.BIOMARKER_COLUMNS)],
        "results.csv": analysis.run(study).table(),
    }
    paths = {}
    for name, frame in written.items():
        paths[name] = out_dir / name
        frame.to_csv(paths[name], index=False, lineterminator="\n")
    return paths


def cli(data_dir: Path, out_dir: Path) -> int:
    """``python -m mbpm export``; errors are printed by :func:`mbpm.__main__.main`."""
    paths = export(data_dir, out_dir)
    for name, path in paths.items():
        print(f"wrote {path}")
    return 0
