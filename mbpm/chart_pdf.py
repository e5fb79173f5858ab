"""Figures in the PDF: each chart reaches the LaTeX build as its Vega-Lite spec (the CONSORT
diagram as its SVG drawing), and only the LaTeX build turns it into a vector PDF, once per figure.

Executing a chapter writes no PDF: the chart renderer (:func:`mbpm.figures.render`) puts the
finished spec in the output under :data:`SPEC_MIME` (:func:`pdf_source`), beside the website's
``text/html``; ``trial_report.ConsortFigure`` puts its drawing there (:func:`svg_pdf_source`).
vl-convert takes 0.4-1 s per chart (the first one in a process also starts its JavaScript
engine), which every execution paid when the PDF was part of the output, although only the PDF
build uses it.

The two halves, both light to import (no pandas, no Altair; vl-convert at the first PDF):

* :class:`ChartSpecRenderer`, a myst-nb MIME renderer plugin (entry point
  ``myst_nb.mime_renderers`` in pyproject.toml): when Sphinx reads a chapter, it stores each
  source as a file ``<sha256>-pdf-source.json`` (named by its text) beside the chapter's outputs and places an image
  node for it. myst-nb then keeps, per builder, one MIME type of each output: ``text/html`` for
  the website, the spec's image for LaTeX (:data:`ChartSpecRenderer.mime_priority_overrides`).
* ``ChartSpecToPdf`` in ``chapters/_ext/book_assets.py``, a Sphinx image converter: in the
  LaTeX build it writes :func:`to_pdf` of each source file it meets.

>>> source = pdf_source({"mark": "point"}, vl_version="v5.20")
>>> json.loads(source)["vl_version"]
'v5.20'
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

from mbpm.lazy import lazy_module

vl_convert = lazy_module("vl_convert")

#: The output MIME type that carries a chart's spec to the PDF build (JSON text, not a JSON
#: MIME type, so that nbval compares it as text, its numbers within floating-point noise).
SPEC_MIME = "application/vnd.mbpm.vegalite-pdf-source"
#: How a PDF source file's name ends (``<sha256 of the text>-pdf-source.json``).
SPEC_SUFFIX = "-pdf-source.json"
#: Points per inch of the PDF image; 72 keeps chart sizes in the PDF equal to those on screen.
#: LaTeX scales a chart wider than the text down to the text width (``\\sphinxincludegraphics``),
#: so a chart of ``figures.COLUMN_WIDTH`` px prints at the text width, still as vectors.
PDF_SCALE = 1.0


def pdf_source(spec: dict[str, Any], vl_version: str) -> str:
    """The text :func:`to_pdf` turns into a PDF: the spec and the Vega-Lite version to compile
    it with, as sorted JSON (the same spec gives the same text, so the same file name)."""
    return json.dumps({"spec": spec, "vl_version": vl_version}, sort_keys=True)


def svg_pdf_source(svg: str) -> str:
    """The text :func:`to_pdf` turns into the PDF of an SVG drawing."""
    return json.dumps({"svg": svg}, sort_keys=True)


def to_pdf(source: str) -> bytes:
    """Vector PDF of a :func:`pdf_source` or :func:`svg_pdf_source` text through vl-convert (no
    browser, no network), with the book's fonts."""
    payload = json.loads(source)
    register_fonts()
    if "svg" in payload:
        return vl_convert.svg_to_pdf(payload["svg"])
    return vl_convert.vegalite_to_pdf(payload["spec"], vl_version=payload["vl_version"],
                                      scale=PDF_SCALE)


_fonts_registered = False


def register_fonts() -> None:
    """Give vl-convert the DejaVu fonts that matplotlib ships, so text renders on any machine.

    The folder is ``matplotlib.get_data_path()`` (``mpl-data`` beside matplotlib's
    ``__init__.py``), found without importing matplotlib (a few tenths of a second)."""
    global _fonts_registered
    if _fonts_registered:
        return
    spec = importlib.util.find_spec("matplotlib")
    data = Path(spec.origin).with_name("mpl-data")  # type: ignore[union-attr, arg-type]
    vl_convert.register_font_directory(str(data / "fonts" / "ttf"))
    _fonts_registered = True


class ChartSpecRenderer:
    """myst-nb MIME renderer plugin (``myst_nb.core.render.MimeRenderPlugin``) for
    :data:`SPEC_MIME`: the source becomes an image file that the LaTeX build converts to PDF."""

    #: LaTeX takes the spec (myst-nb's own image types have priorities 10-30, text/plain 60);
    #: HTML never does (it is not in HTML's list, and ``text/html`` is always there).
    mime_priority_overrides = [("latex", SPEC_MIME, 5)]

    @staticmethod
    def handle_mime(renderer: Any, data: Any, inline: bool) -> list | None:
        """An image node for the source file (written once; named by its content's hash)."""
        if data.mime_type != SPEC_MIME:
            return None
        from docutils import nodes

        text = data.content if isinstance(data.content, str) else "".join(data.content)
        name = hashlib.sha256(text.encode("utf-8")).hexdigest() + SPEC_SUFFIX
        uri = renderer.write_file([name], text.encode("utf-8"), overwrite=False, exists_ok=True)
        return [nodes.image(uri=uri)]
