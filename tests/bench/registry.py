"""What the benches measure, read from the project's registries, so a new source or entity is benched
(and smoke-tested) without touching the benches."""

from __future__ import annotations

import importlib

from connectors.registry import SOURCES
from ops.pipeline import SOURCE_DWD_SPECS
from spark_jobs.entity_spec import EntitySpec

__all__ = ["SOURCES", "dwd_entity_specs"]


def dwd_entity_specs() -> list[EntitySpec]:
    """Every DWD entity built from a spec, in the pipeline's order (ops.pipeline's list of them, until a
    single entity registry replaces it: then only this function changes)."""
    return [importlib.import_module(f"spark_jobs.{entity}").SPEC for entity in SOURCE_DWD_SPECS]
