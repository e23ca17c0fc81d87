"""RecordEpisodes: one JSON line per episode, replayable, and readable by `datasets`."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import langgames  # noqa: F401 - registers the games
from langgames.errors import InvalidArgument
from langgames.integrations.sb3 import candidate_env
from langgames.policies import reference
from langgames.recording import RecordEpisodes
from langgames.registry import make_game


def lines(path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_one_line_per_episode_with_the_whole_transcript(tmp_path):
    path = tmp_path / "episodes.jsonl"
    env = RecordEpisodes(gym.make("langgames/NumberHunt-v0"), path)
    seen_by_episode = []
    for seed in (5, 6):
        obs, info = env.reset(seed=seed)
        seen = [obs]
        seen_by_episode.append(seen)
        for action in ("nonsense", "guess: 999999"):
            obs, *_ = env.step(action)
            seen.append(obs)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(env.unwrapped.reference_action())
            seen.append(obs)
            done = terminated or truncated
    env.close()
    records = lines(path)
    assert len(records) == 2 and env.episodes_written == 2
    first = records[0]
    assert first["game_id"] == "langgames/NumberHunt-v0"
    assert (first["seed"], first["difficulty"], first["terminated"]) == (5, 1, True)
    steps = first["steps"]
    assert [s["action"] for s in steps[:2]] == ["nonsense", "guess: 999999"]
    assert [s["verdict"]["status"] for s in steps[:2]] == ["unparseable", "accepted"]
    assert steps[0]["reward"] == -0.1 and steps[0]["rewards"] == {"player": -0.1}
    assert all(s["role"] == "player" for s in steps)
    # each step stores the observation its role saw; the last one is kept apart
    seen = seen_by_episode[0]
    assert [s["observation"] for s in steps] == seen[:-1]
    assert first["final_observation"] == seen[-1]
    assert first["returns"] == {"player": pytest.approx(sum(s["reward"] for s in steps))}
    assert first["returns"]["player"] == pytest.approx(0.9)  # found within budget, minus 0.1
    # the record replays: same seed, same actions, same observations
    game = make_game("langgames/NumberHunt-v0")
    assert game.reset(seed=first["seed"])[0] == steps[0]["observation"]


def test_interrupted_episode_is_written_on_reset_and_close(tmp_path):
    path = tmp_path / "episodes.jsonl"
    env = RecordEpisodes(make_game("langgames/CodeBreaker-v0"), path)
    env.reset(seed=1)
    env.step("guess: nonsense")
    env.reset(seed=2)  # the first episode is cut short
    env.close()  # and so is the second
    records = lines(path)
    assert [r["seed"] for r in records] == [1, 2]
    assert [len(r["steps"]) for r in records] == [1, 0]
    assert not any(r["terminated"] or r["truncated"] for r in records)


def test_opponent_moves_and_every_roles_return_are_recorded(tmp_path):
    path = tmp_path / "episodes.jsonl"
    game = make_game(
        "langgames/BugHunt-v0", opponents={"coder": reference}, candidates_in_info=True
    )
    env = RecordEpisodes(game, path)
    obs, info = env.reset(seed=0)
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(info["candidate_actions"][0])
        done = terminated or truncated
    record = lines(path)[0]
    roles = {s["role"] for s in record["steps"]}
    assert roles == {"coder", "tester"}
    coder = [s for s in record["steps"] if s["role"] == "coder"]
    assert all(s["observation"] is None and s["reward"] is None for s in coder)
    assert set(record["returns"]) == {"coder", "tester"}


def test_records_the_chosen_text_under_the_sb3_adapters(tmp_path):
    path = tmp_path / "episodes.jsonl"
    env = RecordEpisodes(candidate_env("langgames/BaseConvert-v0", k=6, max_length=64), path)
    obs, info = env.reset(seed=3)
    env.step(2)
    record = lines(path)[0]
    assert record["steps"][0]["action"] == info["candidate_actions"][2]
    assert record["steps"][0]["observation"] == info["text_observation"]
    assert "Options:" in record["steps"][0]["observation"]


def test_loads_with_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "episodes.jsonl"
    for game_id in ("langgames/NumberHunt-v0", "langgames/BaseConvert-v0"):
        env = RecordEpisodes(make_game(game_id), path)  # two games share one file
        for seed in range(3):
            env.reset(seed=seed)
            env.step("12")
            if seed == 0 and game_id.startswith("langgames/NumberHunt"):
                env.step("guess: 3")
        env.close()
    data = datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert len(data) == 6
    assert data[0]["game_id"] == "langgames/NumberHunt-v0" and data[0]["seed"] == 0
    assert data[0]["steps"][0]["action"] == "12"
    assert json.loads(data[0]["steps"][0]["verdict"]["details"])["guess"] == 12
    assert data[5]["returns"]["player"] in (0.0, 1.0)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidArgument, match="does not exist"):
        RecordEpisodes(make_game("langgames/BaseConvert-v0"), tmp_path / "nope" / "x.jsonl")
