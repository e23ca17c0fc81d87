"""Logic puzzles and planning: Sudoku, Futoshiki, Nonogram, Cryptarithm, GraphColoring,
KnightsKnaves, SatAssign, LightsOut, GridPlan, BlocksWorld.

The checks every game shares are parametrised over all of them. Then each game's own solver is
cross-checked against brute-force enumeration where the instance is small enough (every grid row
by row, every digit assignment, every Latin square...), uniqueness is checked over many seeds, the
candidate lists must not give the answer away to a question-blind rule, and game-specific exploit
probes (the clues unchanged, one colour or one digit everywhere, everyone a knight, all variables
true, an empty plan, a plan through a wall, an all-shaded grid, a Latin square that ignores the
signs, partial answers...) must earn nothing.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections import deque

import numpy as np
import pytest

from langgames.envs.blocks_world import BlocksWorld, _apply, _moves
from langgames.envs.cryptarithm import Cryptarithm
from langgames.envs.cryptarithm import count_solutions as count_crypt
from langgames.envs.futoshiki import Futoshiki
from langgames.envs.futoshiki import count_solutions as count_futoshiki
from langgames.envs.graph_coloring import GraphColoring, colour_graph
from langgames.envs.grid_plan import _STEPS, GridPlan
from langgames.envs.knights_knaves import KnightsKnaves
from langgames.envs.lights_out import _LEVELS as LIGHTS_LEVELS
from langgames.envs.lights_out import LightsOut, nullity
from langgames.envs.nonogram import Nonogram, clues_of
from langgames.envs.nonogram import count_solutions as count_nonogram
from langgames.envs.sat_assign import SatAssign
from langgames.envs.sudoku import _SHAPES, Sudoku, count_solutions

GAMES = {
    "langgames/Sudoku-v0": Sudoku,
    "langgames/GraphColoring-v0": GraphColoring,
    "langgames/KnightsKnaves-v0": KnightsKnaves,
    "langgames/SatAssign-v0": SatAssign,
    "langgames/LightsOut-v0": LightsOut,
    "langgames/GridPlan-v0": GridPlan,
    "langgames/BlocksWorld-v0": BlocksWorld,
    "langgames/Nonogram-v0": Nonogram,
    "langgames/Cryptarithm-v0": Cryptarithm,
    "langgames/Futoshiki-v0": Futoshiki,
}
#: Games whose hardest level is cheap enough to play and time on more seeds here, and whose
#: candidate lists this file scans with the question-blind rules on seeds of its own (every
#: game's lists are also scanned in tests/test_question_blind.py).
DEEP = (Nonogram, Cryptarithm, Futoshiki)


def hard_seeds(cls, deep, other):
    return deep if cls in DEEP else other


def play(game, action):
    _, reward, terminated, _, info = game.step(action)
    return reward, info["verdict"]["status"], info["verdict"]["reason"], terminated


# --------------------------------------------------------------------------- every game


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_reference_earns_the_maximum_at_every_level(cls):
    game = cls()
    for level in (1, 2, 3):
        for seed in range(8 if level < 3 else hard_seeds(cls, 4, 3)):
            game.reset(seed=seed, options={"difficulty": level})
            reward, status, reason, terminated = play(game, game.reference_action())
            assert (reward, status, terminated) == (1.0, "correct", True), reason


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_seeded_and_deterministic(cls):
    a, b = cls(difficulty=2), cls(difficulty=2)
    prompts = set()
    for seed in (11, 12, 13):
        obs_a, _ = a.reset(seed=seed)
        obs_b, _ = b.reset(seed=seed)
        assert obs_a == obs_b and a.reference_action() == b.reference_action()
        assert a.candidate_actions() == b.candidate_actions()
        prompts.add(obs_a)
    assert len(prompts) == 3
    a.reset(seed=11)  # a reused env replays the same instance
    fresh = cls(difficulty=2)
    fresh.reset(seed=11)
    assert fresh.reference_action() == a.reference_action()


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_candidates_hold_exactly_one_right_answer(cls):
    game = cls()
    for seed in range(10):
        game.reset(seed=seed)
        options = game.candidate_actions()
        assert options is not None and 2 <= len(options) <= 6 and len(set(options)) == len(options)
        assert game.reference_action() in options
        wins = 0
        for option in options:
            game.reset(seed=seed)
            wins += play(game, option)[1] == "correct"
        assert wins == 1


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_the_reply_contract_reasoning_prose_and_crlf(cls):
    game = cls()
    game.reset(seed=5)
    answer = game.reference_action()
    wrapped = (
        "<think>answer: nonsense</think>Let me think.\r\nanswer: garbage first\r\n"
        f"{answer}\r\nThat should be it."
    )
    assert play(game, wrapped)[:2] == (1.0, "correct")
    game.reset(seed=5)
    bare = answer.split(":", 1)[1].strip()  # no marker at all: the last line is read
    assert play(game, f"My answer follows.\n{bare}")[:2] == (1.0, "correct")
    game.reset(seed=5)
    assert play(game, f"**{answer}**")[:2] == (1.0, "correct")


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_hostile_answers_are_fast_and_unrewarded(cls):
    game = cls()
    hostile = [
        "answer: " + "1 " * 50_000,
        "answer: " + "# " * 50_000,
        "answer: " + "A1 " * 20_000,
        "answer: " + "A=1 " * 20_000,
        "answer: " + "R" * 200_000,
        "answer: " + "." * 200_000,
        "answer: " + "9" * 200_000,
        "answer: " + "x1=1 " * 20_000,
        "answer: " + "1<2 " * 20_000,
        "answer: " + "Alice knight " * 10_000,
        "answer: " + "A->B, " * 20_000,
        "answer:\n" * 100_000,
        "answer: \\boxed{" * 10_000,
        "answer: __import__('os').system('echo hi')",
    ]
    for text in hostile:
        game.reset(seed=0)
        start = time.perf_counter()
        reward, status, _, _ = play(game, text)
        # A hang guard, not a speed target (that is benchmarks/perf.py): a quadratic scan of
        # these 200 kB replies takes minutes, a linear one milliseconds.
        assert time.perf_counter() - start < 10.0
        assert reward <= 0.0 and status != "correct"


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_the_format_example_is_never_the_answer(cls):
    game = cls()
    for seed in range(60):
        obs, _ = game.reset(seed=seed)
        example = obs.split("e.g. `", 1)[1].split("`", 1)[0]
        assert example.startswith("answer: ")
        assert play(game, example)[0] < 1.0


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_the_prompt_echoed_earns_nothing(cls):
    game = cls()
    for seed in range(10):
        obs, _ = game.reset(seed=seed)
        assert play(game, obs)[0] <= 0.0
        game.reset(seed=seed)
        assert play(game, "answer: " + obs.replace("\n", " "))[0] <= 0.0


# --------------------------------------------------------------------------- Sudoku


def _all_4x4_grids():
    shape = _SHAPES[1]
    grids = []
    for rows in itertools.product(itertools.permutations(range(1, 5)), repeat=4):
        cells = [v for row in rows for v in row]
        if count_solutions(cells, shape, limit=1)[0] == 1:
            grids.append(cells)
    return grids


def test_sudoku_uniqueness_against_brute_force_on_4x4():
    grids = _all_4x4_grids()
    assert len(grids) == 288  # the known number of 4x4 Sudoku grids
    game = Sudoku(difficulty=1)
    for seed in range(100):
        game.reset(seed=seed)
        fits = [g for g in grids if all(p in (0, v) for p, v in zip(game._puzzle, g, strict=True))]
        assert fits == [game._solution]


def test_sudoku_puzzles_are_unique_and_minimal_at_every_size():
    game = Sudoku()
    for level, seeds in ((2, 25), (3, 5)):
        for seed in range(seeds):
            game.reset(seed=seed, options={"difficulty": level})
            shape = game._shape
            assert count_solutions(game._puzzle, shape)[:2] == (1, game._solution)
            for i, v in enumerate(game._puzzle):  # every clue is needed
                if v:
                    fewer = list(game._puzzle)
                    fewer[i] = 0
                    assert count_solutions(fewer, shape)[0] == 2


def test_sudoku_difficulty_grows_with_clues_and_search_nodes():
    game = Sudoku()
    cells, nodes = {}, {}
    for level in (1, 2, 3):
        values = []
        for s in range(6):
            game.reset(seed=s, options={"difficulty": level})
            values.append((game.clues, game.search_nodes))
        cells[level] = sum(v[0] for v in values) / len(values)
        nodes[level] = sum(v[1] for v in values) / len(values)
    assert cells[1] < cells[2] < cells[3] and nodes[1] < nodes[2] < nodes[3]


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_sudoku_exploits():
    game = Sudoku(difficulty=2)
    for seed in range(10):
        game.reset(seed=seed)
        n = game._shape.size
        rows = [game._puzzle[r * n : (r + 1) * n] for r in range(n)]
        clues_only = " ".join("".join(str(v) if v else "." for v in row) for row in rows)
        assert play(game, f"answer: {clues_only}")[:2] == (0.0, "incorrect")
        game.reset(seed=seed)
        ones = " ".join("".join(str(v) if v else "1" for v in row) for row in rows)
        assert play(game, f"answer: {ones}")[:2] == (0.0, "incorrect")
        game.reset(seed=seed)
        wrong = next(o for o in game.candidate_actions() if o != game.reference_action())
        reward, status, reason, _ = play(game, wrong)  # a valid grid that ignores the clues
        assert (reward, status) == (0.0, "incorrect") and "given" in reason
        game.reset(seed=seed)
        short = game.reference_action()[:-1]
        assert play(game, short)[1] == "unparseable"
        game.reset(seed=seed)
        assert play(game, game.reference_action() + "7")[1] == "unparseable"
    game.reset(seed=0)
    assert play(game, "answer: " + "x" * 36)[1] == "unparseable"


# --------------------------------------------------------------------------- GraphColoring


def _brute_colourable(n, edges, k):
    return any(all(c[a] != c[b] for a, b in edges) for c in itertools.product(range(k), repeat=n))


def test_graph_colouring_chromatic_number_against_brute_force():
    game = GraphColoring(difficulty=1)
    for seed in range(40):
        game.reset(seed=seed)
        n, k, edges = game._n, game._k, game._edges
        assert _brute_colourable(n, edges, k) and not _brute_colourable(n, edges, k - 1)
    game = GraphColoring(difficulty=3)
    for seed in range(10):  # two search orders agree where brute force is too slow
        game.reset(seed=seed)
        n, k, edges = game._n, game._k, game._edges
        for dsatur in (True, False):
            assert colour_graph(n, edges, k, dsatur=dsatur)[0] is not None
            assert colour_graph(n, edges, k - 1, dsatur=dsatur)[0] is None


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_graph_colouring_exploits():
    game = GraphColoring(difficulty=2)
    for seed in range(20):
        game.reset(seed=seed)
        n, k = game._n, game._k
        assert play(game, "answer: " + " ".join(["1"] * n))[:2] == (0.0, "incorrect")
        game.reset(seed=seed)
        assert play(game, "answer: " + " ".join(["1"] * (n - 1)))[1] == "unparseable"
        game.reset(seed=seed)
        assert play(game, "answer: " + " ".join([str(k + 1)] * n))[1] == "unparseable"
        game.reset(seed=seed)
        relabelled = [k + 1 - c for c in game._solution]  # colour names are interchangeable
        assert play(game, "answer: " + " ".join(map(str, relabelled)))[0] == 1.0
        game.reset(seed=seed)
        pairs = " ".join(f"{v}={c}" for v, c in enumerate(game._solution, 1))
        assert play(game, f"answer: {pairs}")[0] == 1.0


def test_graph_colouring_difficulty_grows_with_search_nodes():
    game = GraphColoring()
    mean = {}
    for level in (1, 2, 3):
        nodes = []
        for seed in range(30):
            game.reset(seed=seed, options={"difficulty": level})
            nodes.append(game.search_nodes)
        mean[level] = sum(nodes) / len(nodes)
    assert mean[1] < mean[2] < mean[3]


# --------------------------------------------------------------------------- KnightsKnaves


def test_knights_knaves_unique_by_enumeration():
    game = KnightsKnaves()
    for level, seeds in ((1, 100), (2, 100), (3, 40)):
        for seed in range(seeds):
            game.reset(seed=seed, options={"difficulty": level})
            n = len(game._names)
            worlds = [
                w
                for w in itertools.product((True, False), repeat=n)
                if all(s.holds(w) == w[s.speaker] for s in game._statements)
            ]
            assert worlds == [game._world]


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_knights_knaves_exploits():
    game = KnightsKnaves(difficulty=2)
    for seed in range(30):
        game.reset(seed=seed)
        names = game._names
        for kind in ("knight", "knave"):
            game.reset(seed=seed)
            reward = play(game, "answer: " + ", ".join(f"{n} {kind}" for n in names))[0]
            assert reward == float(all(k == (kind == "knight") for k in game._world))
        game.reset(seed=seed)
        assert play(game, f"answer: {names[0]} knight")[1] == "unparseable"
        game.reset(seed=seed)
        both = ", ".join(f"{n} knight, {n} knave" for n in names)
        assert play(game, f"answer: {both}")[1] == "unparseable"
        game.reset(seed=seed)
        assert play(game, "answer: " + " ".join(names) + " knight")[1] == "unparseable"
    game.reset(seed=0)
    forms = "; ".join(
        f"{n} is a {'knight' if k else 'knave'}"
        for n, k in zip(game._names, game._world, strict=True)
    )
    assert play(game, f"answer: {forms}")[0] == 1.0


# --------------------------------------------------------------------------- SatAssign


def _models(n, clauses):
    return [
        list(w)
        for w in itertools.product((False, True), repeat=n)
        if all(any((lit > 0) == w[abs(lit) - 1] for lit in c) for c in clauses)
    ]


def test_sat_exactly_one_model_by_enumeration():
    game = SatAssign()
    for level, seeds in ((1, 60), (2, 25), (3, 3)):
        for seed in range(seeds):
            game.reset(seed=seed, options={"difficulty": level})
            assert _models(game._n, game.clauses) == [game._model]


def test_sat_signs_do_not_give_the_model_away():
    """Majority sign per variable (a cheap rule that reads only the signs) is near chance."""
    game = SatAssign(difficulty=3)
    agree = total = 0
    for seed in range(40):
        game.reset(seed=seed)
        for v in range(1, game._n + 1):
            signs = [lit > 0 for c in game.clauses for lit in c if abs(lit) == v]
            if signs and signs.count(True) != signs.count(False):
                agree += (signs.count(True) > signs.count(False)) == game._model[v - 1]
                total += 1
    assert 0.4 < agree / total < 0.65


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_sat_exploits():
    game = SatAssign(difficulty=2)
    for seed in range(30):
        for value in (0, 1):
            game.reset(seed=seed)
            reward = play(game, "answer: " + " ".join(f"x{v}={value}" for v in range(1, 10)))[0]
            assert reward == float(all(b == bool(value) for b in game._model))
        game.reset(seed=seed)
        assert play(game, "answer: x1=1 x2=0")[1] == "unparseable"
        game.reset(seed=seed)
        assert (
            play(game, "answer: x1=1 x1=0 " + " ".join(f"x{v}=1" for v in range(2, 10)))[1]
            == "unparseable"
        )
        game.reset(seed=seed)
        bits = "".join(str(int(b)) for b in game._model)
        assert play(game, f"answer: {bits}")[0] == 1.0
    game.reset(seed=0)
    assert play(game, "answer: " + " ".join(f"x{v}=1" for v in range(1, 11)))[1] == "unparseable"


# --------------------------------------------------------------------------- LightsOut


def test_lights_out_boards_have_unique_solutions():
    for level in LIGHTS_LEVELS.values():
        assert nullity(level.rows, level.cols) == 0
    game = LightsOut(difficulty=1)
    for seed in range(30):
        game.reset(seed=seed)
        cells = range(game._rows * game._cols)
        solutions = [
            s
            for size in range(len(cells) + 1)
            for s in itertools.combinations(cells, size)
            if game._apply(game._board, list(s)) == 0
        ]
        assert solutions == [tuple(game._presses)]


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_lights_out_exploits():
    game = LightsOut(difficulty=2)
    for seed in range(30):
        game.reset(seed=seed)
        every = " ".join(game._name(i) for i in range(game._rows * game._cols))
        assert play(game, f"answer: {every}")[0] == 0.0
        game.reset(seed=seed)
        assert play(game, "answer: none")[:2] == (0.0, "incorrect")
        game.reset(seed=seed)
        lit = [i for i in range(game._rows * game._cols) if game._board >> i & 1]
        reward = play(game, "answer: " + " ".join(game._name(i) for i in lit))[0]
        assert reward == float(lit == game._presses)
        game.reset(seed=seed)
        twice = game.reference_action() + " A1 A1"  # pressing twice undoes
        assert play(game, twice)[0] == 1.0
        game.reset(seed=seed)
        assert play(game, "answer: Z9")[1] == "unparseable"


# --------------------------------------------------------------------------- GridPlan


def _bfs_length(grid):
    """An independent BFS over (row, column, keys) for the optimal plan length."""
    n = len(grid)
    start = next((r, c) for r in range(n) for c in range(n) if grid[r][c] == "S")
    seen = {(start, frozenset())}
    queue = deque([(start, frozenset(), 0)])
    while queue:
        (r, c), keys, d = queue.popleft()
        if grid[r][c] == "G":
            return d
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            a, b = r + dr, c + dc
            if not (0 <= a < n and 0 <= b < n) or grid[a][b] == "#":
                continue
            cell = grid[a][b]
            if cell in "AB" and cell.lower() not in keys:
                continue
            nk = keys | {cell} if cell in "ab" else keys
            if ((a, b), nk) not in seen:
                seen.add(((a, b), nk))
                queue.append(((a, b), nk, d + 1))
    return None


def test_grid_plan_optimal_length_and_needed_doors():
    game = GridPlan()
    for level in (1, 2, 3):
        for seed in range(25):
            game.reset(seed=seed, options={"difficulty": level})
            assert _bfs_length(game._grid) == game.optimal_length
            doors = {ch for row in game._grid for ch in row if ch in "AB"}
            assert len(doors) == level - 1
            for door in doors:
                assert _bfs_length([row.replace(door, "#") for row in game._grid]) is None


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_grid_plan_exploits_and_partial_credit():
    game = GridPlan(difficulty=2)
    for seed in range(20):
        game.reset(seed=seed)
        assert play(game, "answer:")[1] == "unparseable"
        game.reset(seed=seed)
        plan = game._plan
        reward, status, _, _ = play(game, "answer: " + " ".join(plan + "LR"))
        # LR at the goal is invalid (a wall, the edge) or comes back: never the full score
        assert status != "correct" and reward < 1.0
        game.reset(seed=seed)
        n = len(game._grid)
        r, c = next((r, c) for r in range(n) for c in range(n) if game._grid[r][c] == "S")
        into = next(
            (m for m, (dr, dc) in _STEPS.items()
             if not (0 <= r + dr < n and 0 <= c + dc < n) or game._grid[r + dr][c + dc] == "#"),
            None,
        )  # fmt: skip
        if into is not None:
            reward, status, reason, _ = play(game, f"answer: {into} {' '.join(plan)}")
            assert (reward, status) == (0.0, "incorrect") and ("wall" in reason or "grid" in reason)
        game.reset(seed=seed)
        assert play(game, "answer: " + " ".join(reversed(plan)))[0] < 1.0
    # a detour that stays valid earns optimal/length
    game.reset(seed=0)
    plan = game._plan
    back = {"U": "D", "D": "U", "L": "R", "R": "L"}[plan[0]]
    detour = plan[0] + back + plan
    reward, status, _, _ = play(game, "answer: " + detour)
    assert status == "incorrect" and reward == pytest.approx(len(plan) / len(detour))


# --------------------------------------------------------------------------- BlocksWorld


def test_blocks_world_optimal_length_by_exhaustive_search():
    game = BlocksWorld(difficulty=1)
    for seed in range(30):
        game.reset(seed=seed)
        best = game.optimal_length
        frontier = {game._start}
        for _ in range(best - 1):  # no shorter plan reaches the goal
            assert game._goal not in frontier
            frontier = {_apply(s, m) for s in frontier for m in _moves(s)} - {None}
        assert game._goal not in frontier


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_blocks_world_exploits_and_partial_credit():
    game = BlocksWorld(difficulty=2)
    for seed in range(20):
        game.reset(seed=seed)
        assert play(game, "answer:")[1] == "unparseable"
        game.reset(seed=seed)
        bottom = next(s[0] for s in game._start if len(s) > 1)
        reward, status, reason, _ = play(game, f"answer: {bottom}->table")
        assert (reward, status) == (0.0, "incorrect") and "not legal" in reason
        game.reset(seed=seed)
        assert play(game, "answer: Z->table")[1] == "unparseable"
        # Unstack everything, then build the goal: valid, but longer than the shortest plan.
        game.reset(seed=seed)
        steps = [f"{b}->table" for s in game._start for b in reversed(s[1:])]
        steps += [f"{s[i]}->{s[i - 1]}" for s in game._goal for i in range(1, len(s))]
        reward, status, _, _ = play(game, "answer: " + ", ".join(steps))
        assert reward == pytest.approx(game.optimal_length / len(steps))
        assert (status == "correct") == (len(steps) == game.optimal_length)
    game.reset(seed=1)
    words = game.reference_action().replace("->table", " onto the table").replace("->", " on ")
    assert play(game, words.replace("answer: ", "answer: move "))[0] == 1.0


# --------------------------------------------------------------------------- Nonogram


@functools.cache
def _lines(n):
    return list(itertools.product((0, 1), repeat=n))


def _brute_nonograms(rows, cols):
    """Every grid whose rows fit the row clues (each row from all 2^n lines), checked by columns."""
    n = len(cols)
    options = [[line for line in _lines(n) if clues_of(line) == clue] for clue in rows]
    found = []
    for choice in itertools.product(*options):
        if all(clues_of([row[c] for row in choice]) == cols[c] for c in range(n)):
            found.append([v for row in choice for v in row])
            if len(found) > 2:
                break
    return found


def test_nonogram_uniqueness_against_brute_force():
    game = Nonogram()
    for level, seeds in ((1, 150), (2, 30)):
        for seed in range(seeds):
            game.reset(seed=seed, options={"difficulty": level})
            assert _brute_nonograms(game._rows, game._cols) == [game._solution]


def test_nonogram_counting_solver_agrees_with_brute_force_on_random_clues():
    """Random small grids, unique or not: the solver's count (capped at 2) is the true one."""
    rng = np.random.default_rng(7)
    counts = set()
    for _ in range(300):
        n = int(rng.integers(3, 6))
        cells = [int(v) for v in rng.random(n * n) < rng.uniform(0.2, 0.7)]
        rows = [clues_of(cells[r * n : (r + 1) * n]) for r in range(n)]
        cols = [clues_of(cells[c::n]) for c in range(n)]
        truth = min(len(_brute_nonograms(rows, cols)), 2)
        assert count_nonogram(rows, cols)[0] == truth
        counts.add(truth)
    assert counts == {1, 2}
    assert count_nonogram([(3,), ()], [(1,), (1,)])[0] == 0


def test_nonogram_unique_at_level_3():
    game = Nonogram(difficulty=3)
    for seed in range(40):
        game.reset(seed=seed)
        count, first, _, _ = count_nonogram(game._rows, game._cols, limit=3)
        assert (count, first) == (1, game._solution)


def test_nonogram_difficulty_grows_with_solver_effort():
    game = Nonogram()
    steps = {}
    for level in (1, 2, 3):
        values = []
        for seed in range(20):
            game.reset(seed=seed, options={"difficulty": level})
            values.append(game.line_steps)
        steps[level] = sum(values) / len(values)
    assert steps[1] < steps[2] < steps[3]


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_nonogram_exploits():
    game = Nonogram(difficulty=2)
    for seed in range(20):
        game.reset(seed=seed)
        n = game._n
        for fill in "#.":
            game.reset(seed=seed)
            assert play(game, "answer: " + " ".join([fill * n] * n))[:2] == (0.0, "incorrect")
        game.reset(seed=seed)  # the row clues echoed as digits: not a grid
        clues = " ".join(" ".join(map(str, c)) or "0" for c in game._rows)
        assert play(game, f"answer: {clues}")[0] <= 0.0
        game.reset(seed=seed)  # a decoy: the solution rotated or reflected
        wrong = next(o for o in game.candidate_actions() if o != game.reference_action())
        reward, status, reason, _ = play(game, wrong)
        assert (reward, status) == (0.0, "incorrect") and "clue" in reason
        game.reset(seed=seed)
        assert play(game, game.reference_action()[:-1])[1] == "unparseable"
        game.reset(seed=seed)
        assert play(game, game.reference_action() + "#")[1] == "unparseable"
        game.reset(seed=seed)  # 1/0 spelling and separators are read the same
        bits = game.reference_action().replace("#", "1").replace(".", "0").replace(" ", "/")
        assert play(game, bits)[0] == 1.0
    game.reset(seed=0)
    reward, status, reason, _ = play(game, "answer: " + "x" * 49)
    assert status == "unparseable" and "not a cell" in reason


# --------------------------------------------------------------------------- Cryptarithm


@functools.cache
def _assignments(k):
    return np.array(list(itertools.permutations(range(10), k)), dtype=np.int8)


def _brute_cryptarithm(addends, total):
    """Every injective digit assignment, vectorised: the assignments that make the sum true."""
    letters = sorted(set("".join([*addends, total])))
    table = _assignments(len(letters))
    index = {c: i for i, c in enumerate(letters)}

    def value(word):
        out = np.zeros(len(table), dtype=np.int64)
        for c in word:
            out = out * 10 + table[:, index[c]].astype(np.int64)
        return out

    ok = sum(value(w) for w in addends) == value(total)
    for word in [*addends, total]:
        if len(word) > 1:
            ok &= table[:, index[word[0]]] != 0
    return [dict(zip(letters, map(int, row), strict=True)) for row in table[ok][:3]]


def test_cryptarithm_uniqueness_against_brute_force():
    game = Cryptarithm()
    for level, seeds in ((1, 60), (2, 8), (3, 3)):
        for seed in range(seeds):
            game.reset(seed=seed, options={"difficulty": level})
            assert _brute_cryptarithm(game._addends, game._total) == [game._solution]


def test_cryptarithm_counting_solver_agrees_with_brute_force():
    """Random letter sums, unique or not: the solver's count (capped at 2) is the true one."""
    rng = np.random.default_rng(3)
    counts = set()
    for k in range(300):
        if k % 2:  # random letters: mostly no solution or many
            words = [
                "".join(rng.choice(list("ABCDEF"), size=int(rng.integers(1, 4)))) for _ in "xyz"
            ]
        else:  # a true sum of random numbers, digits coded as letters: at least one solution
            numbers = [int(rng.integers(1, 10 ** int(rng.integers(1, 4)))) for _ in "xy"]
            code = dict(zip("0123456789", rng.permutation(list("ABCDEFGHIJ")), strict=True))
            words = ["".join(code[d] for d in str(x)) for x in [*numbers, sum(numbers)]]
        *addends, total = words
        truth = len(_brute_cryptarithm(addends, total))
        assert count_crypt(addends, total)[0] == min(truth, 2), words
        counts.add(min(truth, 2))
    assert counts == {0, 1, 2}


def test_cryptarithm_unique_over_many_seeds():
    game = Cryptarithm()
    for level, seeds in ((2, 20), (3, 10)):
        for seed in range(60, 60 + seeds):
            game.reset(seed=seed, options={"difficulty": level})
            count, first, _ = count_crypt(game._addends, game._total, limit=3)
            assert (count, first) == (1, game._solution)


def test_cryptarithm_difficulty_grows_with_letters_and_search_nodes():
    game = Cryptarithm()
    letters, nodes = {}, {}
    for level in (1, 2, 3):
        values = []
        for seed in range(20):
            game.reset(seed=seed, options={"difficulty": level})
            values.append((game.letters, game.search_nodes))
        letters[level] = sum(v[0] for v in values) / len(values)
        nodes[level] = sum(v[1] for v in values) / len(values)
    assert letters[1] < letters[2] < letters[3] and nodes[1] < nodes[2] < nodes[3]


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_cryptarithm_exploits():
    game = Cryptarithm(difficulty=2)
    for seed in range(20):
        game.reset(seed=seed)
        letters = sorted(game._solution)
        for digit in (0, 1, 9):  # one digit for every letter
            game.reset(seed=seed)
            same = " ".join(f"{k}={digit}" for k in letters)
            assert play(game, f"answer: {same}")[:2] == (0.0, "incorrect")
        game.reset(seed=seed)  # partial answer
        partial = " ".join(f"{k}={game._solution[k]}" for k in letters[:-1])
        reward, status, reason, _ = play(game, f"answer: {partial}")
        assert status == "unparseable" and letters[-1] in reason
        game.reset(seed=seed)  # a letter given twice (a hedge)
        hedge = game.reference_action() + f" {letters[0]}={(game._solution[letters[0]] + 1) % 10}"
        assert play(game, hedge)[1] == "unparseable"
        game.reset(seed=seed)  # a letter not in the puzzle
        stray = next(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in game._solution)
        assert play(game, game.reference_action() + f" {stray}=5")[1] == "unparseable"
        game.reset(seed=seed)  # the equation echoed
        equation = " + ".join(game._addends) + " = " + game._total
        assert play(game, f"answer: {equation}")[1] == "unparseable"
        game.reset(seed=seed)  # a multi-digit "digit"
        big = game.reference_action().replace(f"{letters[0]}=", f"{letters[0]}=1", 1)
        assert play(game, big)[1] == "unparseable"
        game.reset(seed=seed)  # a decoy: a wrong bijection
        wrong = next(o for o in game.candidate_actions() if o != game.reference_action())
        assert play(game, wrong)[:2] == (0.0, "incorrect")
        game.reset(seed=seed)  # lower case, colons, commas, any order are read the same
        pairs = [f"{k.lower()}: {game._solution[k]}" for k in reversed(letters)]
        assert play(game, "answer: " + ", ".join(pairs))[0] == 1.0


def test_cryptarithm_leading_zero_is_wrong():
    """A true sum whose total starts with 0 is still wrong (the rules forbid leading zeros)."""
    assert count_crypt(["AB", "A"], "AB")[0] == 0  # only 0B + 0 = 0B would add up
    assert count_crypt(["A", "A"], "A")[:2] == (1, {"A": 0})  # a one-digit number may be 0
    game = Cryptarithm(difficulty=1)
    for seed in range(20):
        game.reset(seed=seed)
        lead = game._total[0]
        zero = next((k for k, v in game._solution.items() if v == 0), None)
        if zero is None:
            continue
        swapped = dict(game._solution)
        swapped[lead], swapped[zero] = 0, swapped[lead]
        text = "answer: " + " ".join(f"{k}={v}" for k, v in swapped.items())
        reward, status, reason, _ = play(game, text)
        assert (reward, status) == (0.0, "incorrect")


# --------------------------------------------------------------------------- Futoshiki


@functools.cache
def _latin_squares(n):
    """Every n x n Latin square (n <= 5), flat, built row by row from all permutations."""
    perms = np.array(list(itertools.permutations(range(1, n + 1))), dtype=np.int8)
    squares = perms[:, None, :]  # (count, rows so far, n)
    for _ in range(n - 1):
        clash = (squares[:, :, None, :] == perms[None, None, :, :]).any(axis=(1, 3))
        which, perm = np.nonzero(~clash)
        squares = np.concatenate([squares[which], perms[perm][:, None, :]], axis=1)
    return squares.reshape(len(squares), n * n)


def _fitting_squares(game):
    """Every Latin square that keeps the givens and obeys the signs (vectorised filter)."""
    squares = _latin_squares(game._n)
    ok = np.ones(len(squares), dtype=bool)
    for i, v in enumerate(game._puzzle):
        if v:
            ok &= squares[:, i] == v
    for a, b in game._less:
        ok &= squares[:, a] < squares[:, b]
    return [[int(v) for v in row] for row in squares[ok]]


def test_futoshiki_uniqueness_against_brute_force():
    assert len(_latin_squares(4)) == 576 and len(_latin_squares(5)) == 161_280
    game = Futoshiki()
    for level, seeds in ((1, 150), (2, 40)):
        for seed in range(seeds):
            game.reset(seed=seed, options={"difficulty": level})
            assert _fitting_squares(game) == [game._solution]


def test_futoshiki_puzzles_are_unique_and_minimal():
    game = Futoshiki()
    for level, seeds in ((2, 15), (3, 6)):
        for seed in range(seeds):
            game.reset(seed=seed, options={"difficulty": level})
            n, puzzle, less = game._n, game._puzzle, game._less
            assert count_futoshiki(puzzle, less, n)[:2] == (1, game._solution)
            for i, v in enumerate(puzzle):  # every given is needed
                if v:
                    fewer = list(puzzle)
                    fewer[i] = 0
                    assert count_futoshiki(fewer, less, n)[0] == 2
            for k in range(len(less)):  # every sign is needed
                assert count_futoshiki(puzzle, less[:k] + less[k + 1 :], n)[0] == 2


def test_futoshiki_difficulty_grows_with_search_nodes():
    game = Futoshiki()
    nodes = {}
    for level in (1, 2, 3):
        values = []
        for seed in range(10):
            game.reset(seed=seed, options={"difficulty": level})
            values.append(game.search_nodes)
        nodes[level] = sum(values) / len(values)
    assert nodes[1] < nodes[2] < nodes[3]


def test_futoshiki_rendering_matches_the_signs():
    """Read the signs back from the prompt grid: the text shows exactly the puzzle's signs."""
    game = Futoshiki(difficulty=3)
    for seed in range(10):
        game.reset(seed=seed)
        n, lines = game._n, game._render()
        read = set()
        for r in range(n):
            row = lines[2 * r].ljust(4 * n)
            for c in range(n - 1):
                sign = row[4 * c + 2]
                a, b = r * n + c, r * n + c + 1
                if sign != " ":
                    read.add((a, b) if sign == "<" else (b, a))
            if r < n - 1:
                marks = lines[2 * r + 1].ljust(4 * n)
                for c in range(n):
                    sign = marks[4 * c]
                    a, b = r * n + c, (r + 1) * n + c
                    if sign != " ":
                        read.add((a, b) if sign == "^" else (b, a))
        assert read == set(game._less)


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_futoshiki_exploits():
    game = Futoshiki(difficulty=2)
    for seed in range(20):
        game.reset(seed=seed)
        n, puzzle = game._n, game._puzzle
        rows = [puzzle[r * n : (r + 1) * n] for r in range(n)]
        givens_only = " ".join("".join(str(v) if v else "." for v in row) for row in rows)
        assert play(game, f"answer: {givens_only}")[:2] == (0.0, "incorrect")
        game.reset(seed=seed)
        ones = " ".join("".join(str(v) if v else "1" for v in row) for row in rows)
        assert play(game, f"answer: {ones}")[:2] == (0.0, "incorrect")
        game.reset(seed=seed)
        wrong = next(o for o in game.candidate_actions() if o != game.reference_action())
        reward, status, reason, _ = play(game, wrong)  # a Latin square that breaks the puzzle
        assert (reward, status) == (0.0, "incorrect")
        assert "given" in reason or "smaller" in reason
        game.reset(seed=seed)
        assert play(game, game.reference_action()[:-1])[1] == "unparseable"
        game.reset(seed=seed)
        assert play(game, game.reference_action() + "1")[1] == "unparseable"
        game.reset(seed=seed)
        assert play(game, "answer: " + "6" * 25)[1] == "unparseable"
    # A Latin square that keeps the givens but breaks a sign is named as such.
    game = Futoshiki(difficulty=1)
    for seed in range(40):
        game.reset(seed=seed)
        keeps_givens = [
            [int(v) for v in s]
            for s in _latin_squares(4)
            if all(g in (0, v) for g, v in zip(game._puzzle, s, strict=True))
        ]
        broken = next((s for s in keeps_givens if s != game._solution), None)
        if broken is not None:
            text = "answer: " + " ".join(
                "".join(map(str, broken[r * 4 : r * 4 + 4])) for r in range(4)
            )
            reward, status, reason, _ = play(game, text)
            assert (reward, status) == (0.0, "incorrect") and "smaller" in reason
            break
    else:
        pytest.fail("no instance with a sign-breaking square found")


@pytest.mark.parametrize(
    ("game", "module", "search"),
    [
        (Cryptarithm, "langgames.envs.cryptarithm", "count_solutions"),
        (SatAssign, "langgames.envs.sat_assign", "count_models"),
    ],
    ids=["Cryptarithm", "SatAssign"],
)
def test_a_replayed_seed_reuses_its_draw_and_plays_the_same_episode(
    game, module, search, monkeypatch
):
    """The draw cache: a seed replayed (every policy of a benchmark or an audit replays them) is
    the same episode as a fresh draw, down to the generator's state after the reset, and runs no
    uniqueness search. A different level or seed is a different draw."""
    import importlib

    mod = importlib.import_module(module)
    searches = []
    counting = getattr(mod, search)
    monkeypatch.setattr(mod, search, lambda *a, **k: searches.append(1) or counting(*a, **k))

    def episode(env, seed, level):
        observation, _ = env.reset(seed=seed, options={"difficulty": level})
        played = [observation, env.reference_action(), env.candidate_actions()]
        played.append(env.step("answer: nonsense")[0])
        return played, int(env.np_random.integers(0, 2**62))

    env = game()
    for level in (1, 2):
        mod._DRAWS.clear()
        fresh = episode(env, 11, level)
        searched = len(searches)
        assert searched > 0
        assert episode(game(), 11, level) == fresh
        assert len(searches) == searched  # the replay searched nothing
    assert episode(env, 11, 1) != episode(env, 12, 1) and episode(env, 11, 1) != fresh
