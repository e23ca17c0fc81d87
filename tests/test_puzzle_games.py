"""Logic puzzles and planning: Sudoku, GraphColoring, KnightsKnaves, SatAssign, LightsOut,
GridPlan, BlocksWorld.

Each game's own solver is cross-checked against brute-force enumeration where the instance is
small enough, uniqueness is checked over many seeds, and game-specific exploit probes (the clues
unchanged, one colour everywhere, everyone a knight, all variables true, an empty plan, a plan
through a wall...) must earn nothing.
"""

from __future__ import annotations

import itertools
import time
from collections import deque

import pytest

from langgames.envs.blocks_world import BlocksWorld, _apply, _moves
from langgames.envs.graph_coloring import GraphColoring, colour_graph
from langgames.envs.grid_plan import _STEPS, GridPlan
from langgames.envs.knights_knaves import KnightsKnaves
from langgames.envs.lights_out import _LEVELS as LIGHTS_LEVELS
from langgames.envs.lights_out import LightsOut, nullity
from langgames.envs.sat_assign import SatAssign
from langgames.envs.sudoku import _SHAPES, Sudoku, count_solutions
from langgames.testing import check_game

GAMES = {
    "langgames/Sudoku-v0": Sudoku,
    "langgames/GraphColoring-v0": GraphColoring,
    "langgames/KnightsKnaves-v0": KnightsKnaves,
    "langgames/SatAssign-v0": SatAssign,
    "langgames/LightsOut-v0": LightsOut,
    "langgames/GridPlan-v0": GridPlan,
    "langgames/BlocksWorld-v0": BlocksWorld,
}


def play(game, action):
    _, reward, terminated, _, info = game.step(action)
    return reward, info["verdict"]["status"], info["verdict"]["reason"], terminated


# --------------------------------------------------------------------------- every game


@pytest.mark.parametrize("game_id", list(GAMES))
def test_conformance_kit(game_id):
    report = check_game(game_id, seeds=2, cross_process=False)
    assert report.passed, str(report)


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_reference_earns_the_maximum_at_every_level(cls):
    game = cls()
    for level in (1, 2, 3):
        for seed in range(8 if level < 3 else 3):
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


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_hostile_answers_are_fast_and_unrewarded(cls):
    game = cls()
    hostile = [
        "answer: " + "1 " * 50_000,
        "answer: " + "A1 " * 20_000,
        "answer: " + "R" * 200_000,
        "answer: " + "x1=1 " * 20_000,
        "answer: " + "Alice knight " * 10_000,
        "answer: " + "A->B, " * 20_000,
        "answer:\n" * 100_000,
        "answer: \\boxed{" * 10_000,
    ]
    for text in hostile:
        game.reset(seed=0)
        start = time.perf_counter()
        reward, status, _, _ = play(game, text)
        assert time.perf_counter() - start < 1.0
        assert reward <= 0.0 and status != "correct"


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_the_format_example_is_never_the_answer(cls):
    game = cls()
    for seed in range(60):
        obs, _ = game.reset(seed=seed)
        example = obs.split("e.g. `", 1)[1].split("`", 1)[0]
        assert example.startswith("answer: ")
        assert play(game, example)[0] < 1.0


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


def test_generation_speed():
    """Instances per second at the hardest level stay interactive."""
    for cls in GAMES.values():
        game = cls(difficulty=3)
        start = time.perf_counter()
        for seed in range(3):
            game.reset(seed=seed)
        assert (time.perf_counter() - start) / 3 < 1.5, cls.__name__
