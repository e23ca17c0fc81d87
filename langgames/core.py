"""The base class of every language game.

A game is a `gymnasium.Env` whose observations and actions are text. `LanguageGame` owns what is
the same in every game, so that a game module only writes its rules:

- seeding (only through the env's own ``np_random``; the global ``random`` and ``numpy.random``
  states are never touched) and a reproducible instance seed per episode (``info["seed"]``);
- text spaces (`langgames.spaces.text_space`), with observations cleaned to stay inside them;
- roles and turns: ``info["role"]`` is the role that acts next, ``info["rewards"]`` maps every role
  to the reward it was assigned in this step, ``info["verdict"]`` says how the move was judged;
- untrusted actions: anything that is text (or bytes) is accepted; oversized or unreadable moves
  become an `unparseable` verdict with the game's minimum reward and a feedback message that
  repeats the expected format; the same role then tries again while turns remain;
- the turn limit (``max_turns``, counting every move) and truncation.

A game subclass declares a `GameInfo` and overrides five hooks::

    class MyGame(LanguageGame):
        game_info = GameInfo(name="MyGame", version=0, roles=("player",), ...)

        def _setup(self) -> str:                 # new instance from self.np_random; first role
        def _prompt(self, role: str) -> str:     # what `role` sees when it must act
        def _play(self, role: str, action: str) -> Move:   # judge a move (raise ParseError)
        def _reference(self, role: str) -> str:  # the move an optimal player makes now
        def _candidates(self, role: str) -> list[str] | None:   # optional: legal moves

The base class keeps its state in ``_role``, ``_done``, ``_turn``, ``_instance_seed``,
``_feedback``, ``_episode_log``, ``_first_obs``, ``_first_role`` and ``_base_difficulty``; a game
keeps its own state under other names.

**The scalar reward.** ``step`` returns as ``reward`` the reward assigned in this step to the role
that just acted. Rewards a step assigns to other roles (for example a proposer rewarded once the
solvers have answered) are in ``info["rewards"]``; multi-role trainers read that mapping. In a
single-role game the two agree.

**Seeds.** ``reset(seed=s)`` makes the episode whose instance seed is ``s``; ``reset()`` without a
seed draws the next instance seed from the env's generator, inside `TRAIN_SEEDS`. Either way
``info["seed"]`` holds it and ``reset(seed=info["seed"])`` replays the same instance. Seeds are
turned into generators through NumPy's ``SeedSequence``, so adjacent seeds give unrelated instances
(never shifted copies). Evaluate on `EVAL_SEEDS`, which never overlaps `TRAIN_SEEDS`.
"""

from __future__ import annotations

import functools
import inspect
import logging
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, SupportsFloat

import gymnasium as gym
from gymnasium.utils import seeding

from langgames.contract import (
    REASONING_TAGS,
    answer_instruction,
    check_marker,
    read_reply,
)
from langgames.errors import (
    ContractError,
    InvalidActionType,
    InvalidArgument,
    LangGamesError,
    ParseError,
    ResetNeeded,
    did_you_mean,
)
from langgames.spaces import MAX_TEXT_LENGTH, clean_text, text_space
from langgames.verifiers.verdict import Verdict

__all__ = [
    "EVAL_SEEDS",
    "TRAIN_SEEDS",
    "GameInfo",
    "LanguageGame",
    "Move",
    "ParseError",
    "ResetNeeded",
    "reference_opponent",
]

logger = logging.getLogger(__name__)

#: Instance seeds for training. ``reset()`` without a seed draws from this range.
TRAIN_SEEDS = range(0, 1_000_000_000)
#: Instance seeds for evaluation; disjoint from `TRAIN_SEEDS`.
EVAL_SEEDS = range(1_000_000_000, 1_001_000_000)

#: Longest action, in characters, that a game will try to read. Longer actions are `unparseable`.
MAX_ACTION_LENGTH = MAX_TEXT_LENGTH

#: Options every game accepts (``gym.make(id, candidates_in_info=True)``), handled by the base
#: class: whether ``info`` lists ``candidate_actions``, and the reply contract's reasoning tags.
BASE_OPTIONS = ("candidates_in_info", "reasoning_tags")

#: A fixed policy for one role: ``policy(observation, info, game) -> action``.
Opponent = Callable[[str, Mapping[str, Any], "LanguageGame"], str]


@dataclass(frozen=True)
class GameInfo:
    """What a game declares about itself. Frozen: measured facts live in the registry's card.

    Attributes:
        name: the game's name; the id is ``langgames/<name>-v<version>``.
        version: bumped on any change to prompts, instance distribution, answer format or verifier.
        roles: the roles in turn order of a typical episode; a single-role game has one.
        verifiers: the kinds of check behind the reward (``"exact"``, ``"python"``, ``"math"``).
        answer_format: one sentence a player can follow; repeated in format-error feedback.
        reward_range: bounds of any reward one step assigns to one role. The lower bound is what an
            unreadable move earns.
        max_return: the episode return per role of an optimal player (what the reference earns).
        max_turns: default limit on the number of moves (every role's, valid or not) per episode.
        deterministic: same seed and same actions give the same episode, in any process.
        difficulty_levels: the accepted values of the ``difficulty`` argument, easiest first.
        default_difficulty: the difficulty used when none is given.
        tags: skills and families, for suites and search.
        reference_roles: roles whose reference policy earns ``max_return``; ``None`` means all. A
            game where optimal play of one role depends on others (e.g. a proposer rewarded for
            problems that solvers find hard) lists only the roles it can guarantee.
        stateful: episodes change a memory that later episodes read (e.g. a library of problems
            that grows). Seeded determinism is then checked between *fresh* envs only, since a
            reused env has, by design, learnt from its earlier episodes.
    """

    name: str
    version: int
    roles: tuple[str, ...]
    verifiers: tuple[str, ...]
    answer_format: str
    reward_range: tuple[float, float]
    max_turns: int
    max_return: float = 1.0
    deterministic: bool = True
    difficulty_levels: tuple[int, ...] = (1, 2, 3)
    default_difficulty: int = 1
    tags: tuple[str, ...] = ()
    reference_roles: tuple[str, ...] | None = None
    stateful: bool = False

    def __post_init__(self) -> None:
        if not self.roles:
            raise InvalidArgument(f"{self.name}: a game needs at least one role (got roles=())")
        low, high = self.reward_range
        if not low <= 0.0 <= high or low == high:
            raise InvalidArgument(
                f"{self.name}: reward_range must satisfy low <= 0 <= high and low < high "
                f"(got {self.reward_range})"
            )
        if self.default_difficulty not in self.difficulty_levels:
            raise InvalidArgument(
                f"{self.name}: default_difficulty must be one of {self.difficulty_levels} "
                f"(got {self.default_difficulty})"
            )
        if self.max_turns < 1:
            raise InvalidArgument(f"{self.name}: max_turns must be >= 1 (got {self.max_turns})")

    @property
    def id(self) -> str:
        return f"langgames/{self.name}-v{self.version}"

    @property
    def optimal_roles(self) -> tuple[str, ...]:
        return self.roles if self.reference_roles is None else self.reference_roles


@dataclass(frozen=True, init=False)
class Move:
    """What a game's `LanguageGame._play` returns for one move.

    Attributes:
        verdict: how the move was judged.
        rewards: reward assigned in this step, by role (roles not listed get nothing).
        next_role: the role that acts next, or ``None`` when the episode is over.
        feedback: text shown at the start of the acting role's next observation (if it acts again).
    """

    verdict: Verdict
    rewards: Mapping[str, float] = field(default_factory=dict)
    next_role: str | None = None
    feedback: str = ""

    def __init__(
        self,
        verdict: Verdict,
        rewards: Mapping[str, float] | None = None,
        next_role: str | None = None,
        feedback: str = "",
    ) -> None:
        # One Move per step: filling __dict__ directly is about twice as fast as the generated
        # frozen __init__ (one object.__setattr__ per field). Still frozen after construction.
        fields = self.__dict__
        fields["verdict"] = verdict
        fields["rewards"] = {} if rewards is None else rewards
        fields["next_role"] = next_role
        fields["feedback"] = feedback


def _check_init_kwargs(cls: type, signature: inspect.Signature, kwargs: Mapping[str, Any]) -> None:
    params = signature.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    accepted = [n for n, p in params.items() if n != "self" and p.kind is not p.VAR_POSITIONAL]
    accepted += BASE_OPTIONS
    for name in kwargs:
        if name not in params:
            raise InvalidArgument(
                f"{cls.__name__} got an unexpected keyword argument {name!r}."
                f"{did_you_mean(name, accepted)} Accepted keyword arguments: "
                f"{', '.join(accepted) or '(none)'}."
            )


class LanguageGame(gym.Env[str, str]):
    """Base class of every langgames game. See the module docstring for the contract.

    Args:
        difficulty: one of ``game_info.difficulty_levels`` (default: ``default_difficulty``).
        max_turns: limit on moves per episode (default ``game_info.max_turns``).
        render_mode: ``"ansi"`` (``render()`` returns the transcript) or ``"human"`` (prints it).
        opponents: fixed policies for some roles, ``{role: policy(observation, info, game)}``.
            The env plays those roles itself, so the caller sees only the other roles' turns:
            each ``step`` is the caller's move followed by every opponent move up to the caller's
            next turn. ``reward`` is then everything the caller's roles earned in that span,
            ``info["rewards"]`` sums every role's rewards over it, ``info["verdict"]`` judges the
            caller's move and ``info["opponent_moves"]`` lists the others.
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "human"], "render_fps": 1}
    game_info: ClassVar[GameInfo]
    #: How a reply marks its answer (`langgames.contract`): ``"boxed"``, ``"code"``,
    #: ``"code:sql"``, ``"line:<keyword>"`` or ``None``; or a mapping from role to one of those.
    answer_marker: ClassVar[str | Mapping[str, str | None] | None] = None
    #: Tags whose blocks are reasoning, removed before the answer is read (settable per env).
    reasoning_tags: tuple[str, ...] = REASONING_TAGS
    #: Whether ``info`` carries ``candidate_actions`` (off by default: listing legal moves costs
    #: time on every step; `candidate_actions()` gives them on demand).
    candidates_in_info: bool = False
    #: The keyword arguments this game was built with (so tools can build it again).
    init_kwargs: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__init__  # the class's own, or the one it inherits
        signature = inspect.signature(init)

        if isinstance(cls.__dict__.get("answer_marker"), str | None):
            check_marker(cls.__dict__.get("answer_marker"))
        elif isinstance(cls.__dict__.get("answer_marker"), Mapping):
            for marker in cls.__dict__["answer_marker"].values():
                check_marker(marker)

        @functools.wraps(init)
        def checked_init(self: LanguageGame, *args: Any, **kw: Any) -> None:
            # Unknown keyword arguments get "did you mean" instead of Python's bare TypeError;
            # checked once, by the most derived class. The options every game takes
            # (`BASE_OPTIONS`) are handled here, so a game's own __init__ never sees them.
            if type(self).__init__ is not checked_init:
                init(self, *args, **kw)
                return
            options = {k: kw.pop(k) for k in BASE_OPTIONS if k in kw}
            _check_init_kwargs(type(self), signature, kw)
            self.init_kwargs = {**kw, **options}  # how to build this game again (the kit does)
            init(self, *args, **kw)
            self._set_base_options(**options)

        cls.__init__ = checked_init  # type: ignore[method-assign]

    def __init__(
        self,
        *,
        difficulty: int | None = None,
        max_turns: int | None = None,
        render_mode: str | None = None,
        opponents: Mapping[str, Opponent] | None = None,
    ) -> None:
        info = self.game_info
        self._opponents = self._check_opponents(opponents)
        self._base_difficulty = self._check_difficulty(
            info.default_difficulty if difficulty is None else difficulty
        )
        self.difficulty = self._base_difficulty
        if max_turns is None:
            max_turns = info.max_turns
        if isinstance(max_turns, bool) or not isinstance(max_turns, int) or max_turns < 1:
            raise InvalidArgument(
                f"{info.name}: max_turns must be a positive int (got {max_turns!r}); "
                f"the default for this game is {info.max_turns}"
            )
        self.max_turns = max_turns
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise InvalidArgument(
                f"{info.name}: render_mode must be one of {self.metadata['render_modes']} or None "
                f"(got {render_mode!r})"
            )
        self.render_mode = render_mode
        self.observation_space = text_space()
        self.action_space = text_space()
        self.reward_range = info.reward_range  # kept for older wrappers that read it
        self._role: str | None = None
        self._done = True
        self._turn = 0
        self._instance_seed: int | None = None
        self._first_role: str | None = None
        self._feedback: dict[str, str] = {}
        # (role, action, verdict, reward, observation) per move; formatted only by render().
        self._episode_log: list[tuple[str, str, Verdict, float, str]] = []
        self._first_obs = ""
        self._parsed_action = ""
        #: The whole reply being judged, after the contract's normalisation and reasoning
        #: removal but before its answer is picked out (``_play`` receives the answer).
        self._reply = ""

    def _set_base_options(
        self,
        *,
        candidates_in_info: bool = False,
        reasoning_tags: tuple[str, ...] | list[str] | None = None,
    ) -> None:
        if not isinstance(candidates_in_info, bool):
            raise InvalidArgument(
                f"candidates_in_info must be True or False (got {candidates_in_info!r})"
            )
        self.candidates_in_info = candidates_in_info
        if reasoning_tags is not None:
            if isinstance(reasoning_tags, str) or not all(
                isinstance(t, str) and t.isidentifier() for t in reasoning_tags
            ):
                raise InvalidArgument(
                    "reasoning_tags must be a list of tag names such as ['think', 'reasoning'] "
                    f"(got {reasoning_tags!r}); pass [] to keep reasoning blocks in the reply"
                )
            self.reasoning_tags = tuple(reasoning_tags)

    # ------------------------------------------------------------------ hooks for subclasses
    def _setup(self) -> str:
        """Generate a new instance using only ``self.np_random``; return the first role to act."""
        raise NotImplementedError

    def _prompt(self, role: str) -> str:
        """The observation for ``role``, which must act now (without any feedback prefix)."""
        raise NotImplementedError

    def _play(self, role: str, action: str) -> Move:
        """Judge ``action`` by ``role``; raise `ParseError` if it cannot be read."""
        raise NotImplementedError

    def _reference(self, role: str) -> str:
        """An action that earns the maximum reward for ``role`` now. Never shown to players."""
        raise NotImplementedError

    def _candidates(self, role: str) -> list[str] | None:
        """Legal moves for ``role`` now, if the game can list them (used by `CandidateActions`)."""
        return None

    def game_probes(self) -> dict[str, Opponent]:
        """This game's own exploit probes, by name: the replies a policy that has read *this*
        game's prompt would try for unearned reward (the target itself, every option at once,
        the ends of a range...). Each is a policy ``(observation, info, game) -> reply``.

        `langgames.policies.exploit_probes` plays them beside the generic battery, so the
        registry-wide exploit test and the audit hold them to the same rule: none may earn more
        than random text. Empty by default; names must not repeat a generic probe's name.
        """
        return {}

    @classmethod
    def fixed_opponents(cls) -> dict[str, dict[str, Opponent]]:
        """The documented fixed-opponent set-ups of a multi-role game, by name: each maps roles
        to the policies that play them (``opponents=``). The exploit battery and the
        question-blind scan play every set-up besides self-play, so a constant that beats a
        fixed opponent is caught. Single-role games have none."""
        return {}

    def _answer_marker(self, role: str) -> str | None:
        """The answer marker of ``role`` (`langgames.contract`); from `answer_marker` by default."""
        marker = self.answer_marker
        if marker is None or type(marker) is str:  # the common case, without an ABC check
            return marker
        if isinstance(marker, Mapping):
            return marker.get(role)
        return marker

    def _on_unparseable(self, role: str, verdict: Verdict) -> Move:
        """The outcome of an unreadable move. Default: minimum reward, same role tries again."""
        return Move(
            verdict=verdict,
            rewards={role: self.game_info.reward_range[0]},
            next_role=role,
            feedback=(
                f"Your last reply could not be read: {verdict.reason}\n"
                f"Expected format: {self.game_info.answer_format}"
            ),
        )

    def _reward_for(self, verdict: Verdict) -> float:
        """Default mapping from a verifier's verdict to this game's reward scale."""
        if verdict.failed:
            return self.game_info.reward_range[0]
        return verdict.reward * self.game_info.reward_range[1]

    # ------------------------------------------------------------------ public API
    @property
    def role(self) -> str | None:
        """The role that acts next (``None`` before ``reset`` and after the episode ends)."""
        return self._role

    @property
    def instance_seed(self) -> int | None:
        """The seed of the current instance (``info["seed"]``)."""
        return self._instance_seed

    def max_return(self, role: str) -> float:
        """The episode return of ``role`` under optimal play (override when it depends on
        arguments, e.g. the number of solvers)."""
        return self.game_info.max_return

    @property
    def learner_roles(self) -> tuple[str, ...]:
        """The roles the caller plays: every role without a fixed opponent."""
        return tuple(r for r in self.game_info.roles if r not in self._opponents)

    @property
    def optimal_roles(self) -> tuple[str, ...]:
        """Roles whose reference earns `max_return` in *this* configuration (the kit checks them).

        By default: the declared ``GameInfo.optimal_roles`` that the caller plays. Override when
        it depends on arguments, e.g. a role that can only win against a fixed, flawed opponent.
        """
        return tuple(r for r in self.game_info.optimal_roles if r in self.learner_roles)

    def reference_action(self) -> str:
        """The reference solver's move for the role to act now (earns the maximum reward)."""
        self._require_running("reference_action")
        assert self._role is not None
        return self._reference(self._role)

    def answer_instruction(self, role: str | None = None) -> str:
        """The line that ends ``role``'s prompts: how its answer is marked (`langgames.contract`).

        ``role`` defaults to the role to act now.
        """
        role = self._role if role is None else role
        return answer_instruction(None if role is None else self._answer_marker(role))

    def candidate_actions(self) -> list[str] | None:
        """Legal moves for the role to act now, or ``None`` if this game cannot list them."""
        self._require_running("candidate_actions")
        assert self._role is not None
        return self._candidates(self._role)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode. ``options={"difficulty": level}`` sets this episode's level only."""
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InvalidArgument(f"seed must be a non-negative int or None (got {seed!r})")
        super().reset(seed=seed)
        if seed is None:
            seed = int(self.np_random.integers(TRAIN_SEEDS.start, TRAIN_SEEDS.stop))
            self._np_random, self._np_random_seed = seeding.np_random(seed)
        self._instance_seed = seed
        self.difficulty = self._base_difficulty
        if options:
            unknown = set(options) - {"difficulty"}
            if unknown:
                name = sorted(unknown)[0]
                raise InvalidArgument(
                    f"reset() got an unknown option {name!r}.{did_you_mean(name, ['difficulty'])}"
                    " Accepted options: difficulty."
                )
            if "difficulty" in options:
                self.difficulty = self._check_difficulty(options["difficulty"])
        self._turn = 0
        self._feedback = {}
        self._done = False
        self._role = self._setup()
        obs = self._observation()
        self._first_obs, self._first_role = obs, self._role
        self._episode_log = []
        info = self._info(None, {}, None)
        if self._role in self._opponents:
            obs, _, terminated, truncated, info = self._play_opponents(obs, info, 0.0, False, False)
            if terminated or truncated:
                raise LangGamesError(
                    f"{self.game_info.name}: the opponents {sorted(self._opponents)} ended the "
                    "episode before any other role acted; leave at least one acting role to the "
                    "caller"
                )
        return obs, info

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        if not self._opponents:
            return self._advance(action)
        obs, _, terminated, truncated, info = self._advance(action)
        mine = sum(v for r, v in info["rewards"].items() if r not in self._opponents)
        return self._play_opponents(obs, info, mine, terminated, truncated)

    def _play_opponents(
        self, obs: str, info: dict[str, Any], reward: float, terminated: bool, truncated: bool
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Play opponent moves until a caller's role must act; fold their rewards in.

        The returned info describes the latest state, with the caller's own ``verdict`` and
        ``actor`` (``None`` after ``reset``) and every role's rewards summed over the span.
        """
        own = {k: info[k] for k in ("verdict", "actor", "parsed_action")}
        rewards = dict(info["rewards"])
        moves: list[dict[str, Any]] = []
        while not (terminated or truncated) and self._role in self._opponents:
            role = self._role
            action = _as_text(self._opponents[role](obs, info, self))
            obs, _, terminated, truncated, info = self._advance(action)
            moves.append({"role": role, "action": action, "verdict": info["verdict"]})
            for r, value in info["rewards"].items():
                rewards[r] = rewards.get(r, 0.0) + value
                if r not in self._opponents:
                    reward += value
        return (
            obs,
            reward,
            terminated,
            truncated,
            {**info, **own, "rewards": rewards, "opponent_moves": moves},
        )

    def _advance(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """One move by the role to act now (opponents included)."""
        if self._done:
            self._require_running("step")
        role = self._role
        assert role is not None
        # Plain ASCII text (the common case) needs no conversion: it cannot hold a surrogate.
        text = action if type(action) is str and action.isascii() else _as_text(action)
        self._turn += 1
        move = self._judge(role, text)
        rewards = move.rewards
        reward = float(rewards.get(role, 0.0))
        feedback = move.feedback
        next_role = move.next_role
        terminated = next_role is None
        truncated = not terminated and self._turn >= self.max_turns
        if terminated or truncated:
            if feedback:
                self._feedback[role] = feedback
            self._done = True
            self._role = None
            obs = clean_text(self._final_text(role, move, truncated))
        elif next_role == role and not self._feedback:
            # The same role acts again and no other feedback waits (a single-role game): its
            # feedback goes straight into its next observation, without a store and a pop.
            obs = self._observation(feedback)
        else:
            if feedback:
                self._feedback[role] = feedback
            self._role = next_role
            obs = self._observation()
        verdict = move.verdict
        self._episode_log.append((role, text, verdict, reward, obs))
        if self.render_mode == "human":
            print(self._format_step(len(self._episode_log) - 1))
        return obs, reward, terminated, truncated, self._info(verdict, rewards, role)

    def render(self) -> str | None:
        """The episode so far as text: every observation, action and verdict, in order."""
        text = "\n".join(
            [f"=== observation (role: {self._first_role}) ===\n{self._first_obs}"]
            + [self._format_step(i) for i in range(len(self._episode_log))]
        )
        if self.render_mode == "human":
            print(text)
            return None
        return text

    # ------------------------------------------------------------------ internals
    def _judge(self, role: str, text: str) -> Move:
        """Judge one reply: the length limit, the reply contract, then the game's `_play`."""
        self._parsed_action = ""
        if len(text) > MAX_ACTION_LENGTH:
            return self._on_unparseable(
                role,
                Verdict.make_unparseable(
                    f"the reply is {len(text):,} characters long; the limit is "
                    f"{MAX_ACTION_LENGTH:,}",
                    length=len(text),
                ),
            )
        try:
            self._reply, parsed = read_reply(text, self._answer_marker(role), self.reasoning_tags)
        except ContractError as err:
            self._parsed_action = ""
            return self._on_unparseable(role, Verdict.make_unparseable(str(err)))
        self._parsed_action = parsed
        try:
            return self._play(role, parsed)
        except ParseError as err:
            return self._on_unparseable(role, Verdict.make_unparseable(err.reason))
        except Exception as err:  # a bug in the game, never the player's fault: make it loud
            logger.exception("%s: the game failed while judging a move", self.game_info.id)
            verdict = Verdict.make_verifier_error(
                f"the game failed while judging this move: {type(err).__name__}: {err}",
                traceback=traceback.format_exc(limit=8),
            )
            return Move(verdict, rewards={role: 0.0}, next_role=None)

    def _observation(self, feedback: str | None = None) -> str:
        """What the role to act now sees: ``feedback`` (by default, the feedback waiting for
        it), its prompt and the answer instruction."""
        role = self._role
        assert role is not None
        prompt = self._prompt(role).rstrip()
        instruction = self.answer_instruction(role)
        if feedback is None:
            feedback = self._feedback.pop(role, "") if self._feedback else ""
        if feedback:
            return clean_text(f"{feedback}\n\n{prompt}\n{instruction}")
        return clean_text(f"{prompt}\n{instruction}")

    def _final_text(self, role: str, move: Move, truncated: bool) -> str:
        """The observation after the last move: its feedback and how the episode ended."""
        end = (
            f"The episode is over: the limit of {self.max_turns} moves was reached."
            if truncated
            else "The episode is over."
        )
        said = (
            move.feedback
            or f"Your last move was judged {move.verdict.status.value}: {move.verdict.reason}."
        )
        return f"{said}\n\n{end}"

    def _info(
        self, verdict: Verdict | None, rewards: Mapping[str, float], actor: str | None
    ) -> dict[str, Any]:
        floats = {}
        for r, v in rewards.items():  # a loop, not a comprehension: no frame per step
            floats[r] = float(v)
        info: dict[str, Any] = {
            "role": self._role,
            "actor": actor,
            "rewards": floats,
            "verdict": {}
            if verdict is None
            else {  # verdict.to_dict(), without the enum's `value` property (test_core checks)
                "status": verdict.status._value_,
                "reward": verdict.reward,
                "reason": verdict.reason,
                "details": dict(verdict.details),
            },
            "parsed_action": "" if verdict is None else self._parsed_action,
            "turn": self._turn,
            "seed": self._instance_seed,
            "difficulty": self.difficulty,
        }
        if self.candidates_in_info and self._role is not None:
            candidates = self._candidates(self._role)
            if candidates is not None:
                info["candidate_actions"] = candidates
        return info

    def _check_opponents(self, opponents: Mapping[str, Opponent] | None) -> dict[str, Opponent]:
        if not opponents:
            return {}
        roles = self.game_info.roles
        if not isinstance(opponents, Mapping):
            raise InvalidArgument(
                f"opponents must map role names to policies, e.g. {{{roles[-1]!r}: policy}} "
                f"(got {type(opponents).__name__})"
            )
        for role, policy in opponents.items():
            if role not in roles:
                raise InvalidArgument(
                    f"{self.game_info.name} has no role {role!r}.{did_you_mean(str(role), roles)} "
                    f"Its roles are: {', '.join(roles)}."
                )
            if not callable(policy):
                raise InvalidArgument(
                    f"opponents[{role!r}] must be callable as policy(observation, info, game) "
                    f"-> str (got {type(policy).__name__})"
                )
        if set(opponents) >= set(roles):
            raise InvalidArgument(
                f"opponents cover every role of {self.game_info.name} ({', '.join(roles)}); "
                "leave at least one role for the caller to play"
            )
        return dict(opponents)

    def _check_difficulty(self, value: Any) -> int:
        levels = self.game_info.difficulty_levels
        if isinstance(value, bool) or value not in levels:
            raise InvalidArgument(
                f"{self.game_info.name}: difficulty must be one of {levels} (got {value!r})"
            )
        return int(value)

    def _require_running(self, what: str) -> None:
        if self._done:
            raise ResetNeeded(
                f"{what}() needs a running episode: call env.reset() first"
                + (" (the last episode has ended)" if self._instance_seed is not None else "")
            )

    def _format_step(self, index: int) -> str:
        role, action, verdict, reward, obs = self._episode_log[index]
        shown = action if len(action) <= 2000 else action[:2000] + f"... [{len(action):,} chars]"
        last = index == len(self._episode_log) - 1 and self._done
        next_role = (
            self._episode_log[index + 1][0] if index + 1 < len(self._episode_log) else self._role
        )
        return "\n".join(
            [
                f"=== action (role: {role}) ===",
                clean_text(shown),
                f"=== verdict: {verdict.status.value} | reward {reward:+.4g} "
                f"| {verdict.reason} ===",
                f"=== end of episode ===\n{obs}"
                if last
                else f"=== observation (role: {next_role}) ===\n{obs}",
            ]
        )

    def __str__(self) -> str:
        return f"<{type(self).__name__} {self.game_info.id} difficulty={self.difficulty}>"


def reference_opponent(observation: str, info: Mapping[str, Any], game: LanguageGame) -> str:
    """A fixed opponent that plays the game's reference move (an optimal player)."""
    return game.reference_action()


def _as_text(action: Any) -> str:
    """Coerce an action to ``str`` without ever failing on its *content*."""
    if isinstance(action, str):
        text = str(action)  # also turns numpy.str_ into str
    elif isinstance(action, (bytes, bytearray, memoryview)):
        text = bytes(action).decode("utf-8", errors="replace")
    else:
        raise InvalidActionType(
            f"step() expects the action as text (str or UTF-8 bytes), got "
            f"{type(action).__name__} {action!r:.80}. Pass the model's reply as a string, "
            'e.g. env.step("42").'
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: keep the rest of the text readable
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text
