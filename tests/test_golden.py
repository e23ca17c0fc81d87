"""Golden transcripts: seeded episodes of every game, stored as text and replayed.

Any change to what a model sees shows up as a diff here. After an intended change (which also
needs a new game version, see CONTRIBUTING.md), regenerate with:

    LANGGAMES_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

import langgames
from langgames.testing import golden_path, golden_transcript

GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.mark.parametrize("game_id", langgames.game_ids())
def test_golden_transcript(game_id):
    path = golden_path(game_id, GOLDEN)
    text = golden_transcript(game_id)
    if os.environ.get("LANGGAMES_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"no golden transcript for {game_id}: run with LANGGAMES_UPDATE_GOLDEN=1")
    stored = path.read_text(encoding="utf-8")
    if text != stored:
        diff = "".join(
            difflib.unified_diff(
                stored.splitlines(True), text.splitlines(True), "stored", "now", n=2
            )
        )
        pytest.fail(f"{game_id} changed what a model sees:\n{diff[:4000]}")


def test_every_golden_file_belongs_to_a_registered_game():
    ids = {golden_path(g, GOLDEN).name for g in langgames.game_ids()}
    assert {p.name for p in GOLDEN.glob("*.txt")} <= ids
