"""The shipped mapping files: the named importers are presets of the one machinery."""

from pathlib import Path

from .._errors import ImportMappingError

PRESETS = ("olist", "civ_stock")


def preset_path(name: str) -> Path:
    """The shipped mapping file of preset ``name`` (one of ``PRESETS``)."""
    if name not in PRESETS:
        raise ImportMappingError(f"no preset {name!r} (have: {', '.join(PRESETS)})")
    return Path(__file__).parent / "presets" / f"{name}.yaml"
