"""Shared test fixtures: where the seeds, the shared corpora and the shipped models live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
DATA = ROOT / "data"
MODELS = ROOT / "models"
#: The labelled corpora, read in place from ../shared/data (never copied into the repo).
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"shared corpora not found at {SHARED_DATA}: clone the project beside ../shared")
    return SHARED_DATA
