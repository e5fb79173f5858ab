# The two commands of the quick start:  make book  (website + PDF)  and  make test.
# Everything else is for authors: make html, make pdf, make refresh-reference, make lock, make clean,
# make system-packages (the Debian packages of both, as root).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JB := $(BIN)/jupyter-book
PDF := _build/pdf/mbpm-oxytocin.pdf
# The Debian packages the book needs, in one place (.ci/run and the GitHub workflow use these
# targets too). The PDF needs XeLaTeX (see chapters/_ext/book_assets.py for the bbm stub); the
# tests need Chromium (the browser test; nothing is downloaded by Playwright) and poppler.
TEX_PACKAGES := texlive-xetex texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
                latexmk fonts-freefont-otf poppler-utils
TEX_PROBE := xelatex latexmk pdftotext
TEST_PACKAGES := chromium poppler-utils
TEST_PROBE := chromium pdftotext

.PHONY: book html pdf test tex test-packages system-packages refresh-reference lock clean env

book: html pdf

env: $(STAMP)

# A venv with the locked packages and the mbpm package; redone when the lock or pyproject changes.
$(STAMP): requirements-lock.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (the book needs Python 3.11; set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

# `make html` is exactly `jupyter-book build .`: the strictness (every warning fails the build,
# nitpicky references) is in _config.yml, so the plain command builds the same book.
html: $(STAMP)
	$(JB) build . --builder html
	@echo "Website: _build/html/index.html"

# Install Debian packages when commands are missing: as root, with apt; otherwise print the one
# command to run and stop. $(call ensure,WHAT,PROBE COMMANDS,PACKAGES,HINT)
define ensure
	@missing=""; for t in $(2); do command -v $$t >/dev/null || missing="$$missing $$t"; done; \
	missing="$${missing# }"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing the Debian packages for $(1) (missing: $$missing) ..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(3) >/dev/null; \
	  else \
	    echo "Missing Debian packages for $(1) (no $$missing): sudo apt-get install -y --no-install-recommends $(3)$(4)"; \
	    exit 2; \
	  fi; \
	fi
endef

tex:
	$(call ensure,the PDF,$(TEX_PROBE),$(TEX_PACKAGES),   (the website is already in _build/html/; then: make pdf))

test-packages:
	$(call ensure,the tests,$(TEST_PROBE),$(TEST_PACKAGES),   (then: make test))

system-packages: tex test-packages

# The PDF goes through XeLaTeX (`jupyter-book build . --builder pdflatex`); it is also copied into
# the website, which links it from every page.
pdf: $(STAMP) tex
	$(JB) build . --builder pdflatex
	@mkdir -p _build/pdf && cp _build/latex/mbpm-oxytocin.pdf $(PDF)
	@if [ -d _build/html ]; then cp $(PDF) _build/html/mbpm-oxytocin.pdf; fi
	@echo "PDF: $(PDF)"

# The whole suite: unit tests, the chapters under nbval against their stored references,
# and the checks on the built site and PDF (these read the `make book` output in _build/).
# On one process per core (pytest-xdist), each test file on one worker (its module fixtures, such
# as the browser or the parsed PDF, are made once; the cells of a reference notebook share its
# kernel), the longest files first (tests/conftest.py); a build of another data folder that two
# files use is made once (tests/book_builds.py). It ends with the 25 slowest tests (issue 15).
TEST_JOBS ?= auto
test: $(STAMP) test-packages book
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder --durations=25

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
