"""The book's Sphinx extension: the execution cache follows mbpm/, the data and the lock."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "chapters" / "_ext"))
import book_assets  # noqa: E402


@pytest.fixture
def book(tmp_path, monkeypatch):
    root = tmp_path / "book"
    (root / "mbpm").mkdir(parents=True)
    (root / "mbpm" / "stats.py").write_text("x = 1\n")
    (root / "requirements-lock.txt").write_text("pandas==3.1.1\n")
    data = tmp_path / "data"
    data.mkdir()
    (data / "participants.csv").write_text("participant_id\nP001\n")
    monkeypatch.setenv("MBPM_DATA", str(data))
    cache = root / "_build" / ".jupyter_cache"
    return SimpleNamespace(root=root, data=data, cache=cache)


def fill(cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    (cache / "executed.ipynb").write_text("{}")


@pytest.mark.parametrize("edit", [
    lambda b: (b.root / "mbpm" / "stats.py").write_text("x = 2\n"),
    lambda b: (b.data / "participants.csv").write_text("participant_id\nP002\n"),
    lambda b: (b.data / "extra.csv").write_text("a\n"),
    lambda b: (b.root / "requirements-lock.txt").write_text("pandas==3.1.2\n"),
])
def test_cache_is_emptied_when_an_input_changes(book, edit):
    assert book_assets.invalidate_stale_cache(book.root, book.cache)  # first build
    fill(book.cache)
    assert not book_assets.invalidate_stale_cache(book.root, book.cache)
    assert (book.cache / "executed.ipynb").exists()  # nothing changed: cache kept
    edit(book)
    assert book_assets.invalidate_stale_cache(book.root, book.cache)
    assert not book.cache.exists()


def test_every_page_is_reread_after_a_change():
    env = SimpleNamespace(found_docs={"chapters/b", "chapters/a"})
    changed = SimpleNamespace(mbpm_inputs_changed=True, env=env)
    same = SimpleNamespace(mbpm_inputs_changed=False, env=env)
    assert book_assets.reread_all_if_inputs_changed(changed, env, set(), set(), set()) == [
        "chapters/a", "chapters/b"]
    assert book_assets.reread_all_if_inputs_changed(same, env, set(), set(), set()) == []


def tiny_book(tmp_path: Path, monkeypatch, text: str, strict: bool) -> int:
    """Build a one-page Sphinx project with the book's extension; return the exit status."""
    import io as text_io

    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(f"extensions = ['myst_nb', 'book_assets']\nnb_execution_mode = 'off'\n"
                                 f"book_strict = {strict}\n")
    (src / "index.md").write_text(text)
    monkeypatch.setenv("MBPM_CACHE_DIR", str(tmp_path / "results-cache"))
    app = Sphinx(str(src), str(src), str(tmp_path / "_build" / "html"),
                 str(tmp_path / "_build" / "doctrees"), "html", status=None,
                 warning=text_io.StringIO(), freshenv=True)
    app.build()
    return app.statuscode


@pytest.mark.parametrize(("text", "strict", "status"), [
    ("# Title\n\nAll fine.\n", True, 0),
    ("# Title\n\nA reference to {ref}`nowhere`.\n", True, 1),
    ("# Title\n\nA reference to {ref}`nowhere`.\n", False, 0),
])
def test_a_plain_build_fails_on_any_warning_when_the_config_says_strict(tmp_path, monkeypatch,
                                                                         text, strict, status):
    """`jupyter-book build .` without -W is as strict as `make book`: _config.yml's book_strict."""
    assert tiny_book(tmp_path, monkeypatch, text, strict) == status


def test_results_cache_is_emptied_with_the_execution_cache(book):
    results = book.root / "_build" / ".mbpm_cache"
    book_assets.invalidate_stale_cache(book.root, book.cache, also=(results,))
    fill(book.cache)
    results.mkdir(parents=True)
    (results / "study-x.pickle").write_bytes(b"old")
    assert not book_assets.invalidate_stale_cache(book.root, book.cache, also=(results,))
    assert (results / "study-x.pickle").exists()
    (book.root / "mbpm" / "stats.py").write_text("x = 3\n")
    assert book_assets.invalidate_stale_cache(book.root, book.cache, also=(results,))
    assert not results.exists() and not book.cache.exists()


# ---- the extension's smaller jobs ------------------------------------------------------------

def test_theme_options_drop_the_second_navbar_but_keep_the_user_s():
    """pydata-sphinx-theme 0.17 fills navbar_persistent unless the options name it."""
    assert book_assets.no_second_navbar({})["navbar_persistent"] == []
    assert book_assets.no_second_navbar({"navbar_persistent": ["x"]})["navbar_persistent"] == ["x"]


def test_bibliography_labels_read_like_the_author_year_citations():
    """Labels as sphinxcontrib-bibtex's author_year citations print them in the text
    ("[Aygün et al., 2024]" in chapters/intro.md's first paragraph)."""
    from pybtex.database import parse_string

    db = parse_string("""
        @article{a, author = {Okabe, Masataka}, year = {2008}, title = {t}}
        @article{b, author = {Vickers, A. J. and Altman, D. G.}, year = {2001}, title = {t}}
        @article{c, author = {Ayg{\\"u}n, O. and Mohr, E. and Duff, C.}, year = {2024}, title = {t}}
    """, "bibtex")
    labels = [book_assets.author_year(db.entries[k]) for k in "abc"]
    assert labels == ["Okabe, 2008", "Vickers and Altman, 2001", "Aygün et al., 2024"]


def test_a_section_of_only_citations_is_recognised():
    from docutils import nodes

    def section(*children):
        return nodes.section("", nodes.title("", "References"), *children)

    citation = nodes.citation("", nodes.label("", "x"), nodes.paragraph("", "An entry."))
    assert book_assets.only_citations(section(citation))
    assert not book_assets.only_citations(section(citation, nodes.paragraph("", "Some text.")))
    assert not book_assets.only_citations(section(nodes.paragraph("", "Some text.")))


def _code_cell(*tags: str, source: bool = True, hide_mode: str | None = None):
    from docutils import nodes

    cell = nodes.container(nb_element="cell_code", cell_metadata={"tags": list(tags)})
    if hide_mode:
        cell["hide_mode"] = hide_mode
    if source:
        cell += nodes.container(nb_element="cell_code_source")
    cell += nodes.container(nb_element="cell_code_output")
    return cell


def test_every_code_cell_is_folded_without_a_tag():
    """A new cell needs no hide-input tag to be folded in the website; show-input keeps a cell
    open, a cell whose source is removed has nothing to fold, a hide mode of its own stays."""
    from docutils import nodes

    cells = [_code_cell(), _code_cell("hide-input", hide_mode="input"), _code_cell("show-input"),
             _code_cell("remove-input", source=False), _code_cell(hide_mode="output")]
    document = nodes.section()
    document.extend(cells)
    assert book_assets.fold_code_cells(document, "Show {type}", "Hide {type}") == 1
    assert [c.get("hide_mode") for c in cells] == ["input", "input", None, None, "output"]
    assert cells[0]["prompt_show"] == "Show {type}" and cells[0]["prompt_hide"] == "Hide {type}"


def test_the_execution_cache_follows_the_build_output():
    """myst-nb hands a relative ``execute.cache`` to jupyter-cache unresolved, so it is relative
    to the working directory: a build of the book from another folder (``--path-output``, the
    second-study test) read another build's cache and showed that build's outputs. Without the
    key (or with an absolute path) the cache is ``<output>/_build/.jupyter_cache``, where
    :func:`book_assets.invalidate_stale_cache` looks for it."""
    import yaml

    execute = yaml.safe_load((Path(__file__).parent.parent / "_config.yml").read_text())["execute"]
    assert execute.get("cache") is None or Path(execute["cache"]).is_absolute()


def test_a_build_without_the_chart_pdf_plugin_stops_with_the_fix(monkeypatch):
    """Without mbpm's myst-nb entry point (mbpm only on the path, not installed) the PDF would
    have no charts: the build stops at once and says how to install it."""
    from myst_nb.core import render

    book_assets.require_chart_pdf_plugin(None)  # this environment has it
    monkeypatch.setattr(render, "load_mime_renders", lambda: [render.ExampleMimeRenderPlugin])
    with pytest.raises(book_assets.ExtensionError, match="pip install -e ."):
        book_assets.require_chart_pdf_plugin(None)


def test_a_chart_spec_file_becomes_its_pdf_once(tmp_path: Path):
    """ChartSpecToPdf.convert writes vl-convert's PDF of the spec file, and leaves a PDF that
    is already there (named by the spec's hash) as it is."""
    from mbpm import chart_pdf, figures

    source = tmp_path / f"chart{chart_pdf.SPEC_SUFFIX}"
    source.write_text(chart_pdf.pdf_source(
        {"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}},
        vl_version=figures.vega_lite_version()), encoding="utf-8")
    target = tmp_path / "chart.pdf"
    converter = book_assets.ChartSpecToPdf.__new__(book_assets.ChartSpecToPdf)
    assert converter.convert(str(source), str(target))
    assert target.read_bytes().startswith(b"%PDF")
    target.write_bytes(b"%PDF kept")
    assert converter.convert(str(source), str(target)) and target.read_bytes() == b"%PDF kept"
    assert converter.guess_mimetypes({"uri": source.name, "candidates": {"*": source.name}}) == [
        chart_pdf.SPEC_MIME]
