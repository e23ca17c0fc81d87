"""More logic puzzles: Nonogram, Cryptarithm, Futoshiki.

Each game's counting solver is cross-checked against an independent brute force (every grid row
by row, every digit assignment, every Latin square), uniqueness is checked over many seeds, the
candidate lists must not give the answer away to a question-blind rule, and game-specific exploit
probes (an all-empty or all-shaded grid, the clues echoed, one digit for every letter, a Latin
square that ignores the signs, partial answers...) must earn nothing.
"""

from __future__ import annotations

import functools
import itertools
import time

import numpy as np
import pytest

from langgames.envs.cryptarithm import Cryptarithm
from langgames.envs.cryptarithm import count_solutions as count_crypt
from langgames.envs.futoshiki import Futoshiki
from langgames.envs.futoshiki import count_solutions as count_futoshiki
from langgames.envs.nonogram import Nonogram, clues_of
from langgames.envs.nonogram import count_solutions as count_nonogram
from langgames.testing import check_game, check_question_blind

GAMES = {
    "langgames/Nonogram-v0": Nonogram,
    "langgames/Cryptarithm-v0": Cryptarithm,
    "langgames/Futoshiki-v0": Futoshiki,
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
        for seed in range(8 if level < 3 else 4):
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


@pytest.mark.parametrize("game_id", list(GAMES))
def test_candidates_are_question_blind(game_id):
    seeds = range(1_000_000_000, 1_000_000_060)
    results = check_question_blind(game_id, seeds=seeds, per_episode=1)
    assert set(results) == {f"self-play, difficulty {d}" for d in (1, 2, 3)}
    for name, scan in results.items():
        assert scan["passed"], f"{name}: {scan['detail']}"


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
        "answer: " + "A=1 " * 20_000,
        "answer: " + "." * 200_000,
        "answer: " + "9" * 200_000,
        "answer: " + "1<2 " * 20_000,
        "answer:\n" * 100_000,
        "answer: \\boxed{" * 10_000,
        "answer: __import__('os').system('echo hi')",
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


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_the_prompt_echoed_earns_nothing(cls):
    game = cls()
    for seed in range(10):
        obs, _ = game.reset(seed=seed)
        assert play(game, obs)[0] <= 0.0
        game.reset(seed=seed)
        assert play(game, "answer: " + obs.replace("\n", " "))[0] <= 0.0


@pytest.mark.parametrize("cls", list(GAMES.values()))
def test_generation_speed(cls):
    """Instances per second at the hardest level stay interactive."""
    game = cls(difficulty=3)
    start = time.perf_counter()
    for seed in range(5):
        game.reset(seed=seed)
    assert (time.perf_counter() - start) / 5 < 1.5, cls.__name__


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
