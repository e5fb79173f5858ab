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

Charts reach the PDF as their Vega-Lite spec (:mod:`mbpm.chart_pdf`): :class:`ChartSpecToPdf`
turns each into a vector PDF in the LaTeX build only, so executing a chapter makes no PDF.

And before Sphinx reads the pages (``env-before-read-docs``), the chapters the execution cache
does not hold yet are executed two at a time, longest first, into that cache
(:func:`execute_stale_notebooks`); myst-nb then finds every one of them cached.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.transforms.post_transforms.images import ImageConverter
from sphinx.util import logging

from mbpm import chart_pdf  # light: no pandas, no NumPy (tests/test_imports.py)

logger = logging.getLogger(__name__)

VEGA_BUNDLE = "vega-bundle.js"
BOOK_CSS = "mbpm-book.css"
#: The typeset book, copied next to the website's index.html by ``make pdf``.
BOOK_PDF = "mbpm-oxytocin.pdf"
#: The site's own style rules (written to the static folder by :func:`write_book_css`).
CSS = """\
/* A chart wider than the screen scrolls inside its own box (its labels keep their size);
   the page itself never becomes wider than the screen. */
.mbpm-chart { max-width: 100%; overflow-x: auto; overflow-y: hidden; }
.cell_output, .cell_output .output, figure { max-width: 100%; }
.cell_output .output { overflow-x: auto; }
/* Long unbroken words (checksums, file paths) wrap instead of widening the page. A table
   cell only breaks a word that cannot fit its column (break-word does not narrow a column, so
   "Oxytocin" or "0.001" never split; a wide table scrolls in its own box). */
.bd-article .pasted-text, .bd-article code { overflow-wrap: anywhere; }
.bd-article td { overflow-wrap: break-word; }
.bd-article code.literal, .bd-article code.literal .pre { white-space: normal; }
/* A wide table's caption wraps at the width of the box the table scrolls in, and stays in view
   while the table scrolls (otherwise it wraps at the table's width, and lines run out of sight). */
.bd-article .pst-scrollable-table-container { container-type: inline-size; }
.bd-article .pst-scrollable-table-container > table > caption {
  position: sticky; left: 0; max-width: 100cqw; }
"""
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
    """Fingerprint of what chapter outputs depend on besides their own code: ``mbpm/``, the data
    folder, the lock file and the installed versions of mbpm's dependencies (a package upgraded
    by hand, without a new lock, computes other numbers too)."""
    from mbpm import cache, folders  # not mbpm.io: the Sphinx process needs no pandas

    files = _tree_digest([book_root / "mbpm", folders.data_dir(),
                          book_root / "requirements-lock.txt"])
    return hashlib.sha256(f"{files}|{cache.environment_digest()}".encode()).hexdigest()


def invalidate_stale_cache(book_root: Path, cache_dir: Path,
                           also: tuple[Path, ...] = ()) -> bool:
    """Empty the execution cache (and the folders in ``also``: the mbpm result cache) when
    ``mbpm/``, the data folder, the lock or the installed packages changed.

    Returns whether they changed since the last build.
    """
    stamp = cache_dir.parent / ".inputs-fingerprint"
    current = inputs_fingerprint(book_root)
    previous = stamp.read_text().strip() if stamp.exists() else None
    if previous != current:
        if cache_dir.exists():
            logger.info("[book_assets] mbpm/, data, lock or packages changed: clearing the "
                        "execution cache")
            shutil.rmtree(cache_dir)
        for folder in also:
            shutil.rmtree(folder, ignore_errors=True)
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
    """Write the vega-embed + Vega-Lite + Vega bundle of the installed vl-convert, once.

    It is written again when the installed vl-convert or Altair (whose schema names the
    Vega-Lite version) changes; checking that needs their versions only, so a rebuild does not
    import Altair here."""
    from importlib import metadata

    target = static_dir / VEGA_BUNDLE
    marker = static_dir / "vega-bundle.version"
    version = " ".join(f"{name} {metadata.version(name)}"
                       for name in ("vl-convert-python", "altair"))
    if target.exists() and marker.exists() and marker.read_text() == version:
        return
    import vl_convert

    from mbpm.figures import vega_lite_version

    static_dir.mkdir(parents=True, exist_ok=True)
    bundle = vl_convert.javascript_bundle(vl_version=vega_lite_version())
    # The bundle declares top-level consts (n, t, ...) that clash with other classic scripts
    # of the theme; a function scope keeps them private. It ends by setting window.vegaEmbed.
    target.write_text("(function () {\n" + bundle + "\n})();\n")
    marker.write_text(version)


def write_book_css(static_dir: Path) -> None:
    """Write :data:`CSS` to the static folder when it changed."""
    target = static_dir / BOOK_CSS
    if not target.exists() or target.read_text() != CSS:
        static_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(CSS)


def add_pdf_download(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree: object) -> None:
    """Put the typeset book first in every page's download menu (sphinx-book-theme's
    ``download-buttons`` group, built at priority 501; this runs after it)."""
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].insert(0, {
                "type": "link", "url": context["pathto"](BOOK_PDF, 1), "text": "Book (PDF)",
                "tooltip": "Download the typeset book (PDF)", "icon": "fas fa-book",
                "label": "download-book-pdf-button"})


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


#: Tag of a code cell whose source the website shows unfolded (every other cell's is folded).
SHOW_INPUT_TAG = "show-input"


class FoldEveryCodeCell(SphinxPostTransform):
    """In the website, fold the source of every code cell behind myst-nb's "Show code cell
    source" toggle, whatever its tags: a new cell needs no ``hide-input`` tag.

    myst-nb folds a cell only when it is tagged ``hide-input`` (``myst_nb.core.render``
    sets ``hide_mode``; its ``HideInputCells`` post-transform, priority 199, draws the toggle).
    This runs just before it and gives every cell that shows its source and has no hide mode
    the mode ``"input"``, with the book's toggle texts (``nb_code_prompt_show`` and
    ``nb_code_prompt_hide``). A cell tagged :data:`SHOW_INPUT_TAG` stays unfolded; cells with
    ``remove-input`` have no source to fold. The PDF leaves every cell's source out
    (:class:`DropCodeFromPrint`).
    """

    default_priority = 198
    formats = ("html",)

    def run(self, **kwargs: object) -> None:
        fold_code_cells(self.document, self.config.nb_code_prompt_show,
                        self.config.nb_code_prompt_hide)


def fold_code_cells(document: nodes.Element, prompt_show: str, prompt_hide: str) -> int:
    """Give every code cell of ``document`` that shows its source, has no hide mode and is not
    tagged :data:`SHOW_INPUT_TAG` the hide mode ``"input"``; returns how many it folded."""
    folded = 0
    for node in document.findall(nodes.container):
        if (node.get("nb_element") == "cell_code" and not node.get("hide_mode")
                and node.children and node[0].get("nb_element") == "cell_code_source"
                and SHOW_INPUT_TAG not in cell_tags(node)):
            node["hide_mode"] = "input"
            node["prompt_show"], node["prompt_hide"] = prompt_show, prompt_hide
            folded += 1
    return folded


def cell_tags(node: nodes.Element) -> list[str]:
    """The tags of a myst-nb code cell container (its notebook metadata)."""
    return list((node.get("cell_metadata") or {}).get("tags", []))


class DropCodeFromPrint(SphinxPostTransform):
    """Leave the chapters' code out of the PDF.

    In the website every code cell is folded behind a "Show code cell source" toggle
    (:class:`FoldEveryCodeCell`, myst-nb's ``HideInputCells``; HTML only). The LaTeX writer
    would print that code in full; the PDF is the typeset paper, so each cell's source
    (``nb_element == "cell_code_source"``) is removed there and its outputs stay.
    """

    default_priority = 199
    formats = ("latex",)

    def run(self, **kwargs: object) -> None:
        for node in list(self.document.findall(nodes.container)):
            if node.get("nb_element") == "cell_code_source":
                node.parent.remove(node)


class NoEmptyReferencesChapter(SphinxPostTransform):
    """In the PDF, drop the heading of a chapter that holds only the bibliography.

    LaTeX prints every citation in one bibliography at the end of the book (Sphinx's
    ``sphinxthebibliography``, titled "References" by the preamble in ``_config.yml``), so
    the website's "References" chapter would print as an empty chapter page before it.
    Its citation nodes stay in the document (the LaTeX writer collects them); only the
    section around them goes.
    """

    default_priority = 199
    formats = ("latex",)

    def run(self, **kwargs: object) -> None:
        for section in list(self.document.findall(nodes.section)):
            if only_citations(section):
                content = [c for c in section.children if not isinstance(c, nodes.title)]
                section.replace_self(content)


def only_citations(section: nodes.section) -> bool:
    """Whether ``section`` has citations and no text outside them (and its title)."""
    if not any(True for _ in section.findall(nodes.citation)):
        return False
    for paragraph in section.findall(nodes.paragraph):
        parent = paragraph.parent
        while parent is not None and not isinstance(parent, nodes.citation):
            parent = parent.parent
        if parent is None:
            return False
    return True


BIB_STYLE = "mbpm_author_year"


@functools.lru_cache(maxsize=1)
def _text_backend() -> Any:
    """pybtex's plain-text backend, found once: ``Text.render_as("text")`` looks the plugin up
    through the installed packages' entry points on every call (most of a rebuild's time)."""
    from pybtex.plugin import find_plugin

    return find_plugin("pybtex.backends", "text")()


def author_year(entry: object) -> str:
    """An entry's label as sphinxcontrib-bibtex's ``author_year`` citations print it.

    One author "Okabe, 2008", two "Vickers and Altman, 2001", more "Aygün et al., 2024".
    """
    people = entry.persons.get("author") or entry.persons.get("editor") or []  # type: ignore[attr-defined]
    text = _text_backend()
    names = [" ".join(part.render(text) for part in person.rich_last_names) for person in people]
    who = (names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2
           else f"{names[0]} et al." if names else entry.key)  # type: ignore[attr-defined]
    return f"{who}, {entry.fields.get('year', 'n.d.')}"  # type: ignore[attr-defined]


def register_author_year_style() -> None:
    """The bibliography's labels in the same author-year form as the citations (the default
    ``alpha`` style labels entries "Ayg24" while the text cites "Aygün et al., 2024").
    Entries with the same label get "a", "b" after the year."""
    import pybtex.plugin
    from pybtex.style.formatting.unsrt import Style as Unsrt
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries):  # noqa: ANN001, ANN202 - pybtex's interface
            entries = list(sorted_entries)
            labels = [author_year(e) for e in entries]
            counts = {label: labels.count(label) for label in labels}
            seen: dict[str, int] = {}
            for label in labels:
                if counts[label] > 1:
                    seen[label] = seen.get(label, 0) + 1
                    label = label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
                yield label

    class AuthorYear(Unsrt):
        default_label_style = BIB_STYLE
        default_sorting_style = "author_year_title"

    pybtex.plugin.register_plugin("pybtex.style.labels", BIB_STYLE, AuthorYearLabels)
    pybtex.plugin.register_plugin("pybtex.style.formatting", BIB_STYLE, AuthorYear)


#: Class of the dropdowns (``:class-container:``) that hold reference material.
REFERENCE_CLASS = "reference-material"
APPENDIX_TITLE = "Reference tables"


def source_file(node: nodes.Node) -> str:
    """The document a node of the assembled LaTeX doctree came from (its ``start_of_file``)."""
    parent = node.parent
    while parent is not None and not isinstance(parent, addnodes.start_of_file):
        parent = parent.parent
    return parent["docname"] if parent is not None else ""


class ReferenceMaterialToAppendix(SphinxPostTransform):
    """In the PDF, move reference material out of the running text into an appendix.

    Long reference tables (the simulation's parameters, the codebook, per-plate QC) sit in
    the website in folded dropdowns with the class :data:`REFERENCE_CLASS`. LaTeX has no
    folding, so each one moves, with its caption and label (cross-references still resolve),
    to a last chapter :data:`APPENDIX_TITLE` of the last part, before the bibliography.
    """

    # After sphinx-jupyterbook-latex made the parts (LatexRootDocPostTransforms, 700).
    default_priority = 800
    formats = ("latex",)

    def run(self, **kwargs: object) -> None:
        blocks = [n for n in self.document.findall(nodes.container)
                  if REFERENCE_CLASS in n.get("container_classes", [])]
        if not blocks:
            return
        appendix = nodes.section(ids=["reference-tables"], names=["reference tables"])
        appendix += nodes.title(APPENDIX_TITLE, APPENDIX_TITLE)
        for block in blocks:
            # Labels are written with the name of the file around them: keep the chapter's.
            docname = self.env.path2doc(block.source) if block.source else None
            wrapper = addnodes.start_of_file(docname=docname or source_file(block))
            block.parent.remove(block)
            wrapper += block
            appendix += wrapper
        self.last_part().append(appendix)

    def last_part(self) -> nodes.Element:
        """The section of the book's last part (its ``_toc.yml`` caption), else the document."""
        site_map = getattr(self.env, "external_site_map", None)
        root = site_map[site_map.root.docname] if site_map else None
        caption = root.subtrees[-1].caption if root and root.subtrees else None
        parts = [s for s in self.document.findall(nodes.section)
                 if caption and s.children and isinstance(s[0], nodes.title)
                 and s[0].astext().strip() == caption]
        return parts[-1] if parts else self.document


#: Extensions Jupyter Book loads that do not declare parallel-read safety although, for the
#: HTML builder, they are: sphinx-multitoc-numbering only replaces
#: TocTreeCollector.assign_section_numbers (run in the main process after reading), and
#: sphinx-jupyterbook-latex's read-phase transforms act on LaTeX builds only.
PARALLEL_SAFE_FOR_HTML = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


class ChartSpecToPdf(ImageConverter):
    """In the LaTeX build, each figure's PDF source file (``<sha256>-pdf-source.json``, placed
    by the myst-nb plugin ``mbpm.chart_pdf.ChartSpecRenderer``) becomes a vector PDF through
    vl-convert. The PDF's name is the source's hash, so an unchanged figure is not converted
    again by the next PDF build."""

    default_priority = 190  # before Sphinx's own converters (200)
    conversion_rules = [(chart_pdf.SPEC_MIME, "application/pdf")]

    def is_available(self) -> bool:
        return True  # vl-convert is one of mbpm's dependencies

    def guess_mimetypes(self, node: nodes.image) -> list[str]:
        if node["uri"].endswith(chart_pdf.SPEC_SUFFIX):
            return [chart_pdf.SPEC_MIME]
        return super().guess_mimetypes(node)

    def convert(self, source: str, destination: str) -> bool:
        target = Path(destination)
        if not target.exists():
            partial = target.with_suffix(".partial")
            partial.write_bytes(chart_pdf.to_pdf(Path(source).read_text(encoding="utf-8")))
            partial.replace(target)  # a build stopped halfway leaves no truncated PDF
        return True


def require_chart_pdf_plugin(app: Sphinx) -> None:
    """Stop a build whose environment lacks mbpm's myst-nb plugin (mbpm not installed, only on
    the path): the PDF would have no charts, and the website would warn about each one."""
    from myst_nb.core.render import load_mime_renders

    names = {f"{plugin.__module__}.{plugin.__qualname__}" for plugin in load_mime_renders()}
    if "mbpm.chart_pdf.ChartSpecRenderer" not in names:
        raise ExtensionError(
            "mbpm's myst-nb plugin for chart PDFs is not installed in this environment "
            "(entry point myst_nb.mime_renderers in pyproject.toml): run `pip install -e .` in "
            "the book's folder, or `make book`, which does.")


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


#: Seconds each chapter last took to execute (build folder): the longest run first next time.
SECONDS_FILE = ".execution-seconds.json"


def read_notebook(path: Path, env: Any) -> tuple[Any, dict | None] | None:
    """The notebook myst-nb's parser makes of ``path`` (``myst_nb.sphinx_.Parser.parse``: the
    same reader and configuration, the kernel name after ``nb_kernel_rgx_aliases``) and its
    reader's format for jupyter-cache; None when myst-nb would not execute it with the book's
    configuration (not a notebook, excluded, or with its own execution settings)."""
    import re
    from pathlib import PurePosixPath

    from myst_nb.core.read import create_nb_reader

    nb_config = env.mystnb_config
    text = path.read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
    if reader is None:
        return None
    notebook = reader.read(text)
    if nb_config.metadata_key in notebook.metadata or any(
            PurePosixPath(path.as_posix()).match(p) for p in nb_config.execution_excludepatterns):
        return None
    kernel = notebook.metadata.get("kernelspec", {}).get("name")
    for pattern, alias in (nb_config.kernel_rgx_aliases or {}).items():
        if kernel is not None and re.fullmatch(pattern, kernel):
            notebook.metadata["kernelspec"]["name"] = alias
            break
    return notebook, reader.read_fmt


def execute_notebook(notebook: Any, path: Path, nb_config: Any) -> Any:
    """Execute ``notebook`` in place as myst-nb's cache mode does
    (``myst_nb.core.execute.cache.NotebookClientCache.start_client``); jupyter-cache's
    ExecutionResult (``err`` set when a cell failed)."""
    from jupyter_cache.executors.utils import single_nb_execution

    if nb_config.execution_in_temp:
        raise ValueError("pre-execution runs in the notebook's folder (execute.run_in_temp: false)")
    return single_nb_execution(notebook, cwd=os.path.abspath(str(path.parent)),
                               allow_errors=nb_config.execution_allow_errors,
                               timeout=nb_config.execution_timeout, meta_override=True)


def execution_priority(docname: str, seconds: dict[str, float], first: list[str]) -> float:
    """How early ``docname`` is executed (highest first): the seconds it took last time; with no
    earlier time (an empty build folder), the pages of ``book_execute_first`` before the others,
    which keep the book's order.

    >>> sorted(["a", "b", "c"], key=lambda d: -execution_priority(d, {}, ["c"]))
    ['c', 'a', 'b']
    >>> sorted(["a", "b", "c"], key=lambda d: -execution_priority(d, {"a": 1.0, "b": 9.0}, []))
    ['c', 'b', 'a']
    """
    if docname in seconds:
        return seconds[docname]
    return float("inf") if docname in first else 1e9


def execute_stale_notebooks(app: Sphinx, env: Any, docnames: list[str]) -> None:
    """Execute the notebooks Sphinx is about to read that the execution cache does not hold,
    ``BOOK_JOBS`` (default 2) at a time, longest first, and cache each one that succeeds.

    myst-nb (``execute_notebooks: cache``) executes a stale notebook while Sphinx reads it, so in
    a cold build the chapters run one after the other in each reading process, in a fixed split
    of the page list. Here the same notebooks (:func:`read_notebook`) are executed the same way
    (:func:`execute_notebook`) and stored as myst-nb stores them: staged in the cache's project
    and cached with their ``execution_seconds``. jupyter-cache matches a notebook by the hash of
    its code cells and kernel, so myst-nb then uses these outputs; a notebook whose code differs
    from what was executed is simply executed again by myst-nb. A notebook that fails is not
    cached: myst-nb executes it again and fails the build with its usual report.
    """
    nb_config = env.mystnb_config
    jobs = int(os.environ.get("BOOK_JOBS", "2"))
    if nb_config.execution_mode != "cache" or nb_config.execution_in_temp or jobs < 2:
        return
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from jupyter_cache.cache.db import NbProjectRecord

    cache = get_cache(nb_config.execution_cache_path)
    stale = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        read = read_notebook(path, env) if path.suffix in (".md", ".ipynb") else None
        if read is None:
            continue
        try:
            cache.match_cache_notebook(read[0])
        except KeyError:
            stale.append((docname, path, *read))
    if len(stale) < 2:
        return  # myst-nb runs a single notebook itself, at the same cost
    seconds_file = Path(app.outdir).parent / SECONDS_FILE
    seconds = json.loads(seconds_file.read_text()) if seconds_file.exists() else {}
    stale.sort(key=lambda job: -execution_priority(job[0], seconds, app.config.book_execute_first))
    logger.info(f"[book_assets] executing {len(stale)} notebooks, {jobs} at a time")
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        running = {pool.submit(execute_notebook, nb, path, nb_config): (docname, path, nb, fmt)
                   for docname, path, nb, fmt in stale}
        for done in as_completed(running):
            docname, path, notebook, read_fmt = running[done]
            try:
                result = done.result()
            except Exception as error:  # a dead kernel, say: myst-nb will run it and report
                logger.info(f"[book_assets] {docname}: {error!r}; left to myst-nb")
                continue
            if result.err is not None:
                logger.info(f"[book_assets] {docname} failed; left to myst-nb to report")
                continue
            stage = (cache.add_nb_to_project(str(path), read_data=read_fmt) if read_fmt is not None
                     else cache.add_nb_to_project(str(path)))
            NbProjectRecord.remove_tracebacks([stage.pk], cache.db)
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, stage.uri, data={"execution_seconds": result.time}),
                check_validity=False, overwrite=True)
            seconds[docname] = round(result.time, 2)
            logger.info(f"[book_assets] executed {docname} in {result.time:.1f} s")
    seconds_file.write_text(json.dumps(seconds, indent=1, sort_keys=True) + "\n")
    logger.info(f"[book_assets] notebooks executed in {time.perf_counter() - start:.1f} s")


def _cache_dir(app: Sphinx) -> Path:
    """The execution cache folder (nb_execution_cache_path, relative to the book)."""
    cache_dir = Path(app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    return cache_dir if cache_dir.is_absolute() else Path(app.confdir) / cache_dir


def on_config_inited(app: Sphinx, config: Config) -> None:
    book_root = Path(app.confdir)
    build_root = Path(app.outdir).parent
    cache_dir = _cache_dir(app)
    # Chapters share one load of the data and one run of the plan per build (mbpm.cache);
    # the kernels inherit this variable. Its keys include the data's and mbpm's bytes and the
    # package versions; it is emptied together with the execution cache.
    results_cache = Path(os.environ.setdefault("MBPM_CACHE_DIR", str(build_root / ".mbpm_cache")))
    app.mbpm_inputs_changed = invalidate_stale_cache(book_root, cache_dir, also=(results_cache,))
    if config.book_strict:
        # What `--warningiserror --keep-going` does on the command line, carried by the config so
        # that a plain `jupyter-book build .` is as strict as `make book`: every warning is
        # reported, and the build ends with a non-zero status if there was any.
        app.keep_going = True

    static_dir = build_root / ".static"
    write_vega_bundle(static_dir)
    copy_mathjax(static_dir)
    write_book_css(static_dir)
    config.html_static_path = [*config.html_static_path, str(static_dir)]
    config.mathjax_path = f"{MATHJAX_DIR}/{MATHJAX_FILE}"
    # pydata-sphinx-theme logs a console error when no default colour mode is set.
    config.html_context = {"default_mode": "light", **config.html_context}
    if config.html_theme in ("sphinx_book_theme", "pydata_sphinx_theme"):
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
    app.add_config_value("book_strict", True, "env", [bool])
    app.add_config_value("book_execute_first", [], "", [list])
    register_author_year_style()
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", read_in_parallel)
    app.connect("builder-inited", require_chart_pdf_plugin)
    app.connect("env-before-read-docs", execute_stale_notebooks)
    app.connect("env-get-outdated", reread_all_after_toc_change)
    app.connect("build-finished", stamp_toc)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    app.connect("env-get-outdated", reread_all_if_inputs_changed)
    app.add_js_file(VEGA_BUNDLE)
    app.add_css_file(BOOK_CSS)
    app.connect("html-page-context", add_pdf_download, priority=600)
    app.add_post_transform(FoldEveryCodeCell)
    app.add_post_transform(DropCodeFromPrint)
    app.add_post_transform(NoEmptyReferencesChapter)
    app.add_post_transform(ReferenceMaterialToAppendix)
    app.add_post_transform(ChartSpecToPdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}


if __name__ == "__main__":  # pragma: no cover - a debugging aid
    print(json.dumps({"fingerprint": inputs_fingerprint(Path(os.getcwd()))}))
