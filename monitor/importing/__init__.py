"""CSV exports → CloudEvents JSONL through declarative YAML mapping files.

``load_mapping`` reads and checks a mapping, ``run_import`` applies it; the named importers
(Olist, Côte d'Ivoire stock) are shipped mappings found by ``preset_path``.
"""

from ._loader import load_mapping
from ._mapping import Mapping
from ._presets import PRESETS, preset_path
from ._run import ImportReport, Progress, default_rejects_path, run_import

__all__ = [
    "PRESETS",
    "ImportReport",
    "Mapping",
    "Progress",
    "default_rejects_path",
    "load_mapping",
    "preset_path",
    "run_import",
]
