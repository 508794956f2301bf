"""``twinlock schema``: the JSON Schema of compositions, for editors and CI validation."""

from __future__ import annotations

from importlib import resources

from twinlock.spec.schema import SCHEMA_FILE, schema_text


def composition_schema_text() -> str:
    """The schema twinlock ships (``twinlock/data/composition.schema.json``)."""
    return schema_text()


def shipped_schema_text() -> str:
    """The file in the installed package (a test keeps it equal to the generated one)."""
    return (resources.files("twinlock") / "data" / SCHEMA_FILE).read_text(encoding="utf-8")
