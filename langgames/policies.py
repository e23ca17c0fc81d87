"""Policies: anything that turns an observation into an action.

A policy is a callable ``policy(observation, info, env) -> str``. ``env`` is the game itself
(``env.unwrapped``), which only privileged policies such as `reference` may look into.

>>> import gymnasium as gym, langgames
>>> env = gym.make("langgames/BaseConvert-v0").unwrapped
>>> obs, info = env.reset(seed=0)
>>> reference(obs, info, env) == env.reference_action()
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from langgames.adversarial import FORMAT_ONLY, INJECTIONS
from langgames.core import LanguageGame
from langgames.errors import InvalidArgument, did_you_mean

__all__ = [
    "BUILTIN_POLICIES",
    "FORMAT_ONLY",
    "INJECTIONS",
    "Constant",
    "HFPolicy",
    "NamedPolicy",
    "Policy",
    "RandomText",
    "Scripted",
    "echo",
    "exploit_probes",
    "load_policy",
    "most_common_reference",
    "parse_options",
    "probe_names",
    "prompt_and_options",
    "reference",
    "split_policies",
]

Policy = Callable[[str, Mapping[str, Any], LanguageGame], str]

_ALPHABET = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789 +-*/=()[]{}.,:;'\"\n"))


def reference(observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
    """The game's reference solver (an oracle: it reads the hidden instance)."""
    return env.reference_action()


class RandomText:
    """Random short text from a small alphabet of letters, digits and punctuation.

    It is the "random policy" baseline that exploit probes are compared with. Its own generator
    is seeded once; it never touches the global random state.
    """

    def __init__(self, seed: int = 0, max_length: int = 24) -> None:
        self._rng = np.random.default_rng(seed)
        self._max_length = max_length

    def __call__(self, observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
        candidates = _candidates(info, env)
        if candidates and self._rng.random() < 0.5:
            return str(candidates[int(self._rng.integers(len(candidates)))])
        n = int(self._rng.integers(0, self._max_length + 1))
        return "".join(self._rng.choice(_ALPHABET, size=n))


class Scripted:
    """Plays the given actions in order, then falls back to ``then`` (default: the reference)."""

    def __init__(self, actions: list[str], then: Policy = reference) -> None:
        self._actions = list(actions)
        self._then = then
        self._i = 0

    def __call__(self, observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
        if self._i < len(self._actions):
            self._i += 1
            return self._actions[self._i - 1]
        return self._then(observation, info, env)


class Constant:
    """Always the same reply (e.g. ``"0"``, ``"yes"``, or the game's most common gold answer)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __call__(self, observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Constant({self.text!r})"


def echo(observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
    """Reply with the observation itself."""
    return observation


def prompt_and_options(observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
    """The observation followed by every candidate action the game lists, one per line."""
    options = _candidates(info, env) or []
    return "\n".join([observation, *map(str, options)])


def _candidates(info: Mapping[str, Any], env: Any) -> list[str] | None:
    """The legal moves on offer: from ``info`` when the env lists them there, else asked for."""
    offered = info.get("candidate_actions")
    if offered is None and env is not None:
        lister = getattr(getattr(env, "unwrapped", env), "candidate_actions", None)
        if callable(lister):
            try:
                offered = lister()
            except Exception:  # a finished episode or a wrapper without a running game
                offered = None
    return offered


def most_common_reference(game: LanguageGame, seeds: range = range(200)) -> str:
    """The reference's most frequent *first* move over ``seeds`` (ties: the first seen).

    A game whose gold answers concentrate on one value can be farmed by always saying it; the
    exploit battery plays this constant to find out.
    """
    counts: dict[str, int] = {}
    for seed in seeds:
        game.reset(seed=seed)
        action = game.reference_action()
        counts[action] = counts.get(action, 0) + 1
    return max(counts, key=lambda a: counts[a])


def exploit_probes(game: LanguageGame) -> dict[str, Policy]:
    """The exploit battery for ``game``: policies that must not beat random text.

    Empty, constants (including the game's most common gold answer, and the best generic reply:
    the one of `langgames.testing.GENERIC_REPLIES` that pays this game most, chosen on training
    seeds), echo of the prompt, the prompt padded with every option, huge text, format-only
    replies and injection strings; then the game's own probes (`LanguageGame.game_probes`).
    A game made with fixed ``opponents=`` is probed as made: the
    battery plays it in that set-up (see `langgames.testing.opponent_setups`).
    """
    from langgames.testing import BestGenericConstant  # the testing kit imports this module

    probes: dict[str, Policy] = {
        "empty": Constant(""),
        "constant_0": Constant("0"),
        "constant_1": Constant("1"),
        "constant_yes": Constant("yes"),
        "most_common_gold": Constant(most_common_reference(game)),
        "best_generic_constant": BestGenericConstant(game),
        "echo": echo,
        "prompt_and_options": prompt_and_options,
        "huge": Constant("9" * 200_000),
    }
    probes.update({f"format_only_{i}": Constant(t) for i, t in enumerate(FORMAT_ONLY)})
    probes.update({f"injection_{i}": Constant(t) for i, t in enumerate(INJECTIONS)})
    base = getattr(game, "unwrapped", game)
    own = base.game_probes() if isinstance(base, LanguageGame) else {}
    clash = sorted(set(own) & set(probes))
    if clash:
        raise InvalidArgument(
            f"{type(game).__name__}.game_probes() names {clash}, which the generic battery "
            f"already uses; expected names of its own (e.g. 'target_itself'). Rename them"
        )
    probes.update(own)
    return probes


# ---------------------------------------------------------------------------------------------
# Named policies for benchmarks: `load_policy("random")`, `load_policy("hf:./my-model")`, ...

#: Names `load_policy` accepts besides probe names, ``hf:<path>`` and ``module:callable``.
BUILTIN_POLICIES = ("reference", "random", "probes")


class _NoGame:
    """Stands in for a game to list `exploit_probes` names without playing anything."""

    def reset(self, seed: int | None = None) -> None:
        return None

    def reference_action(self) -> str:
        return ""


def probe_names() -> list[str]:
    """The names of every exploit probe (the keys of `exploit_probes`), in battery order."""
    return list(exploit_probes(_NoGame()))  # type: ignore[arg-type]


class NamedPolicy:
    """A policy by name, made fresh for each episode: ``named.build(game, seed) -> Policy``.

    ``seed`` seeds the policy's own generator (the benchmark derives it from the suite seed, the
    game, the difficulty and the episode index, so it never depends on the worker). ``close`` (if
    given) releases what the policy holds (a model, HTTP clients) when a run ends.
    """

    def __init__(
        self,
        name: str,
        build: Callable[[LanguageGame, int], Any],
        *,
        close: Callable[[], Any] | None = None,
    ) -> None:
        self.name = name
        self.build = build
        self.close = close

    def __repr__(self) -> str:
        return f"NamedPolicy({self.name!r})"


def _probe_builder(name: str) -> Callable[[LanguageGame, int], Policy]:
    cache: dict[str, dict[str, Policy]] = {}

    def build(game: LanguageGame, seed: int) -> Policy:
        key = game.game_info.id  # the battery is built once per game (and per process)
        if key not in cache:
            cache[key] = exploit_probes(game)
        return cache[key][name]

    return build


def _import_target(spec: str) -> tuple[Any, str, str]:
    """``(module, module name, attribute path)`` of ``module:callable`` or ``file.py:callable``.

    A module is imported with the current directory first on ``sys.path``, as ``python -m``
    would; a file path is loaded as a module of its own (relative paths from the current
    directory).
    """
    import importlib
    import importlib.util
    import os
    import sys

    target, _, attr = spec.rpartition(":")
    if target.endswith(".py"):
        path = os.path.abspath(target)
        if not os.path.isfile(path):
            raise InvalidArgument(
                f"policy {spec!r}: no such file {path!r}. A file policy is "
                "'path/to/agents.py:callable'."
            )
        name = "_langgames_policy_" + "".join(c if c.isalnum() else "_" for c in path)
        if name in sys.modules:
            return sys.modules[name], target, attr
        file_spec = importlib.util.spec_from_file_location(name, path)
        if file_spec is None or file_spec.loader is None:
            raise InvalidArgument(f"policy {spec!r}: cannot load {path!r} as Python")
        module = importlib.util.module_from_spec(file_spec)
        sys.modules[name] = module  # dataclasses and pickling look the module up there
        try:
            file_spec.loader.exec_module(module)
        except Exception:
            sys.modules.pop(name, None)
            raise
        return module, target, attr
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(target)
    except ImportError as err:
        raise InvalidArgument(
            f"policy {spec!r}: cannot import module {target!r} ({err}). A 'module:callable' "
            "policy names a module importable from the current directory and a callable in it, "
            "e.g. 'mypkg.agents:policy', or a file: 'path/to/agents.py:policy'."
        ) from err
    return module, target, attr


def _module_builder(spec: str, options: Mapping[str, Any]) -> Callable[[LanguageGame, int], Any]:
    import inspect

    module, module_name, attr = _import_target(spec)
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(module) if not n.startswith("_")]
            raise InvalidArgument(
                f"policy {spec!r}: module {module_name!r} has no attribute {attr!r}."
                f"{did_you_mean(attr, names)}"
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise InvalidArgument(f"policy {spec!r} is not callable (got {type(obj).__name__})")
    if isinstance(obj, type):  # a class: one instance per episode, seeded when it takes a seed
        takes_seed = "seed" in inspect.signature(obj).parameters
        kwargs = dict(options)
        return lambda game, seed: obj(seed=seed, **kwargs) if takes_seed else obj(**kwargs)
    if options:
        raise InvalidArgument(
            f"policy {spec!r}: options {sorted(options)} can only be given to a class (made "
            "once per episode with them as keyword arguments), not to a function"
        )
    return lambda game, seed: obj


def split_policies(spec: str) -> list[str]:
    """The comma-separated policies of ``spec``; commas inside ``[...]``, ``{...}`` or quotes
    (in options such as ``stop=[",", "."]``) do not split.

    >>> split_policies('reference, openai:m?stop=["a","b"],random')
    ['reference', 'openai:m?stop=["a","b"]', 'random']
    """
    parts: list[str] = []
    cur: list[str] = []
    depth, quote = 0, ""
    for ch in spec:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def parse_options(text: str) -> dict[str, Any]:
    """``key=value&key2=value2`` (a policy spec's ``?`` part) as a dict; values are read as JSON
    when they parse (``0.7``, ``true``, ``["\\n"]``), else kept as text.

    >>> parse_options("temperature=0.7&stop=[\\"END\\"]&system_prompt=Be brief")
    {'temperature': 0.7, 'stop': ['END'], 'system_prompt': 'Be brief'}
    """
    import json
    from urllib.parse import unquote

    out: dict[str, Any] = {}
    for item in filter(None, text.split("&")):
        key, eq, value = item.partition("=")
        if not eq:
            raise InvalidArgument(
                f"policy option {item!r} has no value; write key=value, e.g. temperature=0.7"
            )
        value = unquote(value)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


#: Options a ``hf:<dir>`` policy accepts.
HF_OPTIONS = ("max_new_tokens", "temperature", "stop", "return_tokens", "device")


def _check_options(name: str, given: Mapping[str, Any], accepted: tuple[str, ...]) -> None:
    for key in given:
        if key not in accepted:
            raise InvalidArgument(
                f"policy {name!r}: unknown option {key!r}.{did_you_mean(key, accepted)} "
                f"Accepted: {', '.join(accepted)}."
            )


def load_policy(
    spec: str,
    *,
    max_new_tokens: int | None = None,
    temperature: float | None = None,
    options: Mapping[str, Any] | None = None,
) -> list[NamedPolicy]:
    """The policies named by ``spec``: one name or several separated by commas.

    Names: ``reference`` (the oracle), ``random`` (`RandomText`), ``probes`` (every exploit
    probe) or one probe name (see `probe_names`), ``hf:<path>`` (a local transformers causal LM,
    `HFPolicy`), ``openai:<model>`` (a model behind an OpenAI-compatible API,
    `langgames.openai_policy.OpenAIPolicy`), ``module:callable`` (imported from the current
    directory) and ``path/to/file.py:callable``. A callable is a policy function, or a class
    **made once per episode**, with ``seed=`` when its constructor takes one.

    Options: a spec may end in ``?key=value&...`` (``openai:m?temperature=0.7``); ``options``
    (``--policy-options JSON``), ``max_new_tokens`` and ``temperature`` apply to every model
    policy that accepts them, and a spec's own options win. A class policy gets its spec's
    options as keyword arguments.

    Model policies are checked here (the extra is installed, the directory exists), so a policy
    that cannot load fails before any episode runs.

    >>> [p.name for p in load_policy("reference,random")]
    ['reference', 'random']
    >>> load_policy("refrence")
    Traceback (most recent call last):
    ...
    langgames.errors.InvalidArgument: unknown policy 'refrence'. Did you mean: `reference`? ...
    """
    common = dict(options or {})
    if max_new_tokens is not None:
        common.setdefault("max_new_tokens", max_new_tokens)
    if temperature is not None:
        common.setdefault("temperature", temperature)
    if common:
        from langgames.openai_policy import OPENAI_OPTIONS

        _check_options("options", common, tuple(dict.fromkeys(OPENAI_OPTIONS + HF_OPTIONS)))
    out: list[NamedPolicy] = []
    probes = probe_names()
    for name in split_policies(spec):
        base, _, query = name.partition("?")
        own = parse_options(query) if query else {}
        if base == "reference" and not own:
            out.append(NamedPolicy(name, lambda game, seed: reference))
        elif base == "random" and not own:
            out.append(NamedPolicy(name, lambda game, seed: RandomText(seed)))
        elif base == "probes" and not own:
            out.extend(NamedPolicy(p, _probe_builder(p)) for p in probes)
        elif base in probes and not own:
            out.append(NamedPolicy(name, _probe_builder(base)))
        elif base in (*BUILTIN_POLICIES, *probes):
            raise InvalidArgument(f"policy {base!r} takes no options (got {sorted(own)})")
        elif base.startswith("hf:"):
            _check_options(name, own, HF_OPTIONS)
            opts = {k: v for k, v in common.items() if k in HF_OPTIONS} | own
            out.append(_hf_named(name, base[len("hf:") :], opts))
        elif base.startswith("openai:"):
            from langgames.openai_policy import OPENAI_OPTIONS

            _check_options(name, own, OPENAI_OPTIONS)
            opts = {k: v for k, v in common.items() if k in OPENAI_OPTIONS} | own
            out.append(_openai_named(name, base[len("openai:") :], opts))
        elif ":" in base:
            out.append(NamedPolicy(name, _module_builder(base, own)))
        else:
            hint = did_you_mean(base, [*BUILTIN_POLICIES, *probes])
            raise InvalidArgument(
                f"unknown policy {base!r}.{hint} Expected one of {', '.join(BUILTIN_POLICIES)}, "
                "an exploit probe name (e.g. 'empty', 'echo'), 'hf:<path to a local model dir>', "
                "'openai:<model>', 'module:callable' or 'path/to/file.py:callable'; separate "
                "several with commas."
            )
    if not out:
        raise InvalidArgument(f"no policy named in {spec!r}; e.g. --policy reference,random")
    return out


def _openai_named(name: str, model: str, options: Mapping[str, Any]) -> NamedPolicy:
    from langgames.openai_policy import OpenAIPolicy

    policy = OpenAIPolicy(model, **options)  # checks the extra and the options now

    def close() -> Any:
        return policy.aclose()

    return NamedPolicy(name, lambda game, seed: policy.episode(seed), close=close)


def _hf_named(name: str, path: str, options: Mapping[str, Any]) -> NamedPolicy:
    import importlib.util
    import os

    for module in ("torch", "transformers"):
        if importlib.util.find_spec(module) is None:
            from langgames.errors import MissingExtra

            raise MissingExtra(f"the policy {name!r}", "hf", module)
    if not os.path.isdir(path):
        raise InvalidArgument(
            f"hf policy: {path!r} is not a directory. Give a local model directory saved "
            "with save_pretrained (model and tokenizer); models are never downloaded."
        )
    model: list[HFPolicy] = []  # loaded on the first episode, in the worker that plays it

    def build(game: LanguageGame, seed: int) -> HFPolicy:
        if not model:
            model.append(HFPolicy(path, **dict(options)))
        model[0].reseed(seed)
        return model[0]

    return NamedPolicy(name, build)


class HFPolicy:
    """A local transformers causal LM as a policy (``pip install 'langgames[hf]'``).

    Loads ``path`` with ``AutoTokenizer``/``AutoModelForCausalLM`` and ``local_files_only=True``
    (it never downloads). Prompts go through the tokenizer's chat template when it has one.
    ``temperature=0`` decodes greedily; otherwise it samples, seeded by `reseed`. The reply is
    cut at the first of ``stop`` strings, row by row.

    Batching: `generate` takes many observations and makes one left-padded ``generate`` call;
    `act_batch` is the `langgames.rollout` batch interface, so `collect` and the benchmark batch
    the observations of every in-flight episode (``concurrency=N``). Greedy results are the
    same batched or not (left padding with an attention mask and matching position ids).
    Sampling draws from one generator per call, so sampled replies depend on the batch.

    ``return_tokens=True``: replies are `langgames.rollout.Reply` objects with ``prompt_ids``,
    ``completion_ids`` (up to and including the end-of-sequence token, cut after a stop string)
    and ``logprobs`` (log-probabilities of the completion tokens under the sampling
    distribution, i.e. after temperature).
    """

    def __init__(
        self,
        path: str,
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        stop: str | tuple[str, ...] | list[str] = (),
        seed: int = 0,
        device: str = "cpu",
        return_tokens: bool = False,
    ) -> None:
        import os

        # The arguments first: a wrong path fails at once, without loading the ML stack.
        if not os.path.isdir(path):
            raise InvalidArgument(
                f"hf policy: {path!r} is not a directory. Give a local model directory saved "
                "with save_pretrained (model and tokenizer); models are never downloaded."
            )
        if max_new_tokens < 1 or temperature < 0:
            raise InvalidArgument(
                "hf policy: max_new_tokens must be >= 1 and temperature >= 0 "
                f"(got {max_new_tokens}, {temperature})"
            )
        try:
            import torch
            import transformers
        except ImportError as err:
            from langgames.errors import MissingExtra

            raise MissingExtra("the hf: policy", "hf", err.name or "transformers") from err
        self._torch = torch
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        model: Any = transformers.AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
        self.model: Any = model.to(device)
        self.model.eval()
        self.device = device
        self.max_new_tokens = int(max_new_tokens)
        self.temperature = float(temperature)
        self.stop = (stop,) if isinstance(stop, str) else tuple(stop)
        self.return_tokens = return_tokens
        self._seed = seed
        self._calls = 0
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"

    def reseed(self, seed: int) -> None:
        """Restart the sampling stream from ``seed`` (the benchmark calls it per episode)."""
        self._seed, self._calls = seed, 0

    def _prompt(self, observation: str) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            messages = [{"role": "user", "content": observation}]
            return str(
                self.tokenizer.apply_chat_template(
                    messages, tokenize=False, add_generation_prompt=True
                )
            )
        return observation

    def generate(self, observations: list[str]) -> list[str]:
        """One reply per observation, generated as one batch."""
        return [r.text for r in self.generate_replies(observations)]

    def generate_replies(self, observations: list[str]) -> list[Any]:
        """Like `generate`, as `langgames.rollout.Reply` objects with token ids and logprobs."""
        from langgames.rollout import Reply

        torch = self._torch
        prompts = [self._prompt(o) for o in observations]
        limit = getattr(self.model.config, "max_position_embeddings", None) or getattr(
            self.model.config, "n_positions", None
        )
        kwargs: dict[str, Any] = {}
        if limit:
            kwargs = {"truncation": True, "max_length": max(1, int(limit) - self.max_new_tokens)}
            self.tokenizer.truncation_side = "left"  # keep the end of the prompt
        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, **kwargs).to(self.device)
        gen: dict[str, Any] = {"max_new_tokens": self.max_new_tokens}
        if self.temperature > 0:
            gen.update(do_sample=True, temperature=self.temperature, top_k=0)
        else:
            gen.update(do_sample=False)
        if self.return_tokens:
            gen.update(output_scores=True, return_dict_in_generate=True)
        torch.manual_seed(self._seed * 1_000_003 + self._calls)
        self._calls += 1
        with torch.no_grad():
            output = self.model.generate(**batch, pad_token_id=self.tokenizer.pad_token_id, **gen)
        sequences = output.sequences if self.return_tokens else output
        width = batch["input_ids"].shape[1]
        new = sequences[:, width:]
        eos = self.tokenizer.eos_token_id
        replies = []
        for row in range(new.shape[0]):
            ids = new[row].tolist()
            if eos in ids:  # generation stops at the first end of sequence; the rest is padding
                ids = ids[: ids.index(eos) + 1]
            text = str(self.tokenizer.decode(ids, skip_special_tokens=True))
            cut = self._cut(text)
            if cut != text:  # keep the tokens whose text reaches the stop string's start
                while ids and len(self.tokenizer.decode(ids[:-1], skip_special_tokens=True)) >= len(
                    cut
                ):
                    ids = ids[:-1]
            reply = Reply(cut)
            if self.return_tokens:
                mask = batch["attention_mask"][row].bool()
                reply.prompt_ids = batch["input_ids"][row][mask].tolist()
                reply.completion_ids = ids
                logps = []
                for k, tok in enumerate(ids):
                    scores = output.scores[k][row].float()
                    logps.append(float(torch.log_softmax(scores, -1)[tok]))
                reply.logprobs = logps
            replies.append(reply)
        return replies

    def _cut(self, text: str) -> str:
        ends = [i for s in self.stop if (i := text.find(s)) >= 0]
        return text[: min(ends)] if ends else text

    def act_batch(self, requests: list[Any]) -> list[Any]:
        """The `langgames.rollout` batch interface: one reply per in-flight episode."""
        replies = self.generate_replies([r.observation for r in requests])
        return replies if self.return_tokens else [r.text for r in replies]

    def __call__(self, observation: str, info: Mapping[str, Any], env: LanguageGame) -> Any:
        reply = self.generate_replies([observation])[0]
        return reply if self.return_tokens else reply.text
