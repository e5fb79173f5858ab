"""Sphinx extension of the book: offline assets and an execution cache that knows about data.

Three jobs at ``config-inited`` (before myst-nb opens its cache or executes anything), and a
fourth when Sphinx decides what to re-read (4. a changed ``_toc.yml`` re-writes every page):

1. **Cache invalidation.** jupyter-cache re-executes a notebook only when its code cells change
   (jupyter-book issue #1633), and Sphinx re-reads a page only when its source file changes.
   We fingerprint everything else a chapter's output depends on (the ``mbpm`` package, the data
   folder the build reads, the lock file); when the fingerprint moves we empty the cache and
   mark every page outdated, so a cached build never shows stale numbers.
2. **Vega offline.** The Vega, Vega-Lite and vega-embed JavaScript comes from the vl-convert
   package (``vl_convert.javascript_bundle()``), is written once into a static folder and loaded
   by every page; chart outputs carry only a ``<div>`` and a ``vegaEmbed`` call
   (see :mod:`mbpm.figures`).
3. **Math offline.** MathJax 3 (``tex-svg.js``, from the ``django-static-mathjax`` package,
   which only packages MathJax's files) is served from the book instead of Sphinx's CDN URL.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

VEGA_BUNDLE = "vega-bundle.js"
MATHJAX_DIR = "mathjax"
MATHJAX_FILE = "tex-svg.js"  # TeX input, SVG output, fonts built in: one file, no web fonts


def _tree_digest(paths: list[Path]) -> str:
    """SHA-256 over the relative names and bytes of every file under ``paths``."""
    digest = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(root.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_fingerprint(book_root: Path) -> str:
    """Fingerprint of what chapter outputs depend on besides their own code."""
    from mbpm import io

    return _tree_digest([book_root / "mbpm", io.data_dir(), book_root / "requirements-lock.txt"])


def invalidate_stale_cache(book_root: Path, cache_dir: Path) -> bool:
    """Empty the execution cache when ``mbpm/``, the data folder or the lock changed.

    Returns whether they changed since the last build.
    """
    stamp = cache_dir.parent / ".inputs-fingerprint"
    current = inputs_fingerprint(book_root)
    previous = stamp.read_text().strip() if stamp.exists() else None
    if previous != current and cache_dir.exists():
        logger.info("[book_assets] mbpm/, data or lock changed: clearing the execution cache")
        shutil.rmtree(cache_dir)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return previous != current


def reread_all_if_inputs_changed(app: Sphinx, env: object, added: set[str], changed: set[str],
                                 removed: set[str]) -> list[str]:
    """Sphinx re-reads a page only when its source file changed; after a change of ``mbpm/`` or
    the data, every chapter's outputs may differ, so every page is read again."""
    if getattr(app, "mbpm_inputs_changed", False):
        return sorted(app.env.found_docs)
    return []


def write_vega_bundle(static_dir: Path) -> None:
    """Write the vega-embed + Vega-Lite + Vega bundle of the installed vl-convert, once."""
    import vl_convert

    from mbpm.figures import VEGA_LITE_VERSION

    target = static_dir / VEGA_BUNDLE
    marker = static_dir / "vega-bundle.version"
    version = f"{vl_convert.__version__} {VEGA_LITE_VERSION}"
    if target.exists() and marker.exists() and marker.read_text() == version:
        return
    static_dir.mkdir(parents=True, exist_ok=True)
    bundle = vl_convert.javascript_bundle(vl_version=VEGA_LITE_VERSION)
    # The bundle declares top-level consts (n, t, ...) that clash with other classic scripts
    # of the theme; a function scope keeps them private. It ends by setting window.vegaEmbed.
    target.write_text("(function () {\n" + bundle + "\n})();\n")
    marker.write_text(version)


def copy_mathjax(static_dir: Path) -> None:
    """Copy MathJax 3's single-file TeX-to-SVG build (from django-static-mathjax) into place."""
    import mathjax

    source = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / MATHJAX_FILE
    target = static_dir / MATHJAX_DIR / MATHJAX_FILE
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict,
                           doctree: object) -> None:
    """Remove repeated inline scripts (sphinx-thebe adds its config twice under JB1, which
    throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser)."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in context.get("script_files", []):
        key = (str(getattr(script, "filename", script) or ""),
               repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


#: Extensions Jupyter Book loads that do not declare parallel-read safety although, for the
#: HTML builder, they are: sphinx-multitoc-numbering only replaces
#: TocTreeCollector.assign_section_numbers (run in the main process after reading), and
#: sphinx-jupyterbook-latex's read-phase transforms act on LaTeX builds only.
PARALLEL_SAFE_FOR_HTML = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def read_in_parallel(app: Sphinx) -> None:
    """Execute (read) the chapters in BOOK_JOBS processes (default 2) for the HTML builder.

    Jupyter Book 1's CLI has no ``-j`` option; on two cores this nearly halves a cold build.
    ``BOOK_JOBS=1`` reads the chapters one by one. The PDF build reuses the HTML build's
    execution cache and stays serial.
    """
    if app.builder.name != "html":
        return
    # Create the execution cache's database now, in the main process: two readers that both
    # find it missing race to create its tables ("table nbproject already exists").
    if app.config.nb_execution_mode == "cache":
        from jupyter_cache import get_cache

        get_cache(_cache_dir(app)).db.dispose()
    for name in PARALLEL_SAFE_FOR_HTML:
        extension = app.extensions.get(name)
        if extension is not None and extension.parallel_read_safe is None:
            extension.parallel_read_safe = True
    app.parallel = int(os.environ.get("BOOK_JOBS", "2"))


def _cache_dir(app: Sphinx) -> Path:
    """The execution cache folder (nb_execution_cache_path, relative to the book)."""
    cache_dir = Path(app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    return cache_dir if cache_dir.is_absolute() else Path(app.confdir) / cache_dir


def on_config_inited(app: Sphinx, config: Config) -> None:
    book_root = Path(app.confdir)
    build_root = Path(app.outdir).parent
    cache_dir = _cache_dir(app)
    app.mbpm_inputs_changed = invalidate_stale_cache(book_root, cache_dir)
    # Chapters share one load of the data and one run of the plan per build (mbpm.cache);
    # the kernels inherit this variable. Its keys include the data's and mbpm's bytes.
    os.environ.setdefault("MBPM_CACHE_DIR", str(build_root / ".mbpm_cache"))

    static_dir = build_root / ".static"
    write_vega_bundle(static_dir)
    copy_mathjax(static_dir)
    config.html_static_path = [*config.html_static_path, str(static_dir)]
    config.mathjax_path = f"{MATHJAX_DIR}/{MATHJAX_FILE}"
    # pydata-sphinx-theme logs a console error when no default colour mode is set.
    config.html_context = {"default_mode": "light", **config.html_context}
    config.html_theme_options = no_second_navbar(config.html_theme_options)


def no_second_navbar(theme_options: dict) -> dict:
    """Theme options without pydata-sphinx-theme's top navbar, so the ☰ buttons work.

    pydata-sphinx-theme 0.17 fills ``navbar_persistent`` with its search field when the user's
    options do not name it (sphinx-book-theme's own ``navbar_persistent =`` in theme.conf does
    not count). A non-empty navbar is drawn with a second pair of ``.primary-toggle`` /
    ``.secondary-toggle`` buttons *before* sphinx-book-theme's article-header ones, and both
    themes' scripts bind ``document.querySelector(".primary-toggle")``: the first, hidden pair.
    The visible buttons then do nothing (pydata-sphinx-theme issue 2451). sphinx-book-theme
    shows its search in the sidebar and the article header, so the navbar is not needed.

    >>> no_second_navbar({"repository_url": "x"})["navbar_persistent"]
    []
    """
    return {"navbar_persistent": [], **theme_options}


TOC_STAMP = ".toc-fingerprint"


def _toc_stamp(app: Sphinx) -> Path:
    return Path(app.outdir) / TOC_STAMP


def reread_all_after_toc_change(app: Sphinx, env: object, added: set[str], changed: set[str],
                                removed: set[str]) -> list[str]:
    """Re-read (so re-write) every page when ``_toc.yml`` changed since this output was built.

    Sphinx re-writes only the pages whose source changed, so after a chapter is added to the
    table of contents the other pages keep a sidebar without it (found by tests/test_browser.py).
    Outputs come from the execution cache, so this costs no re-execution.
    """
    stamp = _toc_stamp(app)
    current = _tree_digest([Path(app.confdir) / "_toc.yml"])
    if stamp.exists() and stamp.read_text().strip() == current:
        return []
    logger.info("[book_assets] _toc.yml changed: re-reading every page")
    return sorted(set(env.found_docs) - added - changed)  # type: ignore[attr-defined]


def stamp_toc(app: Sphinx, exception: Exception | None) -> None:
    """Remember the table of contents this output was built with (only after a good build)."""
    if exception is None:
        _toc_stamp(app).write_text(_tree_digest([Path(app.confdir) / "_toc.yml"]) + "\n")


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", read_in_parallel)
    app.connect("env-get-outdated", reread_all_after_toc_change)
    app.connect("build-finished", stamp_toc)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("env-get-outdated", reread_all_if_inputs_changed)
    app.add_js_file(VEGA_BUNDLE)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


if __name__ == "__main__":  # pragma: no cover - a debugging aid
    print(json.dumps({"fingerprint": inputs_fingerprint(Path(os.getcwd()))}))
