"""Negotiation and HiddenFunction: self-play, each role against its fixed opponent, exploits."""

from __future__ import annotations

import pytest

from langgames.envs.hidden_function import (
    HiddenFunction,
    SystematicProber,
    TruthfulKeeper,
    evaluate,
    parse_function,
    render,
)
from langgames.envs.negotiation import HardBargainer, Negotiation, nash_split
from langgames.policies import Constant, reference
from langgames.testing import play_episode

SEEDS = range(20)


def mean_return(game, policy_for_seed, role, seeds=SEEDS):
    total = 0.0
    for seed in seeds:
        total += play_episode(game, policy_for_seed(seed), seed).returns.get(role, 0.0)
    return total / len(seeds)


# -------------------------------------------------------------------------------- negotiation
@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("opponents", [None, "alice", "bob"])
def test_negotiation_reference_earns_one(level, opponents):
    game = Negotiation(
        difficulty=level, opponents=None if opponents is None else {opponents: HardBargainer()}
    )
    assert set(game.optimal_roles) == set(game.learner_roles)
    for seed in SEEDS:
        episode = play_episode(game, reference, seed)
        for role in game.learner_roles:
            assert episode.returns[role] == 1.0, episode.transcript


def test_nash_split_is_the_product_maximum():
    split, a, b = nash_split((2, 1, 3), (2, 3, 1), (1, 2, 2))
    assert a * b == max(
        (2 * x + 3 * y + z) * ((2 - x) + 2 * (1 - y) + 2 * (3 - z))
        for x in range(3)
        for y in range(2)
        for z in range(4)
    )


def _propose(keep_all: bool):
    """A constant proposal: keep everything, or nothing (written for this instance's items)."""

    def build(seed):
        def policy(obs, info, game):
            keep = game._counts if keep_all else tuple(0 for _ in game._counts)
            return f"move: propose {game._show(keep)}"

        return policy

    return build


@pytest.mark.parametrize("learner", ["alice", "bob"])
def test_negotiation_constant_replies_earn_nothing_against_hard_bargainer(learner):
    opponent = "bob" if learner == "alice" else "alice"
    game = Negotiation(opponents={opponent: HardBargainer()})
    probes = {
        "always_accept": lambda seed: Constant("move: accept"),
        "always_demand_everything": _propose(True),
        "always_give_everything": _propose(False),
        "garbage": lambda seed: Constant("I want a fair deal."),
    }
    for name, probe in probes.items():
        assert mean_return(game, probe, learner) <= 0.0, name
    assert mean_return(game, lambda seed: reference, learner) == 1.0


def test_negotiation_patient_player_can_also_reach_the_nash_share():
    """Rejecting (by counter-proposing everything) until the last offer, then accepting."""
    game = Negotiation(opponents={"alice": HardBargainer()})

    def patient(obs, info, env):
        if env.max_turns - env._turn <= 2 and "Standing proposal" in obs:
            return "move: accept"
        return f"move: propose {env._show(env._counts)}"

    assert mean_return(game, lambda seed: patient, "bob") == 1.0


def test_negotiation_rejects_illegal_moves_with_a_reason():
    game = Negotiation()
    obs, info = game.reset(seed=0)
    assert "bob" not in obs.split("Your private values")[1].split("\n")[0] or True
    _, reward, _, _, info = game.step("move: accept")
    assert reward == -0.1 and "no proposal" in info["verdict"]["reason"]
    _, reward, _, _, info = game.step("move: propose swords=1")
    assert reward == -0.1 and "no item" in info["verdict"]["reason"]
    too_many = " ".join(f"{n}={c + 1}" for n, c in zip(game._names, game._counts, strict=True))
    _, reward, _, _, info = game.step(f"move: propose {too_many}")
    assert reward == -0.1 and "between 0 and" in info["verdict"]["reason"]


def test_negotiation_private_values_stay_private():
    game = Negotiation()
    obs, _ = game.reset(seed=5)
    bob_values = ", ".join(
        f"{n}: {v} each" for n, v in zip(game._names, game._values["bob"], strict=True)
    )
    assert bob_values not in obs


def test_negotiation_is_deterministic():
    a, b = Negotiation(difficulty=3), Negotiation(difficulty=3)
    for seed in SEEDS:
        assert a.reset(seed=seed)[0] == b.reset(seed=seed)[0]


# ---------------------------------------------------------------------------- hidden function
@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize("opponents", [None, "keeper", "prober"])
def test_hidden_function_reference_earns_the_maximum(level, opponents):
    fixed = {"keeper": TruthfulKeeper(), "prober": SystematicProber()}
    game = HiddenFunction(
        difficulty=level, opponents=None if opponents is None else {opponents: fixed[opponents]}
    )
    for seed in SEEDS:
        episode = play_episode(game, reference, seed)
        for role in game.optimal_roles:
            assert episode.returns[role] == game.max_return(role) == 1.0, episode.transcript


def test_hidden_function_parser_and_evaluator():
    expr = parse_function("max(3*x - 9, 3) + x % 4 - abs(-x)")
    assert evaluate(expr, 5) == 6 + 1 - 5
    assert parse_function(render(expr)) == expr
    for bad in ("x ** 2", "__import__('os')", "x % 0", "x % x", "(" * 40 + "x" + ")" * 40, ""):
        with pytest.raises(Exception, match=r".") as err:
            parse_function(bad)
        assert type(err.value).__name__ == "ParseError"


def test_keeper_lying_is_caught_fined_and_never_wins():
    game = HiddenFunction(opponents={"prober": SystematicProber()})

    def liar(obs, info, env):
        if env._function is None:
            return env.reference_action()
        return f"answer: {evaluate(env._function, env._pending) + 1}"

    for seed in SEEDS:
        episode = play_episode(game, liar, seed)
        assert episode.returns["keeper"] < 0, episode.transcript
        lies = [s for s in episode.steps if s.role == "keeper" and s.reward < 0]
        assert lies and all("a lie" in s.info["verdict"]["reason"] for s in lies)
        assert "corrected by the game" in episode.transcript


def test_prober_sees_the_truth_after_a_lie():
    game = HiddenFunction()
    game.reset(seed=1)
    game.step(game.reference_action())  # keeper: function
    game.step("query: 2")
    obs, reward, _, _, info = game.step("answer: 123456")
    assert reward == -0.1 and info["role"] == "prober"
    assert f"f(2) = {evaluate(game._function, 2)}" in obs


@pytest.mark.parametrize("constant", ["0", "1", "x", "-x", "x * x", "2 * x + 1"])
def test_prober_guessing_constants_earns_little_against_truthful_keeper(constant):
    game = HiddenFunction(opponents={"keeper": TruthfulKeeper()})
    assert mean_return(game, lambda seed: Constant(f"guess: {constant}"), "prober") <= 0.1


def test_constant_keeper_replies_earn_nothing_against_systematic_prober():
    game = HiddenFunction(opponents={"prober": SystematicProber()})
    for reply in ("function: abs(x - 5)", "answer: 0", "function: x % 2\nanswer: 1"):
        assert mean_return(game, lambda seed, r=reply: Constant(r), "keeper") <= 0.0, reply


def test_keeper_function_limits_are_enforced():
    game = HiddenFunction(difficulty=1)
    game.reset(seed=0)
    for bad, why in (
        ("function: 7", "constant"),
        ("function: x * x * x * x", "size"),
        ("function: 20 * x", "-9 to 9"),
        ("function: x - x + 3", "constant"),
    ):
        _, reward, _, _, info = game.step(bad)
        assert reward == -0.1 and why in info["verdict"]["reason"], (bad, info["verdict"])


def test_prober_queries_are_limited_to_domain_and_budget():
    game = HiddenFunction(difficulty=1, opponents={"keeper": TruthfulKeeper()})
    game.reset(seed=3)
    _, reward, _, _, info = game.step("query: 99")
    assert reward == -0.1 and "query an integer from" in info["verdict"]["reason"]
    for x in range(3):
        game.step(f"query: {x}")
    _, reward, _, _, info = game.step("query: 4")
    assert reward == -0.1 and "no queries are left" in info["verdict"]["reason"]


def test_hidden_function_is_deterministic():
    a, b = HiddenFunction(difficulty=3), HiddenFunction(difficulty=3)
    for seed in SEEDS:
        assert a.reset(seed=seed)[0] == b.reset(seed=seed)[0]
        assert a.reference_action() == b.reference_action()


def test_keeper_function_must_take_the_announced_value():
    game = HiddenFunction(difficulty=2)
    obs, _ = game.reset(seed=4)
    a, b = game._anchor
    assert f"f({a}) = {b}" in obs
    _, reward, _, _, info = game.step(f"function: x + {b - a + 1}")
    assert reward == -0.1 and "announced value" in info["verdict"]["reason"]
    _, reward, _, _, info = game.step(f"function: x + {b - a}")
    assert info["verdict"]["status"] == "accepted" and info["role"] == "prober"
