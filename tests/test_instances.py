"""Registry-wide: every game draws hundreds to thousands of distinct instances at every level.

With ``N`` equally likely instances, ``n`` draws repeat about ``n^2 / 2N`` times; 100 draws with at
most 10 repeats put ``N`` at about 500 or more (fewer if the draw is uneven). Most games are far
above that (no repeat in 300 draws); the small ones are the easiest levels (BaseConvert and
LightsOut at level 1) and HiddenFunction (9 repeats in 100 draws at levels 2 and 3, about 250
distinct in 300). A game that repeats itself teaches a policy to memorise,
and its held-out seeds are not held out. This test replaces the per-game copies each game's tests
used to carry. The seeds are fixed, so the count is deterministic.
"""

from __future__ import annotations

import pytest
from conftest import FULL, depths

import langgames
from langgames.registry import make_game

#: Games whose instances come from a data set: their count is the data set's, not a generator's.
DATA_GAMES = {"langgames/MathQA-v0", "langgames/CodeTests-v0"}


@pytest.mark.parametrize("depth", depths())
@pytest.mark.parametrize(
    "game_id", sorted(set(langgames.game_ids()) - DATA_GAMES), ids=lambda v: v.split("/")[-1]
)
def test_thousands_of_distinct_instances_per_level(game_id, depth):
    """Full depth (CI): 100 seeds per level, at most 10 repeats. Smoke: 10 seeds, at most 1."""
    n, allowed = (100, 10) if depth == FULL else (10, 1)
    env = make_game(game_id)
    try:
        for level in env.game_info.difficulty_levels:
            prompts = [env.reset(seed=s, options={"difficulty": level})[0] for s in range(n)]
            repeats = len(prompts) - len(set(prompts))
            assert repeats <= allowed, f"{game_id} level {level}: {repeats} repeats in {n} draws"
    finally:
        env.close()
