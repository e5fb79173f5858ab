"""The CONSORT 2025 checklist appendix (chapters/consort.md, mbpm/consort2025.yml).

The checklist must list every item and sub-item of the statement, each with a status, and every
place it says the book answers an item must exist: the data file is checked by
:func:`mbpm.trial_report.load_checklist`, the built page by :func:`checklist_problems` (every
row has a status of the vocabulary, every link in the table leads to a page and an id that exist).
Each check is shown to fail on a planted error.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import book_html
from mbpm import trial_report
from mbpm.trial_report import ChecklistError, load_checklist

#: The items and sub-items of CONSORT 2025 in the order of the statement's checklist (Hopewell
#: et al., BMJ 2025;389:e081123, Table 1), typed from the statement, not from consort2025.yml.
CONSORT_2025 = ("1a 1b 2 3 4 5a 5b 6 7 8 9 10 11 12a 12b 13 14 15 16a 16b 17a 17b 18 19 20a 20b "
                "21a 21b 21c 21d 22a 22b 23a 23b 24a 24b 25 26 27 28 29 30").split()
PAGE = "chapters/consort.html"
TABLE_ID = "tbl-consort"


def test_the_checklist_has_every_item_of_the_statement_in_order():
    assert [item.id for item in load_checklist()] == CONSORT_2025


def test_every_entry_has_a_status_and_a_place_in_the_book():
    for item in load_checklist():
        assert item.status in trial_report.STATUSES, item.id
        assert item.where, item.id


def _planted(tmp_path: Path, edit) -> Path:
    doc = yaml.safe_load(trial_report.CHECKLIST_FILE.read_text(encoding="utf-8"))
    edit({str(e["id"]): e for entries in doc["sections"].values() for e in entries}, doc)
    path = tmp_path / "consort2025.yml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _drop_item(doc: dict, item_id: str) -> None:
    for entries in doc["sections"].values():
        entries[:] = [e for e in entries if str(e["id"]) != item_id]


PLANTED = {
    "no status": (lambda items, doc: items["21c"].pop("status"), "item 21c: status"),
    "unknown status": (lambda items, doc: items["7"].update(status="done"), "item 7: status"),
    "stated without a source": (lambda items, doc: items["6"].pop("source"), "item 6: a stated"),
    "no place in the book": (lambda items, doc: items["25"].update(where=[]), "item 25: 'where'"),
    "item missing": (lambda items, doc: _drop_item(doc, "27"), r"items \[27\] are missing"),
    "item twice": (lambda items, doc: doc["sections"]["Results"].append(dict(items["25"])),
                   "item 25 appears twice"),
}


@pytest.mark.parametrize("name", PLANTED)
def test_a_planted_error_in_the_checklist_fails(tmp_path: Path, name: str):
    edit, message = PLANTED[name]
    with pytest.raises(ChecklistError, match=message):
        load_checklist(_planted(tmp_path, edit))


def test_every_computed_value_exists():
    """A ``value`` of the checklist that checklist_values does not compute would raise a
    KeyError while the chapter runs; list them here without running the analysis."""
    import inspect

    source = inspect.getsource(trial_report.checklist_values)
    missing = [i.id for i in load_checklist() if i.value and f'"{i.value}":' not in source]
    assert not missing, f"items whose value is never computed: {missing}"


# ---- the built page ---------------------------------------------------------------------------

def checklist_problems(html_dir: Path, page_html: str | None = None) -> list[str]:
    """What is wrong with the checklist table of the built page: a row count other than the
    statement's, a row without a status of :data:`mbpm.trial_report.STATUSES`, or a link that
    leads to a missing page or a missing id. ``page_html`` replaces the page's text (to plant
    errors)."""
    from bs4 import BeautifulSoup

    text = page_html if page_html is not None else (html_dir / PAGE).read_text(encoding="utf-8")
    table = BeautifulSoup(text, "html.parser").find("table", id=TABLE_ID)
    if table is None:
        return [f"{PAGE}: no table #{TABLE_ID}"]
    rows = table.select("tbody tr")
    problems = [] if len(rows) == len(CONSORT_2025) else [
        f"{len(rows)} rows, CONSORT 2025 has {len(CONSORT_2025)} entries"]
    anchors: dict[str, set[str]] = {}
    for row in rows:
        cells = row.find_all("td")
        item = cells[0].get_text(strip=True)
        if not any(cells[-1].get_text(" ", strip=True).startswith(s)
                   for s in trial_report.STATUSES.values()):
            problems.append(f"item {item}: no status ({cells[-1].get_text(strip=True)!r})")
        links = [a["href"] for a in row.find_all("a", href=True)]
        if not links:
            problems.append(f"item {item}: no link to where the book answers it")
        for url in links:
            target, fragment = book_html.resolve(PAGE, url)
            if not (html_dir / target).is_file():
                problems.append(f"item {item}: {url} leads to a missing page")
                continue
            if target not in anchors:
                anchors[target] = book_html.ids(book_html.soup(html_dir / target))
            if fragment and fragment not in anchors[target]:
                problems.append(f"item {item}: {url} leads to a missing id")
    return problems


@pytest.mark.book
def test_the_built_checklist_has_statuses_and_working_links(html_dir: Path):
    assert not checklist_problems(html_dir)


@pytest.mark.book
def test_the_page_check_fails_on_a_planted_error(html_dir: Path):
    text = (html_dir / PAGE).read_text(encoding="utf-8")
    head, table = text.split(f'id="{TABLE_ID}"', 1)

    def planted(old: str, new: str) -> list[str]:
        assert old in table, old
        return checklist_problems(html_dir, head + f'id="{TABLE_ID}"' + table.replace(old, new, 1))

    assert any("missing id" in p for p in planted("#methods-trial-facts", "#no-such-section"))
    assert any("no status" in p for p in planted("<p>not available</p>", "<p></p>"))
    assert any("missing page" in p
               for p in planted('href="estimands.html#', 'href="no-such-page.html#'))
