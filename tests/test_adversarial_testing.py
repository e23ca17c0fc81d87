"""BugHunt: a coder and a tester, both grounded by running code in the sandbox."""

from __future__ import annotations

import re

import pytest

import langgames.envs.adversarial_testing as bughunt
from langgames import policies
from langgames.envs.adversarial_testing import (
    MAX_ABS,
    MAX_INPUTS,
    MAX_LENGTH,
    BuggyCoder,
    BugHunt,
    parse_inputs,
)
from langgames.envs.code_breaker import CodeBreaker
from langgames.errors import InvalidArgument
from langgames.policies import RandomText, exploit_probes
from langgames.testing import play_episode


def at_tester(seed: int = 0, difficulty: int = 1, program: str | None = None) -> BugHunt:
    """A game where the coder has submitted ``program`` (default: the reference)."""
    env = BugHunt(difficulty=difficulty)
    env.reset(seed=seed)
    action = env.reference_action() if program is None else program
    _, _, _, _, info = env.step(action)
    assert info["role"] == "tester", info["verdict"]
    return env


def reference_with(env: BugHunt, prelude: str) -> str:
    """The reference program with ``prelude`` (indented lines) run first."""
    source = env._reference_program()
    head, body = source.split("\n", 1)
    return f"```python\n{head}\n{prelude}\n{body}```"


def wrong_on_777(env: BugHunt, what: str = "return None") -> str:
    return reference_with(env, f"    if xs == [7, 7, 7]:\n        {what}")


# ----------------------------------------------------------------------------- conformance
def test_reference_roles_and_max_return_follow_the_view():
    assert BugHunt.game_info.reference_roles == ("coder",)
    self_play = BugHunt()
    assert self_play.optimal_roles == ("coder",)
    assert (self_play.max_return("coder"), self_play.max_return("tester")) == (1.0, 0.0)
    against_bugs = BugHunt(opponents={"coder": BuggyCoder()})
    assert against_bugs.optimal_roles == ("tester",)
    assert against_bugs.max_return("tester") == 1.0
    # Against a fixed tester the coder's reference is still optimal.
    coder_learns = BugHunt(opponents={"tester": lambda obs, info, game: "inputs: [[1]]"})
    assert coder_learns.optimal_roles == ("coder",)


# ----------------------------------------------------------------------------- the rules
def test_a_correct_program_earns_the_coder_1_and_the_tester_nothing():
    env = at_tester(seed=3, difficulty=2)
    _, reward, terminated, _, info = env.step("inputs: [[], [1, 2, 3], [-30, 30, 0, 5]]")
    assert terminated and reward == 0.0
    assert info["rewards"] == {"tester": 0.0, "coder": 1.0}
    assert info["verdict"]["status"] == "incorrect"


def test_a_discrepancy_earns_the_tester_1_and_costs_the_coder_its_point():
    env = BugHunt()
    env.reset(seed=5)
    env.step(wrong_on_777(env))
    assert env._hidden_passed  # the bug hides from the hidden tests ...
    _, reward, terminated, _, info = env.step("inputs: [[1, 2]]")
    assert info["rewards"] == {"tester": 0.0, "coder": 1.0}  # ... and from this tester
    env.reset(seed=5)
    env.step(wrong_on_777(env))
    _, reward, terminated, _, info = env.step(
        "I suspect repeated values.\ninputs: [[1, 2], [7, 7, 7]]"
    )
    assert terminated and reward == 1.0 and info["rewards"] == {"tester": 1.0, "coder": 0.0}
    assert info["verdict"]["status"] == "correct"
    assert info["verdict"]["reason"].startswith("on [7, 7, 7] the program returned None")


@pytest.mark.parametrize(
    "what",
    ["raise ValueError('boom')", "return True", "return (1,)", "return 1.0"],
)
def test_exceptions_and_wrong_types_are_discrepancies(what):
    env = BugHunt(difficulty=2)
    env.reset(seed=8)
    env.step(wrong_on_777(env, what))
    _, reward, _, _, info = env.step("inputs: [[7, 7, 7]]")
    assert reward == 1.0 and info["rewards"]["coder"] == 0.0


def test_a_program_that_hangs_on_one_input_is_exposed_there():
    env = BugHunt()
    env.reset(seed=9)
    env.step(wrong_on_777(env, "while True: pass"))
    _, reward, _, _, info = env.step("inputs: [[7, 7, 7]]")
    assert reward == 1.0 and "timeout" in info["verdict"]["reason"]


def test_forged_results_earn_the_coder_nothing():
    env = BugHunt()
    env.reset(seed=1)
    forged = (
        "```python\nclass Eq:\n    def __eq__(self, other): return True\n"
        f"def {env.function_name}(xs):\n    return Eq()\n```"
    )
    env.step(forged)
    assert not env._hidden_passed
    _, reward, _, _, info = env.step("inputs: [[1]]")
    assert info["rewards"] == {"tester": 1.0, "coder": 0.0}


def test_a_program_that_times_out_on_the_hidden_tests_is_penalised_and_then_tested():
    env = BugHunt()
    env.reset(seed=2)
    code = f"```python\ndef {env.function_name}(xs):\n    while True:\n        pass\n```"
    _, reward, terminated, _, info = env.step(code)
    assert info["verdict"]["status"] == "timeout" and reward == -0.1 and not terminated
    assert info["role"] == "tester"


def test_the_coder_is_judged_on_hidden_tests_alone_if_the_tester_never_answers():
    for program, expected in ((None, 1.0), ("wrong", 0.0)):
        env = BugHunt()
        env.reset(seed=4)
        if program == "wrong":
            program = f"```python\ndef {env.function_name}(xs):\n    return None\n```"
        episode_rewards = {"coder": 0.0, "tester": 0.0}
        _, _, _, _, info = env.step(program or env.reference_action())
        truncated = False
        while not truncated:
            _, _, _, truncated, info = env.step("no idea")
            for role, value in info["rewards"].items():
                episode_rewards[role] += value
        assert episode_rewards["coder"] == expected
        assert episode_rewards["tester"] == pytest.approx(-0.1 * (env.max_turns - 1))


def test_a_program_sent_with_the_last_move_is_judged_on_the_hidden_tests():
    env = BugHunt(max_turns=1)
    env.reset(seed=3)
    _, reward, terminated, truncated, info = env.step(env.reference_action())
    assert truncated and not terminated and reward == 1.0 and info["rewards"] == {"coder": 1.0}


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I would loop over the list.", "no Python code found"),
        ("```python\ndef not_it(xs):\n    return xs\n```", "does not define"),
        ("```python\n" + "x = 1\n" * 5000 + "```", "limit is 20,000"),
    ],
)
def test_unreadable_programs_say_how_to_fix_them(reply, reason):
    env = BugHunt()
    obs, info = env.reset(seed=0)
    obs, reward, terminated, _, info = env.step(reply)
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1 and not terminated
    assert reason in info["verdict"]["reason"] and info["role"] == "coder"
    assert "Expected format: coder:" in obs


# ----------------------------------------------------------------------------- tester's inputs
BAD_INPUTS = [
    ("", "the reply is empty"),
    ("inputs: []", "non-empty list"),
    (f"inputs: [[{MAX_ABS + 1}]]", f"from {-MAX_ABS} to {MAX_ABS}"),
    (f"inputs: [{[1] * (MAX_LENGTH + 1)}]", f"at most {MAX_LENGTH}"),
    (f"inputs: {[[1]] * (MAX_INPUTS + 1)}", f"at most {MAX_INPUTS} inputs"),
    ("inputs: [(1, 2)]", "only integers, commas and square brackets"),
    ("inputs: [['a']]", "only integers, commas and square brackets"),
    ("inputs: [[True]]", "only integers, commas and square brackets"),
    ("inputs: [[1.5]]", "only integers, commas and square brackets"),
    ("inputs: [[[1]]]", "nest deeper"),
    ("inputs: [1, 2]", "input 1 must be a list"),
    ("inputs: [[1,, 2]]", "not a valid Python list literal"),
    ("inputs: [[--1]]", "not a valid Python list literal"),
    ("inputs: [" + "[1], " * 600 + "[1]]", "limit is 2,000"),
    ("inputs: " + "[" * 5000 + "]" * 5000, "limit is 2,000"),
    ("[[" + "9" * 1000 + "]]", f"from {-MAX_ABS} to {MAX_ABS}"),
    ("__import__('os').system('true')", "expected `inputs:`"),
]


@pytest.mark.parametrize(("reply", "reason"), BAD_INPUTS)
def test_the_testers_inputs_are_validated_in_the_host_before_anything_runs(
    monkeypatch, reply, reason
):
    env = at_tester(seed=6)
    calls = []

    class Spy:
        def call(self, *args, **kwargs):
            calls.append(args)
            raise AssertionError("the sandbox must not run invalid inputs")

    monkeypatch.setattr(bughunt, "default_sandbox", Spy)
    obs, reward, terminated, _, info = env.step(reply)
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1 and not terminated
    assert reason in info["verdict"]["reason"], info["verdict"]["reason"]
    assert calls == [] and info["role"] == "tester"
    assert "Expected format:" in obs


def test_valid_inputs_read_exactly():
    assert parse_inputs("inputs: [[], [-30, 30], [+3]]") == [[], [-30, 30], [3]]
    assert parse_inputs("reasoning...\n`inputs = [[1,2,3]]`") == [[1, 2, 3]]
    assert parse_inputs("[[0]]") == [[0]]


def test_padding_the_testers_reply_with_every_candidate_plays_only_the_last():
    """The reply contract reads the last `inputs:` line: listing every candidate submits the
    last one only, never their union."""
    env = at_tester(seed=7)
    options = env.candidate_actions()
    assert len(options) == 6 and all(parse_inputs(o) for o in options)
    obs = env._observation()
    *_, info = env.step("\n".join([obs, *options]))
    assert info["parsed_action"] == options[-1]
    assert info["verdict"]["details"].get("inputs") == len(parse_inputs(options[-1]))


# ----------------------------------------------------------------------------- policies
@pytest.mark.parametrize("subtle", [False, True])
def test_the_reference_tester_always_exposes_buggy_coder(subtle):
    env = BugHunt(opponents={"coder": BuggyCoder(seed=3, subtle=subtle)})
    for level in (1, 2, 3):
        for seed in range(5):
            obs, info = env.reset(seed=seed, options={"difficulty": level})
            program = info["opponent_moves"][0]["action"]
            assert env.function_name in program and program != env._reference("coder")
            _, reward, terminated, _, info = env.step(env.reference_action())
            assert terminated and reward == 1.0, (level, seed, program)


def test_buggy_coder_is_deterministic_and_checks_its_game():
    a = BugHunt(opponents={"coder": BuggyCoder(seed=1)})
    b = BugHunt(opponents={"coder": BuggyCoder(seed=1)})
    for seed in range(3):
        assert a.reset(seed=seed)[0] == b.reset(seed=seed)[0]
    env = CodeBreaker()
    obs, info = env.reset(seed=0)
    with pytest.raises(InvalidArgument, match="plays the coder of BugHunt"):
        BuggyCoder()(obs, info, env)


def test_the_hidden_tests_are_not_shown_to_either_role():
    for seed in range(8):
        env = at_tester(seed=seed)
        prompts = env._prompt("coder") + env._prompt("tester")
        long_hidden = [args[0] for args, _ in env._hidden if len(args[0]) >= 4]
        assert long_hidden and not any(repr(xs) in prompts for xs in long_hidden)


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_changes_the_work():
    lines = {}
    for level in (1, 2, 3):
        env = BugHunt(difficulty=level)
        total = 0
        for seed in range(40):
            env.reset(seed=seed)
            total += len(re.findall(r"\n", env.reference_action()))
        lines[level] = total / 40
    assert lines[1] < lines[2] < lines[3]


# ----------------------------------------------------------------------------- exploits
def earned(game, policy_for_seed, seeds):
    totals = {role: 0.0 for role in game.learner_roles}
    for seed in seeds:
        for step in play_episode(game, policy_for_seed(seed), seed).steps:
            for role, value in step.info["rewards"].items():
                if role in totals:
                    totals[role] += max(0.0, value)
    return {role: total / len(seeds) for role, total in totals.items()}


@pytest.mark.parametrize(
    ("opponents", "n_seeds"),
    [(None, 12), ({"coder": BuggyCoder()}, 4)],
    ids=["self_play", "tester"],
)
@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_no_exploit_earns_more_than_random_text(monkeypatch, opponents, n_seeds):
    # The most common reference move over 20 seeds, not 200: each reset of the tester's view
    # runs BuggyCoder's sandbox probe (about 0.1 s).
    most_common = policies.most_common_reference
    monkeypatch.setattr(
        policies, "most_common_reference", lambda game: most_common(game, seeds=range(20))
    )
    game = BugHunt(opponents=opponents)
    seeds = range(1_000_000_000, 1_000_000_000 + n_seeds)
    baseline = earned(game, RandomText, seeds)
    for name, probe in exploit_probes(game).items():
        for role, value in earned(game, lambda seed, probe=probe: probe, seeds).items():
            assert value <= baseline[role] + 0.02, (name, role, value, baseline[role])


EDGE_EIGHT = [[], [0], [1], [-1], [30], [-30], [30] * 12, [-30] * 12]


@pytest.mark.parametrize("subtle", [False, True])
def test_a_constant_reply_of_generic_inputs_earns_nothing_against_buggy_coder(subtle):
    """The red team's attack: eight generic edge cases, always. It used to earn 1.0."""
    from langgames.envs.adversarial_testing import GENERIC_INPUTS, MAX_INPUTS
    from langgames.testing import _first_step_earnings

    env = BugHunt(opponents={"coder": BuggyCoder(subtle=subtle)})
    generic = [list(xs) for xs in GENERIC_INPUTS]
    replies = [f"inputs: {EDGE_EIGHT!r}"] + [
        f"inputs: {generic[i : i + MAX_INPUTS]!r}" for i in range(0, len(generic), MAX_INPUTS)
    ]
    found = 0
    for seed in range(1_000_000_000, 1_000_000_012):
        env.reset(seed=seed)
        for reply in replies:  # every generic input, eight at a time, on the same program
            found += _first_step_earnings(env, reply) > 0  # played on a copy of env
        _, reward, *_ = env.step(env.reference_action())
        assert reward == 1.0  # the planted bug is still there to be found by reading
    assert found == 0


def test_planted_bugs_are_specific_to_the_instance():
    env = BugHunt(opponents={"coder": BuggyCoder()})
    programs = set()
    for seed in range(6):
        env.reset(seed=seed)
        programs.add(env.program)
        assert "spec_impl" in env.program or "def " in env.program
    assert len(programs) == 6


def test_an_echoed_template_is_no_program_so_a_self_play_tester_cannot_farm_it():
    """Self-play collusion: a policy whose coder echoes the prompt (its ``def name(xs): ...``
    template) would hand its tester a trivially wrong program to 'find a bug' in. A stub is not
    an answer: the coder's move is unparseable and the tester never earns from it."""
    from langgames.policies import prompt_and_options
    from langgames.registry import make_game

    env = make_game("langgames/BugHunt-v0")
    for seed in range(1_000_000_000, 1_000_000_005):
        obs, info = env.reset(seed=seed)
        *_, info = env.step(prompt_and_options(obs, info, env))
        assert info["verdict"]["status"] == "unparseable"
        assert "template" in info["verdict"]["reason"]
