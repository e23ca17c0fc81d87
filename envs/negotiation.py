"""Negotiation: two players split a pool of items they value privately; payoffs are exact."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from langgames.core import GameInfo, LanguageGame, Move, Opponent, ParseError
from langgames.errors import InvalidArgument, did_you_mean
from langgames.verifiers.verdict import Verdict

__all__ = ["HardBargainer", "Negotiation", "nash_split"]

#: Each player's values are whole points that add up to this over the whole pool.
TOTAL_POINTS = 10
_PENALTY = -0.1
_ITEMS = ("books", "hats", "balls", "pens", "cups", "maps")
# (item types, lowest count, highest count) per level.
_LEVELS = {1: (3, 1, 3), 2: (3, 1, 4), 3: (4, 1, 3)}
_MOVE = re.compile(r"(?i)^[\W_]{0,3}move[*_`]{0,3}[ \t]{0,4}:[ \t]*(?P<body>.*)$")
_PAIR = re.compile(r"([A-Za-z]+)\s*[=:]\s*(-?\d{1,6})")

Split = tuple[int, ...]  # how many of each item type the *first* role (alice) keeps


def _points(values: Split, keep: Split) -> int:
    return sum(v * k for v, k in zip(values, keep, strict=True))


def nash_split(counts: Split, a_values: Split, b_values: Split) -> tuple[Split, int, int]:
    """The split (what alice keeps) maximising the product of both players' points.

    Ties between splits with the same product are broken towards the more equal points, then
    the first split in lexicographic order. Returns ``(split, alice_points, bob_points)``.

    >>> nash_split((1, 2), (4, 3), (2, 4))
    ((1, 0), 4, 8)
    """
    best: tuple[tuple[int, int], Split, int, int] | None = None
    for keep in itertools.product(*(range(c + 1) for c in counts)):
        a = _points(a_values, keep)
        b = _points(b_values, tuple(c - k for c, k in zip(counts, keep, strict=True)))
        key = (a * b, -abs(a - b))
        if best is None or key > best[0]:
            best = (key, keep, a, b)
    assert best is not None
    return best[1], best[2], best[3]


class Negotiation(LanguageGame):
    """Two players split a pool of items they value privately; payoffs are computed exactly.

    ## Description
    A pool holds a few items of 3 or 4 types (e.g. 2 books, 1 hat, 3 balls). Each player has
    private whole-number values for the types, adding up to 10 points over the pool; each sees
    only their own. Players take turns: a move proposes a split (how many of each type *the
    proposer* keeps; the other player gets the rest) or accepts the other player's standing
    proposal, which ends the game with a deal. If no proposal is accepted within the turn limit,
    there is no deal.

    The game computes the **Nash bargaining split**: the split that maximises the product of
    both players' points (instances are generated so that its points are unique and positive
    for both). A player's reward for a deal is ``min(1, points / nash points)``: 1.0 means the
    player got at least its share of the Nash split. No deal earns 0 for both. Because a split
    that gives both players at least their Nash points must equal the Nash points, both players
    earn 1.0 exactly when they agree on the Nash split; pushing for more risks no deal.

    ## Roles
    ``alice`` proposes first, then ``bob``, alternating. Either role can be played by a fixed
    opponent: `HardBargainer` (opens by claiming everything, concedes steadily to the Nash split
    by its last turn, and accepts any proposal that gives it at least its Nash points) - so a
    player that always accepts, or always demands everything, earns nothing against it.

    ## Observation
    The pool, the player's own values (the other player's are never shown), the proposals so far,
    the standing proposal, the moves left, the rules and the answer format.

    ## Action
    A line ``move: propose books=1 hats=0 balls=2`` (what the mover keeps; every item type
    named once, counts between 0 and the pool's) or ``move: accept`` (only when the other player
    has a proposal standing). The last line starting with ``move:`` is read.

    ## Reward
    At a deal, each role receives ``min(1, points / nash points)``; with no deal, nothing.
    -0.1 for an unreadable or illegal move (the same role tries again); proposals themselves earn
    0. ``max_return`` is 1.0 for both roles: reached in self-play by two reference players and
    against `HardBargainer` by the reference (propose the Nash split, or accept an offer worth at
    least the Nash points).

    ## Episode end
    Terminates at the first accepted proposal; truncates (no deal) after ``max_turns`` moves
    (default 10).

    ## Arguments
    ``difficulty``: 1 (3 item types, 1-3 of each), 2 (3 types, 1-4 of each), 3 (4 types, 1-3 of
    each). ``opponents``: fixed policies for some roles (see Roles). ``max_turns``: move limit.

    ## Version History
    * v0: initial version.

    >>> env = Negotiation(opponents={"bob": HardBargainer()})
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(env.reference_action())
    >>> reward, terminated
    (1.0, True)
    """

    answer_marker = "line:move"
    game_info = GameInfo(
        name="Negotiation",
        version=0,
        roles=("alice", "bob"),
        verifiers=("exact",),
        answer_format=(
            "a last line `move: propose books=1 hats=0 balls=2` (what you keep, every item "
            "type named once) or `move: accept` (accept the other player's standing proposal)"
        ),
        reward_range=(_PENALTY, 1.0),
        max_turns=10,
        max_return=1.0,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("negotiation", "multi-role", "self-play", "game-theory", "exact"),
    )

    def __init__(
        self,
        *,
        difficulty: int | None = None,
        max_turns: int | None = None,
        render_mode: str | None = None,
        opponents: Mapping[str, Opponent] | None = None,
    ) -> None:
        super().__init__(
            difficulty=difficulty,
            max_turns=max_turns,
            render_mode=render_mode,
            opponents=opponents,
        )
        if self.max_turns < 2:
            raise InvalidArgument(
                f"Negotiation needs max_turns >= 2 so both players can move (got {self.max_turns})"
            )

    # ------------------------------------------------------------------ instance
    def _setup(self) -> str:
        rng = self.np_random
        n_types, low, high = _LEVELS[self.difficulty]
        while True:
            counts = tuple(int(c) for c in rng.integers(low, high + 1, size=n_types))
            options = self._value_vectors(counts)
            if len(options) < 4:
                continue
            a = options[int(rng.integers(len(options)))]
            b = options[int(rng.integers(len(options)))]
            if a == b:
                continue
            split, pa, pb = nash_split(counts, a, b)
            if min(pa, pb) < 2:
                continue
            # The Nash points must be unique, or "1.0 for both" would not name one outcome.
            pairs = {
                (_points(a, k), _points(b, tuple(c - x for c, x in zip(counts, k, strict=True))))
                for k in itertools.product(*(range(c + 1) for c in counts))
            }
            if sum(1 for x, y in pairs if x * y == pa * pb) != 1:
                continue
            if pa + pb <= TOTAL_POINTS:  # values that differ enough to make a deal worth finding
                continue
            break
        names = [_ITEMS[int(i)] for i in rng.permutation(len(_ITEMS))[:n_types]]
        self._names = tuple(names)
        self._counts = counts
        self._values = {"alice": a, "bob": b}
        self._nash = {"alice": (split, pa), "bob": (self._other_side(split), pb)}
        self._standing: tuple[str, Split] | None = None  # (proposer, what the proposer keeps)
        self._history: list[str] = []
        return "alice"

    @staticmethod
    def _value_vectors(counts: Split) -> list[Split]:
        out = []
        for values in itertools.product(range(TOTAL_POINTS + 1), repeat=len(counts)):
            if _points(values, counts) == TOTAL_POINTS and sum(v > 0 for v in values) >= 2:
                out.append(tuple(values))
        return out

    def _other_side(self, keep: Split) -> Split:
        return tuple(c - k for c, k in zip(self._counts, keep, strict=True))

    def _show(self, keep: Split) -> str:
        return " ".join(f"{n}={k}" for n, k in zip(self._names, keep, strict=True))

    def points(self, role: str, keep: Split) -> int:
        """``role``'s points for keeping ``keep`` (counts per item type)."""
        return _points(self._values[role], keep)

    def _other(self, role: str) -> str:
        return "bob" if role == "alice" else "alice"

    # ------------------------------------------------------------------ views
    def _prompt(self, role: str) -> str:
        pool = ", ".join(f"{n}: {c}" for n, c in zip(self._names, self._counts, strict=True))
        values = ", ".join(
            f"{n}: {v} each" for n, v in zip(self._names, self._values[role], strict=True)
        )
        other = self._other(role)
        lines = [
            f"Negotiation. You are {role}; the other player is {other}.",
            f"Pool (item: count): {pool}. Your private values: {values} ({TOTAL_POINTS} points "
            f"for the whole pool). {other} has different private values, also adding up to "
            f"{TOTAL_POINTS}.",
            "Take turns: propose a split (how many of each item YOU keep; the other player gets "
            "the rest), or accept the other player's standing proposal, which ends the game.",
            "Scoring: the game computes the split that maximises the product of both players' "
            "points (the Nash bargaining split). At a deal you score min(1, your points / your "
            "points in that split); with no deal both score 0.",
        ]
        if self._history:
            lines.append("Proposals so far:\n" + "\n".join(f"  {h}" for h in self._history))
        if self._standing is not None and self._standing[0] == other:
            keep = self._other_side(self._standing[1])
            lines.append(
                f"Standing proposal from {other}: you would get {self._show(keep)}, worth "
                f"{self.points(role, keep)} points to you."
            )
        left = self.max_turns - self._turn
        lines.append(
            f"Moves left in the game (both players): {left}; with none left there is no deal."
        )
        lines.append(
            "Reply with your move on the last line, either `move: propose "
            + " ".join(f"{n}=<count>" for n in self._names)
            + "` or `move: accept`."
        )
        return "\n".join(lines)

    def _candidates(self, role: str) -> list[str] | None:
        # No list: the legal moves ("accept" and every split) encode the state in a way a
        # question-blind rule exploits (in self-play the reference accepts the standing offer, so
        # "the shortest candidate" wins 66% against chance 3.5%).
        return None

    # ------------------------------------------------------------------ judging
    def parse_move(self, text: str) -> Split | None:
        """A move: ``None`` for accept, else what the mover keeps. Raises `ParseError`."""
        line = ""
        for candidate in reversed(text.splitlines()):
            if candidate.strip():
                line = candidate.strip()
                break
        match = _MOVE.match(line[:500])
        if match is None:
            shown = line[:60] + ("..." if len(line) > 60 else "")
            raise ParseError(f"expected a last line `move: propose ...` or `move: accept`, got "
                             f"{shown!r}")  # fmt: skip
        body = match["body"].strip().strip("`*").strip()
        word = body.split(maxsplit=1)[0].lower() if body else ""
        if word in ("accept", "accepted", "deal"):
            return None
        if word not in ("propose", "proposal", "offer", "keep"):
            raise ParseError(f"a move is `propose ...` or `accept`, got {body[:40]!r}")
        counts: dict[str, int] = {}
        for name, number in _PAIR.findall(body[:400]):
            name = name.lower()
            if name not in self._names:
                singular = {n.rstrip("s"): n for n in self._names}
                if name in singular:
                    name = singular[name]
                else:
                    raise ParseError(
                        f"there is no item {name!r} in the pool.{did_you_mean(name, self._names)} "
                        f"The items are: {', '.join(self._names)}."
                    )
            if name in counts:
                raise ParseError(f"{name} is named twice; name every item type once")
            counts[name] = int(number)
        missing = [n for n in self._names if n not in counts]
        if missing:
            raise ParseError(
                f"the proposal does not say how many {', '.join(missing)} you keep; name every "
                f"item type once, e.g. `move: propose {self._show(self._counts)}`"
            )
        keep = tuple(counts[n] for n in self._names)
        for name, k, c in zip(self._names, keep, self._counts, strict=True):
            if not 0 <= k <= c:
                raise ParseError(f"you can keep between 0 and {c} {name}, not {k}")
        return keep

    def _play(self, role: str, action: str) -> Move:
        keep = self.parse_move(action)
        other = self._other(role)
        if keep is None:
            if self._standing is None or self._standing[0] != other:
                raise ParseError(
                    f"there is no proposal from {other} to accept; make a proposal instead"
                )
            proposer, proposer_keeps = self._standing
            alice_keeps = (
                proposer_keeps if proposer == "alice" else self._other_side(proposer_keeps)
            )
            return self._deal(role, alice_keeps)
        self._standing = (role, keep)
        gives = self._other_side(keep)
        self._history.append(f"{role} keeps {self._show(keep)} ({other} gets {self._show(gives)})")
        verdict = Verdict.make_accepted(
            f"{role} proposes to keep {self._show(keep)}", keep=list(keep)
        )
        return Move(verdict, {role: 0.0}, next_role=other)

    def _deal(self, role: str, alice_keeps: Split) -> Move:
        bob_keeps = self._other_side(alice_keeps)
        rewards = {}
        points = {"alice": self.points("alice", alice_keeps), "bob": self.points("bob", bob_keeps)}
        for r in ("alice", "bob"):
            rewards[r] = min(1.0, points[r] / self._nash[r][1])
        verdict = Verdict.make_correct(
            f"deal: alice keeps {self._show(alice_keeps)} ({points['alice']} points, Nash "
            f"{self._nash['alice'][1]}), bob keeps {self._show(bob_keeps)} ({points['bob']} "
            f"points, Nash {self._nash['bob'][1]})",
            points=points,
            nash_points={r: self._nash[r][1] for r in ("alice", "bob")},
            rewards=rewards,
        )
        return Move(verdict, rewards, next_role=None, feedback=verdict.reason + ".")

    # ------------------------------------------------------------------ policies
    def _reference(self, role: str) -> str:
        """Accept an offer worth at least the Nash points; otherwise propose the Nash split."""
        split, nash_points = self._nash[role]
        if self._standing is not None and self._standing[0] != role:
            offered = self._other_side(self._standing[1])
            if self.points(role, offered) >= nash_points:
                return "move: accept"
        return f"move: propose {self._show(split)}"

    def hard_bargain(self, role: str) -> str:
        """`HardBargainer`'s move for ``role`` now (an oracle: it knows the Nash split)."""
        nash_points = self._nash[role][1]
        if self._standing is not None and self._standing[0] != role:
            offered = self._other_side(self._standing[1])
            if self.points(role, offered) >= nash_points:
                return "move: accept"
        if not any(h.startswith(role) for h in self._history):
            return f"move: propose {self._show(self._counts)}"  # the opening: everything
        # Demand falls linearly from everything to the Nash points by the last turns.
        progress = min(1.0, self._turn / max(1, self.max_turns - 2))
        demand = TOTAL_POINTS - (TOTAL_POINTS - nash_points) * progress
        other = self._other(role)
        best: tuple[tuple[int, int], Split] | None = None
        for keep in itertools.product(*(range(c + 1) for c in self._counts)):
            mine = self.points(role, keep)
            if mine + 1e-9 < demand:
                continue
            key = (self.points(other, self._other_side(keep)), mine)
            if best is None or key > best[0]:
                best = (key, keep)
        assert best is not None  # keeping everything always meets any demand <= 10
        return f"move: propose {self._show(best[1])}"

    @property
    def nash_points(self) -> dict[str, int]:
        """Each role's points in the Nash bargaining split of the current instance."""
        return {r: self._nash[r][1] for r in ("alice", "bob")}


class HardBargainer:
    """A fixed negotiator for either role of `Negotiation`.

    It opens by claiming the whole pool, then concedes steadily (its demand falls linearly from
    10 points to its Nash points by the last turns, and among splits meeting the demand it offers
    the one the other player values most), and accepts any proposal worth at least its Nash
    points. An oracle (it reads both players' values to know the Nash split); deterministic.
    Always accepting earns nothing against it (its opening leaves you nothing), nor does always
    demanding everything (it never accepts that); proposing the Nash split earns 1.0.

    >>> env = Negotiation(opponents={"alice": HardBargainer()})
    >>> obs, info = env.reset(seed=1)
    >>> info["role"], info["opponent_moves"][0]["action"].startswith("move: propose")
    ('bob', True)
    """

    def __call__(self, observation: str, info: Mapping[str, Any], game: LanguageGame) -> str:
        if not isinstance(game, Negotiation):
            raise InvalidArgument(
                f"HardBargainer plays Negotiation, not {type(game).__name__}; pass it as "
                'Negotiation(opponents={"bob": HardBargainer()})'
            )
        role = game.role
        if role is None:
            raise InvalidArgument("HardBargainer was asked to move after the episode ended")
        return game.hard_bargain(role)

    def __repr__(self) -> str:
        return "HardBargainer()"
