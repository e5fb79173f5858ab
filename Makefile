# The two commands of the quick start:  make book  (website + PDF)  and  make test.
# Everything else is for authors: make html, make pdf, make refresh-reference, make lock, make clean.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB := $(BIN)/jupyter-book
PDF := _build/pdf/mbpm-oxytocin.pdf
# Debian packages the PDF build needs (XeLaTeX; see chapters/_ext/book_assets.py for the bbm stub).
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
                latexmk fonts-freefont-otf poppler-utils
TEX_PROBE := xelatex latexmk pdftotext

.PHONY: book html pdf test tex refresh-reference lock clean env

book: html pdf

env: $(STAMP)

# A venv with the locked packages and the mbpm package; redone when the lock or pyproject changes.
$(STAMP): requirements-lock.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (the book needs Python 3.11; set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

html: $(STAMP)
	$(JB) build . --builder html --warningiserror --nitpick --keep-going
	@echo "Website: _build/html/index.html"

# The PDF goes through XeLaTeX. Missing TeX is installed when we are root; otherwise we say how.
tex:
	@missing=""; for t in $(TEX_PROBE); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing the TeX packages the PDF needs (missing:$$missing) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES) >/dev/null; \
	  else \
	    echo "The PDF needs TeX (missing:$$missing). Install it with:"; \
	    echo "    sudo apt-get install -y --no-install-recommends $(TEX_PACKAGES)"; \
	    echo "then run: make pdf   (the website is already in _build/html/)"; \
	    exit 2; \
	  fi; \
	fi

pdf: $(STAMP) tex
	$(JB) build . --builder pdflatex --warningiserror --keep-going
	@mkdir -p _build/pdf && cp _build/latex/mbpm-oxytocin.pdf $(PDF)
	@echo "PDF: $(PDF)"

# The whole suite: unit tests, the chapters under nbval against their stored references,
# and the checks on the built site and PDF (these build the book first if needed).
test: $(STAMP) book
	$(BIN)/python -m pytest

# Accept a deliberate change of what the chapters report: re-execute them into tests/reference/.
refresh-reference: $(STAMP)
	$(BIN)/python tests/refresh_reference.py $(CHAPTERS)

# Re-resolve the newest versions allowed by pyproject.toml and pin them all.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check '.[book,test]'
	{ echo "# Exact versions of every package the book and its tests use (Python 3.11)."; \
	  echo "# Regenerate with: make lock   (resolves pyproject.toml's [book,test] extras in a fresh venv)"; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^mbpm'; } > requirements-lock.txt
	rm -rf .lock-venv
	@echo "requirements-lock.txt updated; review the diff, then make test"

clean:
	rm -rf _build
