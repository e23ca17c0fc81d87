"""Record every episode of a langgames env as one JSON line, for datasets and offline RL.

`RecordEpisodes` wraps a game (put it directly over the game, or over `CandidateActions`) and
appends one line per finished episode to a JSONL file::

    {"game_id": "langgames/NumberHunt-v0", "seed": 7, "difficulty": 1, "terminated": true,
     "truncated": false, "final_observation": "...", "returns": {"player": 1.0},
     "steps": [{"role": "player", "observation": "...", "action": "guess: 50",
                "reward": 0.0, "rewards": {"player": 0.0},
                "verdict": {"status": "accepted", "reward": 0.0, "reason": "...",
                            "details": "{\\"guess\\": 50, ...}"}}, ...]}

Every line has the same fields with the same types, so ``datasets.load_dataset("json",
data_files=path)`` reads the file directly: a verdict's ``details`` (whose keys differ between
games and verdicts) is stored as a JSON string, and a step made by a fixed opponent (``opponents=``)
has ``observation`` null and ``reward`` null (its rewards are in the caller's step's ``rewards``,
which sum the whole span, as ``info["rewards"]`` does). A step's ``parsed_action`` is what the game
read from the action (``info["parsed_action"]``) as text (other values as JSON), or null.

**One schema.** `episode_record` gives the same record for a `langgames.rollout.Episode`, and
``langgames bench`` writes it to its ``episodes.jsonl``: every field above with the same meaning
and type, plus the rollout ``Episode`` JSON (``schema``, ``game``, ``turns``, ...) and the
benchmark's own fields (``policy``, ``episode``, ``score``, ``success``, ``failures``, ...).

>>> import tempfile, os, gymnasium as gym, langgames, json
>>> path = os.path.join(tempfile.mkdtemp(), "episodes.jsonl")
>>> env = RecordEpisodes(gym.make("langgames/BaseConvert-v0"), path)
>>> obs, info = env.reset(seed=3)
>>> _ = env.step(env.unwrapped.reference_action())
>>> env.close()
>>> record = json.loads(open(path).readline())
>>> record["game_id"], record["seed"], record["returns"], len(record["steps"])
('langgames/BaseConvert-v0', 3, {'player': 1.0}, 1)
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, SupportsFloat

import gymnasium as gym

from langgames.errors import InvalidArgument

if TYPE_CHECKING:
    from langgames.rollout import Episode

__all__ = ["RecordEpisodes", "episode_record", "step_record"]


def _verdict(verdict: dict[str, Any] | None) -> dict[str, Any] | None:
    if verdict is None:
        return None
    return {
        "status": str(verdict.get("status")),
        "reward": float(verdict.get("reward", 0.0)),
        "reason": str(verdict.get("reason", "")),
        "details": json.dumps(verdict.get("details", {}), sort_keys=True, default=repr),
    }


def _rewards(rewards: dict[str, Any] | None) -> dict[str, float]:
    return {str(r): float(v) for r, v in (rewards or {}).items()}


def _parsed(value: Any) -> str | None:
    """What the game parsed, as text: strings as they are, other values as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=repr)


def step_record(
    role: Any,
    observation: Any,
    action: Any,
    reward: float | None,
    rewards: dict[str, Any] | None,
    verdict: dict[str, Any] | None,
    parsed_action: Any = None,
) -> dict[str, Any]:
    """One entry of a record's ``steps`` (``observation`` and ``reward`` are None for a fixed
    opponent's move)."""
    return {
        "role": role,
        "observation": _text(observation),
        "action": action if isinstance(action, str) else repr(action),
        "reward": None if reward is None else float(reward),
        "rewards": _rewards(rewards),
        "verdict": _verdict(verdict),
        "parsed_action": _parsed(parsed_action),
    }


def _opponent_steps(moves: Any) -> list[dict[str, Any]]:
    return [
        step_record(
            m.get("role"), None, str(m.get("action", "")), None, {}, m.get("verdict"),
            m.get("parsed_action"),
        )
        for m in moves or ()
    ]  # fmt: skip


def episode_record(episode: Episode) -> dict[str, Any]:
    """The `RecordEpisodes` record of a played `langgames.rollout.Episode` (``langgames bench``
    writes these fields for every episode)."""
    steps = []
    for turn in episode.turns:
        steps.append(
            step_record(
                turn.role, turn.observation, turn.action, turn.reward, turn.rewards,
                turn.verdict or None, turn.parsed_action,
            )
        )  # fmt: skip
        steps += _opponent_steps(turn.extra.get("opponent_moves"))
    return {
        "game_id": episode.game,
        "seed": episode.seed,
        "difficulty": episode.difficulty,
        "steps": steps,
        "returns": _rewards(episode.returns),
        "terminated": bool(episode.terminated),
        "truncated": bool(episode.truncated),
        "final_observation": _text(episode.final_observation),
    }


class RecordEpisodes(gym.Wrapper[Any, Any, Any, Any]):
    """Append every episode's transcript to ``path`` as one JSON line.

    Contract:
        * a line is written when an episode terminates or truncates; an episode cut short by
          ``reset`` or ``close`` is written too, with ``terminated`` and ``truncated`` false.
        * fields: ``game_id``, ``seed`` (the instance seed: ``reset(seed=...)`` replays it),
          ``difficulty``, ``steps`` (each: ``role``, the ``observation`` that role saw, ``action``
          as text, ``reward``, ``rewards`` by role, ``verdict``, ``parsed_action``), ``returns`` by
          role (every role of the game, opponents included), ``terminated``, ``truncated``,
          ``final_observation``.
        * observations are text: over `TokenizeObservation`, the text behind the ids
          (``info["text_observation"]``).
        * ``action`` is the text the game received: under `CandidateActions`, the chosen
          candidate (``info["chosen_action"]``), not the index.
        * the file is opened in append mode for each line, so several runs can share a file and a
          crash loses at most the running episode. Nothing is written for env steps outside an
          episode.

    Args:
        env: a langgames env (text observations; ``info`` as `LanguageGame` returns it).
        path: the JSONL file; its directory must exist.
    """

    def __init__(self, env: gym.Env[Any, Any], path: str | os.PathLike[str]) -> None:
        super().__init__(env)
        self.path = os.fspath(path)
        folder = os.path.dirname(self.path) or "."
        if not os.path.isdir(folder):
            raise InvalidArgument(
                f"RecordEpisodes: the folder {folder!r} of path {self.path!r} does not exist; "
                "create it first (os.makedirs(folder, exist_ok=True))"
            )
        game = env.unwrapped
        info = getattr(game, "game_info", None)
        self.game_id = str(getattr(info, "id", None) or getattr(env.spec, "id", "unknown"))
        roles = tuple(getattr(info, "roles", ()))
        self._roles = roles
        self._record: dict[str, Any] | None = None
        self._last_obs: Any = None
        #: Number of episodes written by this wrapper.
        self.episodes_written = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        self._flush(terminated=False, truncated=False)
        obs, info = self.env.reset(seed=seed, options=options)
        self._record = {
            "game_id": self.game_id,
            "seed": info.get("seed", seed),
            "difficulty": info.get("difficulty"),
            "steps": [],
            "returns": dict.fromkeys(self._roles, 0.0),
        }
        self._add_opponent_moves(info)  # opponents that moved before the caller's first turn
        self._add_returns(info.get("rewards"))
        self._last_obs = info.get("text_observation", obs)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        record = self._record
        if record is not None:
            record["steps"].append(
                step_record(
                    info.get("actor"),
                    self._last_obs,
                    info.get("chosen_action", action),
                    float(reward),
                    info.get("rewards"),
                    info.get("verdict"),
                    info.get("parsed_action"),
                )
            )
            self._add_opponent_moves(info)
            self._add_returns(info.get("rewards"))
            self._last_obs = info.get("text_observation", obs)
            if terminated or truncated:
                self._flush(terminated=bool(terminated), truncated=bool(truncated))
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        self._flush(terminated=False, truncated=False)
        super().close()

    def _add_opponent_moves(self, info: dict[str, Any]) -> None:
        assert self._record is not None
        self._record["steps"] += _opponent_steps(info.get("opponent_moves"))

    def _add_returns(self, rewards: dict[str, Any] | None) -> None:
        assert self._record is not None
        returns = self._record["returns"]
        for role, value in _rewards(rewards).items():
            returns[role] = returns.get(role, 0.0) + value

    def _flush(self, *, terminated: bool, truncated: bool) -> None:
        record, self._record = self._record, None
        if record is None:
            return
        record.update(
            terminated=terminated,
            truncated=truncated,
            final_observation=_text(self._last_obs),
        )
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.episodes_written += 1


def _text(observation: Any) -> str | None:
    if observation is None or isinstance(observation, str):
        return observation
    return repr(observation)
