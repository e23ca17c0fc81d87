"""langgames.rollout: play / aplay / collect, Episode records, advantages."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import langgames  # noqa: F401
from langgames.errors import InvalidArgument
from langgames.policies import RandomText, reference
from langgames.rollout import (
    Episode,
    Reply,
    RoleBaseline,
    Turn,
    aplay,
    collect,
    group_advantages,
    play,
    turn_advantages,
)


def test_play_records_turns_roles_and_returns():
    ep = play("langgames/BugHunt-v0", reference, seed=1)
    assert ep.game == "langgames/BugHunt-v0" and ep.seed == 1 and ep.difficulty == 1
    assert ep.roles == ["coder", "tester"]
    assert all(t.verdict.get("status") for t in ep.turns)
    total = {r: sum(t.rewards.get(r, 0.0) for t in ep.turns) for r in ep.returns}
    assert total == pytest.approx(ep.returns)
    assert ep.terminated or ep.truncated
    assert ep.messages("tester")[0] == {"role": "user", "content": ep.turns[1].observation}
    assert [m["role"] for m in ep.messages("coder", system="hi")] == ["system", "user", "assistant"]


def test_json_round_trip_and_two_argument_policies():
    ep = play("langgames/NumberHunt-v0", lambda obs, info: "guess: 50", seed=2, max_steps=3)
    assert len(ep.turns) == 3 and ep.truncated is False
    data = json.loads(json.dumps(ep.to_json()))
    assert Episode.from_json(data) == ep
    assert data["schema"] == "langgames.episode/1"
    assert "prompt_ids" not in data["turns"][0]  # token fields only when the policy gives them


def test_policy_errors_raise_or_are_recorded():
    def broken(obs, info):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        play("langgames/NumberHunt-v0", broken, seed=0)
    ep = play("langgames/NumberHunt-v0", broken, seed=0, on_error="record")
    assert ep.error == "RuntimeError: boom" and ep.error_kind == "policy" and not ep.turns


def test_async_policies_and_token_data():
    async def policy(obs, info):
        await asyncio.sleep(0)
        n = len(info.get("verdict") or {})
        return Reply(
            "guess: 50", prompt_ids=[1, 2], completion_ids=[3, 4 + n], logprobs=[-1.0, -2.0]
        )

    ep = asyncio.run(aplay("langgames/NumberHunt-v0", policy, seed=0, max_steps=2))
    assert ep.turns[0].mask == [0, 0, 1, 1]
    assert ep.turns[0].completion_ids == [3, 4] and ep.turns[0].logprobs == [-1.0, -2.0]
    again = play("langgames/NumberHunt-v0", policy, seed=0, max_steps=2)
    assert [t.completion_ids for t in again.turns] == [t.completion_ids for t in ep.turns]
    with pytest.raises(InvalidArgument, match="does not extend"):
        ep.tokens("player")

    seen: list[int] = []

    def chat(obs, info):  # each prompt extends the last prompt + completion: one sequence
        prompt = [*seen, 0]
        seen[:] = [*prompt, 9, 9]
        return Reply("guess: 50", prompt_ids=prompt, completion_ids=[9, 9], logprobs=[-0.5, -0.5])

    ep = play("langgames/NumberHunt-v0", chat, seed=0, max_steps=2)
    ids, mask, logps = ep.tokens("player")
    assert len(ids) == len(mask) == len(logps) == 6
    assert mask == [0, 1, 1, 0, 1, 1]


class _Batch:
    def __init__(self):
        self.sizes = []

    def act_batch(self, requests):
        self.sizes.append(len(requests))
        return [f"guess: {50 + (r.seed % 2)}" for r in requests]


def test_collect_groups_concurrency_and_batches():
    seeds = [5, 6, 7]
    one = collect("langgames/NumberHunt-v0", "random", seeds, group_size=2)
    many = collect("langgames/NumberHunt-v0", "random", seeds, group_size=2, concurrency=4)
    strip = lambda e: [(t.role, t.action, t.rewards) for t in e.turns]  # noqa: E731
    assert [strip(e) for e in one] == [strip(e) for e in many]
    assert [e.group for e in one] == [0, 0, 1, 1, 2, 2]
    assert one[0].seed == one[1].seed == 5 and one[0].policy_seed != one[1].policy_seed
    batch = _Batch()
    eps = collect("langgames/NumberHunt-v0", batch, seeds, group_size=2, concurrency=6)
    assert len(eps) == 6 and max(batch.sizes) == 6  # in-flight episodes share one call
    serial = collect("langgames/NumberHunt-v0", _Batch(), seeds, group_size=2)
    assert [strip(e) for e in eps] == [strip(e) for e in serial]
    with pytest.raises(InvalidArgument, match="group_size"):
        collect("langgames/NumberHunt-v0", "random", seeds, group_size=0)


@pytest.mark.slow
def test_collect_with_workers_matches_one_worker():
    seeds = [1, 2, 3]
    a = collect("langgames/NumberHunt-v0", "random", seeds, group_size=2)
    b = collect("langgames/NumberHunt-v0", "random", seeds, group_size=2, workers=2)
    assert [(e.seed, e.group, [t.action for t in e.turns]) for e in a] == [
        (e.seed, e.group, [t.action for t in e.turns]) for e in b
    ]
    with pytest.raises(InvalidArgument, match="policy name"):
        collect("langgames/NumberHunt-v0", RandomText(0), seeds, workers=2)


def _ep(seed, returns):
    roles = list(returns)
    return Episode("g", seed, 1, [Turn(r, "", "") for r in roles], dict(returns))


def test_group_advantages_per_role():
    eps = [_ep(1, {"a": 1.0, "b": 0.0}), _ep(1, {"a": 0.0, "b": 2.0}), _ep(2, {"a": 5.0})]
    adv = group_advantages(eps)
    assert adv[0]["a"] == pytest.approx(1.0, abs=1e-4) and adv[1]["a"] == pytest.approx(
        -1.0, abs=1e-4
    )
    assert adv[0]["b"] == pytest.approx(-1.0, abs=1e-4) and adv[2] == {"a": 0.0}
    raw = group_advantages(eps, normalize=False)
    assert raw[1]["b"] == 1.0
    assert turn_advantages(eps[0], adv[0]) == [adv[0]["a"], adv[0]["b"]]


def test_role_baseline_is_per_game_and_role():
    base = RoleBaseline(decay=0.5)
    first = base.advantages([_ep(1, {"a": 1.0, "b": -1.0})])
    assert first == [{"a": 1.0, "b": -1.0}]
    second = base.advantages([_ep(2, {"a": 1.0, "b": -1.0})])
    assert second == [{"a": 0.5, "b": -0.5}]
    assert base.value("g", "a") == 0.75 and base.value("other", "a") == 0.0


def test_vectorised_policy_seeds_match_seed_sequence():
    from langgames.rollout import _episode_seeds, episode_seed

    cases = [(0, [0, 1, 2**32 - 1], 3), (2**32 - 1, [7, 1_000_000_000], 2), (5, [2**32], 1),
             (2**40, [3], 2), (12345, list(range(50)), 4)]  # fmt: skip
    for policy_seed, seeds, group_size in cases:
        want = [episode_seed(policy_seed, s, m) for s in seeds for m in range(group_size)]
        assert _episode_seeds(policy_seed, seeds, group_size) == want


def test_results_do_not_depend_on_concurrency_or_the_verdict_objects():
    seeds = range(4)
    a = collect("langgames/BugHunt-v0", "reference", seeds, group_size=2)
    b = collect("langgames/BugHunt-v0", "reference", seeds, group_size=2, concurrency=8)
    strip = lambda e: {k: v for k, v in e.to_json().items() if k != "seconds"}  # noqa: E731
    for x, y in zip(a, b, strict=True):
        x_json, y_json = strip(x), strip(y)
        for t in x_json["turns"] + y_json["turns"]:
            t.pop("seconds")
        assert x_json == y_json
    verdicts = [id(t.verdict) for e in a for t in e.turns]
    assert len(set(verdicts)) == len(verdicts)  # each turn holds its own verdict dict


def test_rollout_bench_smoke(capsys):
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "rollout_bench.py"
    spec = importlib.util.spec_from_file_location("rollout_bench", script)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--episodes", "2", "--trials", "1", "--games", "NumberHunt-v0"]) == 0
    assert "langgames/NumberHunt-v0" in capsys.readouterr().out


def test_the_kit_and_the_audit_play_their_episodes_through_rollout(monkeypatch):
    """One episode loop: `testing.play_episode`, the kit's helpers and the audit all call
    `rollout.play`, and what they report is what `rollout.play` recorded."""
    from langgames import audit, rollout, testing
    from langgames.registry import make_game

    calls: list[int] = []
    real_play = rollout.play

    def counting_play(*args, **kwargs):
        calls.append(kwargs["seed"])
        return real_play(*args, **kwargs)

    monkeypatch.setattr(rollout, "play", counting_play)
    game = make_game("langgames/BugHunt-v0")
    kit = testing.play_episode(game, reference, 3)
    assert calls == [3]
    ep = real_play(make_game("langgames/BugHunt-v0"), reference, seed=3)
    assert [(s.role, s.action, s.reward, s.info["verdict"]) for s in kit.steps] == [
        (t.role, t.action, t.reward, t.verdict) for t in ep.turns
    ]
    assert [s.observation for s in kit.steps] == [t.observation for t in ep.turns[1:]] + [
        ep.final_observation
    ]
    assert kit.returns == ep.returns and kit.transcript == ep.transcript
    assert kit.first_info["role"] == "coder" and kit.steps[-1].terminated == ep.terminated

    calls.clear()
    tally = audit._Tally()
    got = audit.earned(game, RandomText, [4, 5], tally=tally)
    assert calls == [4, 5] and tally.steps == len(tally.latencies) > 0
    assert set(got) == set(game.learner_roles)

    calls.clear()
    lists = testing.candidate_lists(
        lambda: make_game("langgames/CodeBreaker-v0"), [7], per_episode=2
    )
    assert calls == [7] and len(lists) == 2


def test_play_episode_keeps_its_digest_and_non_text_actions():
    from langgames import testing
    from langgames.registry import make_game

    game = make_game("langgames/NumberHunt-v0")
    a = testing.play_episode(game, reference, 11)
    b = testing.play_episode(make_game("langgames/NumberHunt-v0"), reference, 11)
    assert a.digest() == b.digest() and len(a.steps) == len(b.steps) > 1
    from langgames.envs.number_hunt import NumberHunt

    seen: list[object] = []

    class Recorder(NumberHunt):
        def step(self, action):
            seen.append(action)
            return super().step(action)

    def raw(obs: str, info: Any, env: Any) -> Any:
        return b"\xffguess: 5"

    odd = testing.play_episode(Recorder(), raw, 0, max_steps=2)
    assert seen == [b"\xffguess: 5"] * 2  # to env.step unchanged, as the kit's probes send it
    assert odd.steps[0].action == repr(b"\xffguess: 5")
    empty = testing.play_episode(game, reference, 11, max_steps=0)
    assert empty.steps == [] and empty.first_observation == a.first_observation


def test_play_hooks_transcript_and_awaitables():
    seen = []
    ep = play(
        "langgames/NumberHunt-v0", reference, seed=4, transcript=False,
        on_step=lambda turn, result: seen.append((turn, result)),
    )  # fmt: skip
    assert [t for t, _ in seen] == ep.turns and ep.transcript == ""
    assert all(len(r) == 5 and r[4]["verdict"] == t.verdict for t, r in seen)
    stopped = play("langgames/NumberHunt-v0", "guess: 1".format, seed=4,
                   should_stop=lambda: len(seen) > 0)  # fmt: skip
    assert stopped.error == "cancelled" and not stopped.turns

    async def think(obs, info):
        await asyncio.sleep(0)
        return "guess: 50"

    wrapped = lambda obs, info: think(obs, info)  # noqa: E731 - looks sync, returns a coroutine
    a = play("langgames/NumberHunt-v0", wrapped, seed=2, max_steps=3)
    b = play("langgames/NumberHunt-v0", think, seed=2, max_steps=3)
    strip = lambda e: [(t.action, t.rewards, t.verdict) for t in e.turns]  # noqa: E731
    assert strip(a) == strip(b) and len(a.turns) == 3
    c = collect("langgames/NumberHunt-v0", wrapped, [2, 3], max_steps=3, concurrency=2)
    d = collect("langgames/NumberHunt-v0", think, [2, 3], max_steps=3)
    assert [strip(e) for e in c] == [strip(e) for e in d] and strip(c[0]) == strip(a)


def test_policies_are_called_by_their_own_signature():
    class Agent:
        def two(self, obs, info):
            return "guess: 50"

        def three(self, obs, info, env):
            return env.reference_action()

    agent = Agent()
    # bound methods share one type but not one signature: each is asked for its own
    assert play("langgames/NumberHunt-v0", agent.two, seed=1, max_steps=1).turns[0].action == (
        "guess: 50"
    )
    assert play("langgames/NumberHunt-v0", agent.three, seed=1).returns["player"] > 0


def test_collect_plays_sync_policies_without_an_event_loop(monkeypatch):
    from langgames import rollout

    def no_loop(coro):
        coro.close()
        raise AssertionError("a synchronous policy needs no event loop")

    monkeypatch.setattr(rollout, "_run_async", no_loop)
    eps = collect("langgames/NumberHunt-v0", "reference", [1, 2], group_size=2, concurrency=8)
    assert [e.group for e in eps] == [0, 0, 1, 1] and all(e.returns["player"] > 0 for e in eps)
