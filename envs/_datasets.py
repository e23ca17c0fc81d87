"""What the dataset games share: rows read from your files or dataset objects, splits, seed -> row.

`DatasetSource` reads the rows once (JSON Lines, JSON and CSV by itself; Parquet, ``save_to_disk``
folders and Hugging Face datasets through the ``datasets`` extra, never downloading anything), sorts
them into a training pool and an evaluation pool, and maps every instance seed to one row:

* **Pools.** With the data's own splits (``data_files={"train": ..., "test": ...}``, a
  ``DatasetDict``, or a ``split`` column), `TRAIN_SEEDS` play ``train_split`` and `EVAL_SEEDS` play
  ``eval_split`` (default: ``"test"``, else ``"validation"``). Without splits, a fixed
  ``eval_fraction`` of the rows (chosen by ``shuffle_seed``) is held out for evaluation, so the two
  seed ranges never play the same row.
* **Seed -> row.** Each pool is shuffled once by a fixed permutation (``shuffle_seed``); seed ``s``
  plays position ``s % n`` of the training pool, or ``(s - EVAL_SEEDS.start) % n`` of the
  evaluation pool. So ``EVAL_SEEDS[:n]`` plays every evaluation row exactly once.
* **Levels.** A ``level``/``difficulty`` column (or ``level_key``) becomes the game's difficulty
  levels (``"Level 3"`` -> 3; words such as easy/medium/hard are ranked); level 0 plays every row.
  Without such a column the game has the single level 1.
* **Unusable rows** (a missing field, a gold that cannot be read) never crash ``reset``: the seed
  moves on to the next usable row of its permutation, and `langgames._dataset_audit` reports them.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from langgames.core import EVAL_SEEDS, LanguageGame
from langgames.errors import DatasetError, MissingExtra, did_you_mean
from langgames.verifiers.verdict import Verdict

__all__ = [
    "DataArg",
    "DatasetError",
    "DatasetGame",
    "DatasetSource",
    "RowRef",
    "extract_gold",
    "last_boxed",
    "sample_path",
    "seconds_arg",
]

#: What ``data_files`` accepts: a path, several paths, or ``{split: path(s)}``.
DataArg = str | os.PathLike | Sequence[str | os.PathLike] | Mapping[str, Any] | None

_DATA_DIR = Path(__file__).resolve().parent.parent / "langgames" / "data"
_LEVEL_COLUMNS = ("level", "difficulty")
_LEVEL_WORDS = ("easy", "introductory", "medium", "interview", "hard", "competition", "expert")
_MAX_LEVELS = 12
_GSM8K = re.compile(r"(?m)^[ \t]*####[ \t]*(.+?)[ \t]*$")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def sample_path(name: str) -> Path:
    """The shipped sample file ``name`` (inside the installed package, or this checkout)."""
    from importlib import resources

    try:
        found = resources.files("langgames").joinpath("data").joinpath(name)
        if found.is_file():
            return Path(str(found))
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - odd installs
        pass
    return _DATA_DIR / name


@dataclass(frozen=True, order=True)
class RowRef:
    """Where a row lives: its split and its index in that split (``info["row"]``)."""

    split: str
    index: int

    def as_dict(self) -> dict[str, Any]:
        return {"split": self.split, "index": self.index}

    def __str__(self) -> str:
        return f"{self.split}[{self.index}]"


# ------------------------------------------------------------------------------------- reading
def _read_json(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".json" and text.lstrip().startswith("["):
        data = json.loads(text)
        return list(data)
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise DatasetError(
                f"{path}: line {number} is not valid JSON ({err.msg}); a JSON Lines file holds "
                'one object per line, e.g. {"question": "1+1?", "answer": "2"}'
            ) from None
    return rows


def _read_csv(path: Path) -> list[Any]:
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return [dict(row) for row in csv.DictReader(handle, delimiter=delimiter)]


def _require(feature: str, module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(feature, "datasets", module) from None


def _read_parquet(path: Path) -> list[Any]:
    pq = _require(f"reading {path.name} (Parquet)", "pyarrow.parquet")
    return list(pq.read_table(path).to_pylist())


def _read_path(path: str | os.PathLike) -> tuple[list[Any] | Mapping[str, Any], bool]:
    """Rows of one file (or a ``save_to_disk`` folder: maybe several splits, flagged True)."""
    p = Path(path).expanduser()
    if not p.exists():
        near = [q.name for q in p.parent.iterdir()] if p.parent.is_dir() else []
        raise DatasetError(
            f"data file {str(path)!r} does not exist.{did_you_mean(p.name, near)} Give a path to "
            "a .jsonl, .json, .csv, .tsv or .parquet file (relative paths start from "
            f"{os.getcwd()!r})"
        )
    if p.is_dir():
        datasets = _require(f"reading the dataset folder {p}", "datasets")
        loaded = datasets.load_from_disk(str(p))
        if isinstance(loaded, Mapping):
            return {str(k): v for k, v in loaded.items()}, True
        return loaded, False
    suffix = "".join(p.suffixes[-1:]).lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return _read_json(p), False
    if suffix in (".csv", ".tsv"):
        return _read_csv(p), False
    if suffix == ".parquet":
        return _read_parquet(p), False
    raise DatasetError(
        f"cannot read {p.name!r}: expected a .jsonl, .json, .csv, .tsv or .parquet file, or a "
        "folder written by datasets' save_to_disk"
    )


def _rows_of(paths: Any, what: str) -> Sequence[Any]:
    if isinstance(paths, (str, os.PathLike)):
        rows, split = _read_path(paths)
        if split:
            raise DatasetError(f"{what}: {paths} holds several splits; pass it as data_files=path")
        return rows  # type: ignore[return-value]
    if isinstance(paths, Sequence):
        out: list[Any] = []
        for p in paths:
            out.extend(_rows_of(p, what))
        return out
    raise DatasetError(f"{what}: expected a path or a list of paths (got {type(paths).__name__})")


def _load_hub(name: str, config: str | None) -> Any:
    datasets = _require(f"loading the dataset {name!r}", "datasets")
    # Never download: only a dataset already in the local cache is read.
    saved = {k: os.environ.get(k) for k in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")}
    flags = [(m, a, getattr(m, a)) for m in (datasets.config,) for a in ("HF_HUB_OFFLINE",)
             if hasattr(m, a)]  # fmt: skip
    try:
        os.environ.update({"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"})
        for module, attr, _ in flags:
            setattr(module, attr, True)
        return datasets.load_dataset(name, config)
    except Exception as err:
        raise DatasetError(
            f"the dataset {name!r} is not in the local Hugging Face cache, or cannot be read "
            f"offline ({type(err).__name__}: {str(err)[:200]}). langgames never downloads data: "
            f"download it yourself (datasets.load_dataset({name!r}) once, online), or pass "
            "data_files=<path> or the dataset object"
        ) from None
    finally:
        for module, attr, value in flags:
            setattr(module, attr, value)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _splits_from(data_files: DataArg, dataset: Any, config: str | None) -> dict[str, Sequence]:
    """``{split: rows}``; data without splits is under the name ``""``."""
    if data_files is not None and dataset is not None:
        raise DatasetError("pass either data_files (paths) or dataset (an object or a name)")
    if isinstance(data_files, Mapping):
        return {str(k): _rows_of(v, f"data_files[{k!r}]") for k, v in data_files.items()}
    if isinstance(data_files, (str, os.PathLike)):
        rows, several = _read_path(data_files)
        if several:
            return {str(k): v for k, v in rows.items()}  # type: ignore[union-attr]
        return {"": rows}  # type: ignore[dict-item]
    if data_files is not None:
        return {"": _rows_of(data_files, "data_files")}
    if isinstance(dataset, str):
        dataset = _load_hub(dataset, config)
    if isinstance(dataset, Mapping) and not _looks_like_row(dataset):
        return {str(k): _as_rows(v, f"dataset[{k!r}]") for k, v in dataset.items()}
    return {"": _as_rows(dataset, "dataset")}


def _looks_like_row(obj: Mapping) -> bool:
    return not all((isinstance(v, Sequence) and not isinstance(v, (str, bytes))) or hasattr(
        v, "column_names") for v in obj.values())  # fmt: skip


def _as_rows(obj: Any, what: str) -> Sequence[Any]:
    if hasattr(obj, "to_dict") and hasattr(obj, "columns") and hasattr(obj, "iloc"):  # pandas
        return list(obj.to_dict("records"))
    if isinstance(obj, Sequence) and not isinstance(obj, (str, bytes)):
        return obj
    if hasattr(obj, "__len__") and hasattr(obj, "__getitem__") and hasattr(obj, "column_names"):
        return obj  # a datasets.Dataset: rows are read by index, lazily
    raise DatasetError(
        f"{what}: expected rows (a list of dicts, a datasets.Dataset or DatasetDict, a pandas "
        f"DataFrame, or {{split: rows}}), got {type(obj).__name__}"
    )


def _columns(rows: Sequence[Any]) -> list[str]:
    if hasattr(rows, "column_names"):
        return list(rows.column_names)
    for row in (
        rows[:50] if isinstance(rows, list) else (rows[i] for i in range(min(50, len(rows))))
    ):
        if isinstance(row, Mapping):
            return [str(k) for k in row]
    return []


# ------------------------------------------------------------------------------------- golds
def last_boxed(text: str) -> str | None:
    r"""The contents of the last ``\boxed{...}`` (or ``\fbox{...}``) in ``text``, or ``None``.

    >>> last_boxed(r"so $x = \boxed{\frac{1}{2}}$; check: \boxed{3}")
    '3'
    >>> last_boxed(r"\boxed{\frac{1}{2}}") , last_boxed("no box") , last_boxed(r"\boxed 7.")
    ('\\frac{1}{2}', None, '7')
    """
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = start + (len("\\boxed") if text.startswith("\\boxed", start) else len("\\fbox"))
    if text[i : i + 1] == " ":  # \boxed 7 (no braces): one token
        match = re.match(r" +([^\s$]+)", text[i:])
        return match.group(1).rstrip(".,;") if match else None
    if text[i : i + 1] != "{":
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{" and text[j - 1] != "\\":
            depth += 1
        elif text[j] == "}" and text[j - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def _tidy(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "$":
        text = text.strip("$").strip()
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    return text


#: The accepted values of ``gold_format``.
GOLD_FORMATS = ("auto", "boxed", "####", "raw")


def extract_gold(value: Any, gold_format: str | Callable[[Any], Any] = "auto") -> str | None:
    r"""The gold answer inside a dataset's answer field, or ``None`` if there is none.

    ``"auto"`` takes the last ``\boxed{}`` (MATH style) if there is one, else a final ``#### 42``
    line (GSM8K style), else the whole text; ``"boxed"`` and ``"####"`` insist on theirs; ``"raw"``
    takes the text as it is. A callable gets the field and returns the gold. Numbers are written
    back exactly (``0.5`` -> ``"0.5"``) and ``1,234`` loses its thousands separator.

    >>> extract_gold("She pays 3 * 4 = 12 dollars.\n#### 1,200"), extract_gold(7)
    ('1200', '7')
    >>> extract_gold(r"Hence $\boxed{\dfrac{3}{4}}$."), extract_gold("x", "boxed")
    ('\\dfrac{3}{4}', None)
    """
    if callable(gold_format):
        value = gold_format(value)
        gold_format = "raw"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    found: str | None
    if gold_format == "raw":
        found = value
    elif gold_format == "boxed":
        found = last_boxed(value)
    elif gold_format == "####":
        matches = _GSM8K.findall(value)
        found = matches[-1] if matches else None
    else:
        found = last_boxed(value)
        if found is None:
            matches = _GSM8K.findall(value)
            found = matches[-1] if matches else value
    if found is None:
        return None
    found = _tidy(found)
    return found or None


def check_gold_format(value: Any) -> str | Callable[[Any], Any]:
    if callable(value) or value in GOLD_FORMATS:
        return value
    raise DatasetError(
        f"gold_format must be one of {GOLD_FORMATS} or a callable field -> gold (got {value!r})."
        f"{did_you_mean(str(value), GOLD_FORMATS)}"
    )


# ------------------------------------------------------------------------------------- levels
def _level_number(value: Any) -> float | str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip()
    match = re.fullmatch(r"(?i)(?:level|lvl|difficulty)?\s*[-_ ]?\s*(-?\d+(?:\.\d+)?)", text)
    if match:
        return float(match.group(1))
    return text.lower() or None


def _level_map(values: Iterable[Any]) -> dict[Any, int] | None:
    """Raw level values -> positive levels (``None`` if there are too many to be levels)."""
    keys = {_level_number(v) for v in values} - {None}
    if not keys or len(keys) > _MAX_LEVELS:
        return None
    numbers = sorted(k for k in keys if isinstance(k, float))
    words = sorted(
        (k for k in keys if isinstance(k, str)),
        key=lambda w: (_LEVEL_WORDS.index(w) if w in _LEVEL_WORDS else len(_LEVEL_WORDS), w),
    )
    if not words and all(n == int(n) and n >= 1 for n in numbers):
        return {n: int(n) for n in numbers}
    ranked = [*numbers, *words]
    return {k: i + 1 for i, k in enumerate(ranked)}


# ------------------------------------------------------------------------------------- source
class DatasetSource:
    """The rows of one dataset game: pools, levels and the seed -> row map (see the module doc).

    ``required`` maps the fields every row must have to the argument that names them
    (``{"question": "question_key"}``); data without one raises `DatasetError` at construction,
    naming the fields it does have.
    """

    def __init__(
        self,
        *,
        game: str,
        data_files: DataArg,
        dataset: Any,
        dataset_config: str | None,
        sample: str,
        required: Mapping[str, str],
        train_split: str,
        eval_split: str | None,
        eval_fraction: float,
        split_key: str | None,
        level_key: str | None,
        shuffle_seed: int,
    ) -> None:
        self.game = game
        self.sample = data_files is None and dataset is None
        if self.sample:
            data_files = sample_path(sample)
        if isinstance(eval_fraction, bool) or not (
            isinstance(eval_fraction, (int, float)) and 0 < eval_fraction < 1
        ):
            raise DatasetError(
                f"{game}: eval_fraction must be a number between 0 and 1, e.g. 0.2 "
                f"(got {eval_fraction!r})"
            )
        if isinstance(shuffle_seed, bool) or not isinstance(shuffle_seed, int) or shuffle_seed < 0:
            raise DatasetError(
                f"{game}: shuffle_seed must be a non-negative int (got {shuffle_seed!r})"
            )
        self.shuffle_seed = shuffle_seed
        splits = _splits_from(data_files, dataset, dataset_config)
        splits = {k: v for k, v in splits.items() if len(v)}
        if not splits:
            raise DatasetError(f"{game}: the data has no rows")
        columns = _columns(next(iter(splits.values())))
        missing = [k for k in required if k not in columns]
        if missing:
            raise DatasetError(
                f"{game}: the rows have no {missing[0]!r} field.{did_you_mean(missing[0], columns)}"
                f" Their fields are: {', '.join(columns) or '(none)'}. Say which field to "
                f"read with {required[missing[0]]}=<field name>"
            )
        if split_key is not None and "" in splits and split_key in columns:
            splits = self._split_by_column(splits, split_key)
        self.splits: dict[str, Sequence[Any]] = splits
        self.level_key = self._level_key(level_key, columns)
        self._levels: dict[RowRef, int] = {}
        if self.level_key is not None:
            every = [ref for name in self.splits for ref in self._refs(name)]
            raw = {ref: self._field(ref, self.level_key) for ref in every}
            mapping = _level_map(raw.values())
            if mapping is None:
                self.level_key = None
            else:
                for ref, value in raw.items():
                    key = _level_number(value)
                    if key in mapping:
                        self._levels[ref] = mapping[key]
        self.levels: tuple[int, ...] = (
            (0, *sorted(set(self._levels.values()))) if self._levels else (1,)
        )
        self.train, self.eval, self.held_out = self._pools(
            train_split, eval_split, float(eval_fraction)
        )
        self._eval_set = set(self.eval)
        self._orders: dict[tuple[bool, int], list[RowRef]] = {}

    # -- construction helpers
    @staticmethod
    def _split_by_column(splits: dict[str, Sequence], key: str) -> dict[str, Sequence]:
        grouped: dict[str, list[Any]] = {}
        for row in splits.pop(""):
            name = row.get(key) if isinstance(row, Mapping) else None
            grouped.setdefault(str(name) if name not in (None, "") else "", []).append(row)
        out: dict[str, Sequence] = dict(grouped)
        out.update(splits)
        return out

    def _pools(
        self, train_split: str, eval_split: str | None, fraction: float
    ) -> tuple[list[RowRef], list[RowRef], bool]:
        names = [n for n in self.splits if n]
        if len(self.splits) >= 2 and names:
            if eval_split is None:
                eval_split = next((n for n in ("test", "validation", "eval", "dev") if n in
                                   self.splits and n != train_split), None)  # fmt: skip
            for what, name in (("train_split", train_split), ("eval_split", eval_split)):
                if name not in self.splits:
                    raise DatasetError(
                        f"{self.game}: {what}={name!r} is not a split of the data."
                        f"{did_you_mean(str(name), names)} Its splits are: {', '.join(names)}"
                    )
            assert eval_split is not None
            if eval_split == train_split:
                raise DatasetError(
                    f"{self.game}: train_split and eval_split are both {train_split!r}; training "
                    "and evaluation seeds must play different rows"
                )
            return self._refs(train_split), self._refs(eval_split), False
        (name,) = self.splits
        refs = self._refs(name)
        if len(refs) < 2:
            raise DatasetError(
                f"{self.game}: one row cannot be split into training and evaluation rows; give "
                "at least two rows"
            )
        # Held out level by level, so that every level with two rows or more has both kinds.
        held: list[RowRef] = []
        for level in sorted({self.level(r) for r in refs}):
            group = [r for r in refs if self.level(r) == level]
            if len(group) < 2:
                continue
            rng = np.random.Generator(np.random.PCG64([self.shuffle_seed, level]))
            order = rng.permutation(len(group))
            n_eval = min(len(group) - 1, max(1, round(fraction * len(group))))
            held.extend(group[int(i)] for i in order[:n_eval])
        held_set = set(held)
        return [r for r in refs if r not in held_set], sorted(held), True

    def _refs(self, split: str) -> list[RowRef]:
        return [RowRef(split, i) for i in range(len(self.splits[split]))]

    def _level_key(self, level_key: str | None, columns: list[str]) -> str | None:
        if level_key is None:
            return None
        if level_key == "auto":
            return next((c for c in _LEVEL_COLUMNS if c in columns), None)
        if level_key not in columns:
            raise DatasetError(
                f"{self.game}: level_key={level_key!r} is not a field of the rows."
                f"{did_you_mean(level_key, columns)} Their fields are: {', '.join(columns)}"
            )
        return level_key

    # -- access
    def all_refs(self) -> list[RowRef]:
        return [*self.train, *self.eval]

    def row(self, ref: RowRef) -> Any:
        return self.splits[ref.split][ref.index]

    def _field(self, ref: RowRef, key: str) -> Any:
        row = self.row(ref)
        return row.get(key) if isinstance(row, Mapping) else None

    def field(self, ref: RowRef, key: str) -> Any:
        """``row[key]`` or ``None`` (rows that are not mappings have no fields)."""
        return self._field(ref, key)

    def level(self, ref: RowRef) -> int:
        return self._levels.get(ref, 1)

    def order(self, evaluation: bool, level: int) -> list[RowRef]:
        """The pool at ``level`` (0: every level) in its fixed shuffled order."""
        key = (evaluation, level)
        if key not in self._orders:
            pool = self.eval if evaluation else self.train
            if level:
                pool = [r for r in pool if self.level(r) == level] if self._levels else pool
            perm = np.random.Generator(np.random.PCG64(self.shuffle_seed)).permutation(len(pool))
            self._orders[key] = [pool[int(i)] for i in perm]
        return self._orders[key]

    def pick(self, seed: int, level: int, usable: Callable[[RowRef], str | None]) -> RowRef:
        """The row of ``seed`` at ``level``: the first usable row from the seed's position on."""
        evaluation = seed in EVAL_SEEDS
        order = self.order(evaluation, level)
        pool = "evaluation" if evaluation else "training"
        if not order:
            present = sorted({self.level(r) for r in (self.eval if evaluation else self.train)})
            raise DatasetError(
                f"{self.game}: the {pool} rows have no row at difficulty {level}; levels present "
                f"there: {present}"
            )
        start = (seed - EVAL_SEEDS.start if evaluation else seed) % len(order)
        for k in range(len(order)):
            ref = order[(start + k) % len(order)]
            if usable(ref) is None:
                return ref
        raise DatasetError(
            f"{self.game}: none of the {len(order)} {pool} rows at difficulty {level} can be "
            f"played; the first is {order[0]}: {usable(order[0])}"
        )

    def describe_row(self, ref: RowRef) -> dict[str, Any]:
        """``info["row"]``: the split (``""`` for data without splits), index and pool."""
        return {**ref.as_dict(), "pool": "eval" if ref in self._eval_set else "train"}

    def describe(self) -> str:
        """One line for docs and reprs: where the rows come from and how they are split."""
        how = "held out" if self.held_out else "splits"
        return (
            f"{len(self.train)} training rows and {len(self.eval)} evaluation rows ({how}); "
            f"levels {self.levels}"
        )


def seconds_arg(name: str, value: Any) -> float:
    """``value`` as a time limit in seconds, more than 0 and at most 600; else `DatasetError`.

    >>> seconds_arg("timeout", 5)
    5.0
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (0 < value <= 600):
        raise DatasetError(f"{name} must be seconds in (0, 600] (got {value!r})")
    return float(value)


class DatasetGame(LanguageGame):
    """What every game played on the rows of a dataset shares (MathQA, CodeTests).

    A subclass builds its `DatasetSource` and passes it to `use_source` before calling
    ``LanguageGame.__init__``, says in `row_problem` why a row cannot be played, and calls
    `pick_row` in ``_setup``. Then the data's levels are this env's difficulty levels, every
    seed maps to a playable row, ``info["row"]`` names the row being played, and `pool_refs`
    walks every row for the audits (``dataset_rows``).
    """

    source: DatasetSource
    _row: RowRef | None = None  # the row being played

    def use_source(self, source: DatasetSource) -> None:
        """Play the rows of ``source``, at the levels its data has."""
        self.source = source
        levels = source.levels
        if levels != type(self).game_info.difficulty_levels:
            # This env's levels are the data's: an instance attribute shadows the declared ones.
            self.game_info = dataclasses.replace(  # type: ignore[misc]
                type(self).game_info, difficulty_levels=levels, default_difficulty=levels[0]
            )

    def row_problem(self, ref: RowRef) -> str | None:
        """Why row ``ref`` cannot be played (``None`` if it can)."""
        raise NotImplementedError

    def pick_row(self) -> RowRef:
        """The playable row of this episode's seed and difficulty (`DatasetSource.pick`)."""
        assert self._instance_seed is not None
        self._row = self.source.pick(self._instance_seed, self.difficulty, self.row_problem)
        return self._row

    def pool_refs(self) -> Iterator[tuple[str, RowRef]]:
        """Every row with its pool (``"train"`` or ``"eval"``), training rows first."""
        for pool, refs in (("train", self.source.train), ("eval", self.source.eval)):
            for ref in refs:
                yield pool, ref

    def _info(
        self, verdict: Verdict | None, rewards: Mapping[str, float], actor: str | None
    ) -> dict[str, Any]:
        info = super()._info(verdict, rewards, actor)
        info["row"] = None if self._row is None else self.source.describe_row(self._row)
        return info
