"""``--write-anonymised DIR``: the anonymised training data as Parquet, with a manifest.

Only what the model reads is written: the anonymised text columns and the target. Other columns are not
anonymised by the stage, so they are left out rather than copied raw. The manifest names the source by
its SHA-256, lists each entity's operator, whether it anonymises or only pseudonymises (GDPR Recital 26),
and the spans replaced and still found by the rescan. It never holds a key or a raw value. Both files
are written under temporary names and renamed, the manifest last.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from auditor.anonymise.evidence import AnonymisationSection

DATA_FILE = "anonymised.parquet"
MANIFEST = "manifest.json"


def write_anonymised(
    directory: Path, frame: pd.DataFrame, columns: list[str], section: AnonymisationSection, source_sha256: str
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame[columns].astype("str"), preserve_index=False)
    temporary = directory / f".{DATA_FILE}.tmp"
    pq.write_table(table, temporary)
    manifest = {
        "source_sha256": source_sha256,
        "rows": len(frame),
        "columns": columns,
        "anonymised_columns": section.columns,
        "operators": [
            {
                "entity": u.entity,
                "operator": u.operator,
                "effect": u.effect,
                "replaced": u.replaced,
                "residual": u.residual,
            }
            for u in section.operators
        ],
        "replaced": section.replaced,
        "residual": section.residual,
        "residual_direct": section.residual_direct,
        "rows_with_residual": section.rows_with_residual,
        "pseudonymised": section.pseudonymised,
        "note": "Pseudonymised data is still personal data (GDPR Recital 26); hashing and encryption pseudonymise.",
    }
    os.replace(temporary, directory / DATA_FILE)
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    (directory / f".{MANIFEST}.tmp").write_text(text, encoding="utf-8")
    os.replace(directory / f".{MANIFEST}.tmp", directory / MANIFEST)
