"""What the provenance chapter (``chapters/provenance.md``) quotes about the data folder: its
name, number of files, checksum, whether it is simulated, and the generator's seed.
Keys are the chapter's glue names (``prov_...``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def findings(data: Mapping[str, Any]) -> dict[str, Any]:
    """From :func:`mbpm.provenance.data_facts` (name, files, checksum, simulated, seed,
    generator_version)."""
    seed = (f"The generator's seed was {data['seed']} (generator version "
            f"{data['generator_version']})." if data["simulated"] else
            "No simulation seed applies.")
    return {"prov_data_name": data["name"], "prov_data_files": data["files"],
            "prov_data_checksum": data["checksum"],
            "prov_data_kind": "a simulated cohort" if data["simulated"] else "a real export",
            "prov_seed_sentence": seed}
