"""Demo data: a realistic synthetic business, identical for the same seed, size and date."""

from domain.demo.archetypes import INTENDED_STAGE, Archetype
from domain.demo.errors import DatabaseNotEmptyError, DemoDataError
from domain.demo.service import DemoSummary, classify, generate

__all__ = [
    "INTENDED_STAGE",
    "Archetype",
    "DatabaseNotEmptyError",
    "DemoDataError",
    "DemoSummary",
    "classify",
    "generate",
]
