"""Classic-RL adapters for stable-baselines3: fixed-size observations and a k-way action choice.

SB3 policies need numeric spaces; language games speak text. Two wrappers bridge the gap, and a
small features extractor makes the token ids learnable:

- `CandidateActions` turns the game's text actions into ``Discrete(k)``: action ``i`` plays the
  ``i``-th of the legal moves the game lists in ``info["candidate_actions"]`` (padded or clipped to
  ``k``), lists those moves at the end of the observation text, and exposes ``action_masks()`` for
  sb3-contrib's ``MaskablePPO``.
- `TokenizeObservation` turns the text observation into ``max_length`` byte-level token ids
  (UTF-8 bytes 0-255, plus `PAD_ID` and `TRUNCATED_ID`) in a ``Box`` space.
- ``ByteEmbeddingExtractor`` (needs torch, loaded on first use) embeds those ids for a policy:
  ``policy_kwargs=dict(features_extractor_class=ByteEmbeddingExtractor)``.

Order them ``TokenizeObservation(CandidateActions(game, k))`` so that the listed candidates are
part of what gets tokenized, or use `candidate_env`, which builds exactly that::

    from sb3_contrib import MaskablePPO
    from langgames.integrations.sb3 import ByteEmbeddingExtractor, candidate_env

    env = candidate_env("langgames/BaseConvert-v0", k=6, max_length=256)
    model = MaskablePPO("MlpPolicy", env,
                        policy_kwargs=dict(features_extractor_class=ByteEmbeddingExtractor))
    model.learn(20_000)

Multi-role games work through ``opponents=``: give every role but the learner's a fixed policy
when making the game, so the caller (and the wrappers) only ever see the learner's turns.

The wrappers themselves import only Gymnasium and NumPy; stable-baselines3 and torch are needed
only by ``ByteEmbeddingExtractor`` (extra ``sb3``).

>>> from langgames.registry import make_game
>>> env = TokenizeObservation(CandidateActions(make_game("langgames/BaseConvert-v0"), k=6),
...                           max_length=128)
>>> obs, info = env.reset(seed=0)
>>> obs.shape, obs.dtype, env.action_space
((128,), dtype('int64'), Discrete(6))
>>> bool(env.get_wrapper_attr("action_masks")().all())
True
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from langgames.errors import InvalidArgument, MissingExtra
from langgames.spaces import clean_text

if TYPE_CHECKING:
    from langgames.core import LanguageGame

__all__ = [
    "PAD_ID",
    "TRUNCATED_ID",
    "VOCAB_SIZE",
    "ByteEmbeddingExtractor",  # noqa: F822 - built lazily by the module __getattr__ (needs torch)
    "CandidateActions",
    "TokenizeObservation",
    "candidate_env",
    "decode_ids",
    "encode_text",
]

#: Token id of padding (the ids 0-255 are UTF-8 bytes).
PAD_ID = 256
#: Token id that marks where a long observation was cut.
TRUNCATED_ID = 257
#: Number of token ids: 256 bytes, padding and the truncation mark.
VOCAB_SIZE = 258

Keep = Literal["end", "start"]


def encode_text(text: str, max_length: int, *, keep: Keep = "end") -> np.ndarray:
    """``text`` as exactly ``max_length`` byte-level token ids (int64).

    ``keep="end"`` (the default) keeps the *last* bytes of a long text and pads short ones on the
    left, so the end of every observation (where games put the question and `CandidateActions`
    puts the options) always sits at the same positions; a cut text starts with `TRUNCATED_ID`.
    ``keep="start"`` keeps the first bytes, pads on the right and ends a cut text with it.

    >>> encode_text("hi", 4).tolist()
    [256, 256, 104, 105]
    >>> encode_text("abcdef", 4).tolist(), encode_text("abcdef", 4, keep="start").tolist()
    ([257, 100, 101, 102], [97, 98, 99, 257])
    """
    if keep not in ("end", "start"):
        raise InvalidArgument(f"keep must be 'end' or 'start' (got {keep!r})")
    data = np.frombuffer(text.encode("utf-8", errors="replace"), dtype=np.uint8).astype(np.int64)
    out = np.full(max_length, PAD_ID, dtype=np.int64)
    if data.size > max_length:
        if keep == "end":
            out[0] = TRUNCATED_ID
            out[1:] = data[data.size - (max_length - 1) :]
        else:
            out[:-1] = data[: max_length - 1]
            out[-1] = TRUNCATED_ID
    elif keep == "end":
        out[max_length - data.size :] = data
    else:
        out[: data.size] = data
    return out


def decode_ids(ids: Any) -> str:
    """The text behind token ids (padding dropped, the truncation mark shown as ``…``).

    >>> decode_ids(encode_text("héllo", 8))
    'héllo'
    """
    chunks: list[bytes] = []
    for i in np.asarray(ids, dtype=np.int64).ravel().tolist():
        if i == TRUNCATED_ID:
            chunks.append("…".encode())
        elif 0 <= i < 256:
            chunks.append(bytes((i,)))
    return b"".join(chunks).decode("utf-8", errors="replace")


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidArgument(f"{name} must be an int >= {minimum} (got {value!r})")
    return int(value)


class TokenizeObservation(gym.ObservationWrapper[np.ndarray, Any, Any]):
    """Text observations as ``max_length`` byte-level token ids, a space SB3 accepts.

    Contract:
        * ``observation_space`` is ``Box(0, VOCAB_SIZE - 1, (max_length,), int64)``. A ``Box``
          rather than ``MultiDiscrete``: SB3 one-hot encodes every ``MultiDiscrete`` dimension
          (``max_length * 258`` inputs), while a ``Box`` reaches the features extractor as the
          raw ids, which ``ByteEmbeddingExtractor`` embeds. Do not feed the ids to a plain MLP:
          byte values as floats barely learn.
        * ids 0-255 are the UTF-8 bytes of the observation, `PAD_ID` pads, `TRUNCATED_ID` marks a
          cut (see `encode_text`). No model files and no tokenizer are needed.
        * ``keep="end"`` (default) keeps the end of long observations: games put the question,
          the latest feedback and (under `CandidateActions`) the options at the end.
        * the untokenized text stays available as ``info["text_observation"]``.

    Args:
        env: a langgames env (or any env with text observations).
        max_length: number of token ids per observation (bytes, not characters).
        keep: ``"end"`` or ``"start"``: which part of a long observation survives.
    """

    def __init__(self, env: gym.Env[str, Any], max_length: int = 512, *, keep: Keep = "end"):
        super().__init__(env)
        self.max_length = _positive_int("max_length", max_length, minimum=2)
        if keep not in ("end", "start"):
            raise InvalidArgument(f"keep must be 'end' or 'start' (got {keep!r})")
        self.keep: Keep = keep
        self.observation_space = spaces.Box(
            low=0, high=VOCAB_SIZE - 1, shape=(self.max_length,), dtype=np.int64
        )

    def observation(self, observation: Any) -> np.ndarray:
        if not isinstance(observation, str):
            raise InvalidArgument(
                f"TokenizeObservation expects text observations, got {type(observation).__name__};"
                " wrap the langgames env itself (or CandidateActions over it), not a wrapper that "
                "already turned the text into numbers"
            )
        return encode_text(observation, self.max_length, keep=self.keep)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        return self.observation(obs), {**info, "text_observation": obs}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        return (
            self.observation(obs),
            reward,
            terminated,
            truncated,
            {
                **info,
                "text_observation": obs,
            },
        )


class CandidateActions(gym.Wrapper[str, Any, str, Any]):
    """A ``Discrete(k)`` choice among the legal moves a game lists, with action masks.

    Contract:
        * after every ``reset``/``step`` that leaves the episode running, the wrapper asks the
          game for the moves it offers the role to act (``env.unwrapped.candidate_actions()``)
          and keeps the first ``k`` of them, in the game's order. Action ``i`` plays candidate
          ``i``.
        * it wraps an env with text observations; put `TokenizeObservation` outside it (the
          other order raises `InvalidArgument` at construction).
        * ``action_masks()`` is a boolean array of length ``k``: True for the indices that hold a
          candidate. ``MaskablePPO`` (sb3-contrib) finds it through the wrapper chain.
        * an index outside the mask (or outside ``0..k-1``): with ``invalid="noop"`` (default, so
          plain PPO and SB3's ``check_env`` can sample any index) it plays the empty reply, which
          the game judges ``unparseable``: its minimum reward, a turn used, the same role to act
          again. With ``invalid="raise"`` it raises `InvalidArgument`.
        * with ``show=True`` (default) the observation text ends with the numbered candidates
          (``"Options:\\n0) ...\\n1) ..."``) so a policy can read what each index means; the
          prompt's last line on how to mark a free-text answer is dropped.
        * ``info["candidate_actions"]`` holds the (clipped) list, ``info["chosen_action"]`` the
          text the last index played.
        * a game (or a role) that lists no candidates raises `InvalidArgument` at the step where
          it happens: make the other roles of a multi-role game fixed ``opponents=``.

    Args:
        env: a langgames env whose learner roles list candidate actions.
        k: number of discrete actions (games with fewer candidates are padded with masked slots).
        show: append the numbered candidates to the observation text.
        invalid: ``"noop"`` or ``"raise"``, what an index outside the mask does.
    """

    def __init__(
        self,
        env: gym.Env[str, str],
        k: int,
        *,
        show: bool = True,
        invalid: Literal["noop", "raise"] = "noop",
    ) -> None:
        super().__init__(env)
        if not isinstance(env.observation_space, spaces.Text):
            raise InvalidArgument(
                "CandidateActions needs an env with text observations (a Text observation space), "
                f"got {env.observation_space}: it appends the numbered options to the text. Wrap "
                "in this order: TokenizeObservation(CandidateActions(env, k)), or use "
                "langgames.integrations.sb3.candidate_env(game_id)"
            )
        self.k = _positive_int("k", k)
        if invalid not in ("noop", "raise"):
            raise InvalidArgument(f"invalid must be 'noop' or 'raise' (got {invalid!r})")
        self.show = bool(show)
        self.invalid = invalid
        self.action_space = spaces.Discrete(self.k)
        self._candidates: list[str] = []

    def action_masks(self) -> np.ndarray:
        """Boolean mask of length ``k``: which indices play a candidate now."""
        mask = np.zeros(self.k, dtype=bool)
        mask[: len(self._candidates)] = True
        return mask

    @property
    def candidates(self) -> list[str]:
        """The candidate moves the indices stand for now (at most ``k``)."""
        return list(self._candidates)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        return self._update(obs, info, done=False)

    def step(self, action: Any) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        text = self._text_for(action)
        obs, reward, terminated, truncated, info = self.env.step(text)
        obs, info = self._update(obs, info, done=terminated or truncated)
        return obs, reward, terminated, truncated, {**info, "chosen_action": text}

    def _text_for(self, action: Any) -> str:
        try:
            index = int(action)
            if index != action:
                raise ValueError
        except (TypeError, ValueError):
            raise InvalidArgument(
                f"CandidateActions expects an action index in 0..{self.k - 1}, got {action!r}"
            ) from None
        if 0 <= index < len(self._candidates):
            return self._candidates[index]
        if self.invalid == "raise":
            raise InvalidArgument(
                f"action {index} is masked out: only indices 0..{len(self._candidates) - 1} hold "
                f"a candidate now (action_masks() says which). Use MaskablePPO, or "
                f"CandidateActions(..., invalid='noop') to play such indices as an empty reply"
            )
        return ""  # documented no-op: the game judges it unparseable

    def _update(self, obs: str, info: dict[str, Any], *, done: bool) -> tuple[str, dict[str, Any]]:
        if done:
            self._candidates = []
            return obs, {**info, "candidate_actions": []}
        offered = info.get("candidate_actions")
        if offered is None:
            game = self.env.unwrapped
            lister = getattr(game, "candidate_actions", None)
            offered = lister() if callable(lister) else None
        if not offered:
            game = self.env.unwrapped
            name = getattr(getattr(game, "game_info", None), "id", type(game).__name__)
            role = info.get("role")
            raise InvalidArgument(
                f"CandidateActions: {name} lists no candidate actions for role {role!r}. Use a "
                "game that lists them (its info has 'candidate_actions'), and in a multi-role game "
                "give the roles without candidates fixed opponents, e.g. "
                "make_game(game_id, opponents={role: policy})"
            )
        self._candidates = [str(c) for c in offered[: self.k]]
        # The reply contract's last line (how to mark a free-text answer) means nothing here.
        instruction = getattr(self.env.unwrapped, "answer_instruction", None)
        if callable(instruction):
            obs = obs.removesuffix("\n" + instruction())
        if self.show:
            listed = "\n".join(f"{i}) {c}" for i, c in enumerate(self._candidates))
            obs = clean_text(f"{obs}\n\nOptions:\n{listed}")
        return obs, {**info, "candidate_actions": list(self._candidates)}


def candidate_env(
    game: str | LanguageGame,
    *,
    k: int = 6,
    max_length: int = 512,
    keep: Keep = "end",
    invalid: Literal["noop", "raise"] = "noop",
    **game_kwargs: Any,
) -> TokenizeObservation:
    """``TokenizeObservation(CandidateActions(game, k), max_length)``: a game ready for SB3.

    ``game`` is a game id (made with `langgames.registry.make_game` and ``game_kwargs``, e.g.
    ``difficulty=1`` or ``opponents={...}``) or a game instance.
    """
    if isinstance(game, str):
        from langgames.registry import make_game

        env: gym.Env[str, str] = make_game(game, **game_kwargs)
    else:
        if game_kwargs:
            raise InvalidArgument(
                f"candidate_env got keyword arguments {sorted(game_kwargs)} with a game instance; "
                "pass a game id to have them used, or build the game with them yourself"
            )
        env = game
    return TokenizeObservation(CandidateActions(env, k, invalid=invalid), max_length, keep=keep)


def _build_extractor() -> type:
    try:
        import torch
        from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
        from torch import nn
    except ImportError as err:
        package = "torch" if getattr(err, "name", "") == "torch" else "stable-baselines3"
        raise MissingExtra("ByteEmbeddingExtractor", "sb3", package) from err

    class ByteEmbeddingExtractor(BaseFeaturesExtractor):
        """Features from `TokenizeObservation` ids: byte + position embeddings, a 1-D conv, and
        mean and max pooling over the non-padding positions.

        Use it with any SB3 policy: ``policy_kwargs=dict(features_extractor_class=
        ByteEmbeddingExtractor, features_extractor_kwargs=dict(embed_dim=32))``. The position
        embedding lets it tell the options of `CandidateActions` apart (they sit at the end).

        Args:
            observation_space: a ``Box`` of shape ``(max_length,)`` holding token ids.
            embed_dim: size of the byte and position embeddings.
            channels: output channels of the convolution.
            kernel_size: width of the convolution, in bytes.
            features_dim: size of the features handed to the policy and value heads.
        """

        def __init__(
            self,
            observation_space: spaces.Box,
            embed_dim: int = 32,
            channels: int = 64,
            kernel_size: int = 5,
            features_dim: int = 128,
        ) -> None:
            shape = getattr(observation_space, "shape", None)
            if not isinstance(observation_space, spaces.Box) or shape is None or len(shape) != 1:
                raise InvalidArgument(
                    "ByteEmbeddingExtractor expects the Box space of TokenizeObservation, "
                    f"shape (max_length,), got {observation_space!r}"
                )
            super().__init__(observation_space, features_dim)
            length = int(shape[0])
            self.embed = nn.Embedding(VOCAB_SIZE, embed_dim, padding_idx=PAD_ID)
            self.position = nn.Embedding(length, embed_dim)
            self.conv = nn.Conv1d(embed_dim, channels, kernel_size, padding=kernel_size // 2)
            self.head = nn.Sequential(nn.Linear(2 * channels, features_dim), nn.ReLU())
            self.register_buffer("positions", torch.arange(length), persistent=False)

        def forward(self, observations: torch.Tensor) -> torch.Tensor:
            ids = observations.long().clamp(0, VOCAB_SIZE - 1)
            x = self.embed(ids) + self.position(self.positions)[None]
            h = torch.relu(self.conv(x.transpose(1, 2)))  # (batch, channels, length)
            real = (ids != PAD_ID).unsqueeze(1).to(h.dtype)
            count = real.sum(-1).clamp(min=1.0)
            mean = (h * real).sum(-1) / count
            peak = (h * real - (1.0 - real) * 1e4).amax(-1)
            return self.head(torch.cat([mean, peak], dim=1))

    # Importable (and picklable by reference) as langgames.integrations.sb3.ByteEmbeddingExtractor.
    ByteEmbeddingExtractor.__qualname__ = "ByteEmbeddingExtractor"
    ByteEmbeddingExtractor.__module__ = __name__
    return ByteEmbeddingExtractor


_EXTRACTOR: type | None = None


def __getattr__(name: str) -> Any:
    # ByteEmbeddingExtractor subclasses an SB3 class, so it is built on first use: importing this
    # module (or re-exporting the wrappers) never imports torch.
    global _EXTRACTOR
    if name == "ByteEmbeddingExtractor":
        if _EXTRACTOR is None:
            _EXTRACTOR = _build_extractor()
        return _EXTRACTOR
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
