"""SqlQuery: write a SELECT against a generated SQLite database; hidden rows decide."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.verifiers.verdict import Verdict

__all__ = ["QueryOutcome", "SqlQuery", "run_query"]

#: Longest query, in characters, that the game will run.
MAX_QUERY_CHARS = 4_000
#: Most rows a query may return before it is stopped (a recursive CTE cannot stream forever).
MAX_ROWS = 500
#: Most bytes of text/blob a whole result may hold.
MAX_RESULT_BYTES = 1_000_000
#: SQLite virtual-machine instructions a query may execute (checked every 1,000 by the progress
#: handler). A count, not a clock, so the verdict is the same on every machine; the references use
#: a few thousand.
MAX_INSTRUCTIONS = 5_000_000
#: A wall-clock backstop on top of the instruction budget (it should never be the one that fires).
MAX_SECONDS = 3.0
#: SQLite heap (bytes, process-wide) allowed while a query runs; restored afterwards.
HEAP_LIMIT = 128 * 1024 * 1024

_PROGRESS_EVERY = 1_000
# Functions a query may call: aggregates, window functions and pure scalar functions over short
# values. Everything else (load_extension, zeroblob, randomblob, printf/format with huge widths,
# readfile, fts/json table functions, sqlite_* introspection...) is refused by the authorizer.
_SAFE_FUNCTIONS = frozenset(
    {
        "abs", "avg", "count", "max", "min", "sum", "total", "group_concat", "round", "length",
        "lower", "upper", "substr", "substring", "trim", "ltrim", "rtrim", "replace", "instr",
        "coalesce", "ifnull", "nullif", "iif", "like", "glob", "typeof", "sign", "char",
        "unicode", "hex", "quote", "row_number", "rank", "dense_rank", "percent_rank",
        "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
    }
)  # fmt: skip
_ALLOWED_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
_AUTHORIZER_ACTIONS = (
    "CREATE_INDEX", "CREATE_TABLE", "CREATE_TEMP_INDEX", "CREATE_TEMP_TABLE",
    "CREATE_TEMP_TRIGGER", "CREATE_TEMP_VIEW", "CREATE_TRIGGER", "CREATE_VIEW", "DELETE",
    "DROP_INDEX", "DROP_TABLE", "DROP_TEMP_INDEX", "DROP_TEMP_TABLE", "DROP_TEMP_TRIGGER",
    "DROP_TEMP_VIEW", "DROP_TRIGGER", "DROP_VIEW", "INSERT", "PRAGMA", "READ", "SELECT",
    "TRANSACTION", "UPDATE", "ATTACH", "DETACH", "ALTER_TABLE", "REINDEX", "ANALYZE",
    "CREATE_VTABLE", "DROP_VTABLE", "FUNCTION", "SAVEPOINT", "RECURSIVE",
)  # fmt: skip
_ACTION_NAMES = {
    getattr(sqlite3, f"SQLITE_{name}"): name.replace("_", " ")
    for name in _AUTHORIZER_ACTIONS
    if hasattr(sqlite3, f"SQLITE_{name}")
}
# SQLite's run-time limits, by their documented ids (sqlite3.SQLITE_LIMIT_* from Python 3.11; the
# ids are part of SQLite's C API and never change). On Python 3.10, which has no
# Connection.setlimit, the other defences (authorizer, step budget, row and heap limits) remain.
_LIMITS = {
    0: 20_000,  # LENGTH: longest string or blob
    1: MAX_QUERY_CHARS + 100,  # SQL_LENGTH
    2: 64,  # COLUMN
    3: 100,  # EXPR_DEPTH
    4: 50,  # COMPOUND_SELECT
    7: 0,  # ATTACHED
    8: 200,  # LIKE_PATTERN_LENGTH
    9: 0,  # VARIABLE_NUMBER
    10: 1,  # TRIGGER_DEPTH
    11: 0,  # WORKER_THREADS
}
# hard_heap_limit is process-wide: one query at a time sets and restores it.
_HEAP_LOCK = threading.Lock()

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)
_COMMENT = re.compile(r"--[^\n]*|/\*.*?(?:\*/|$)", re.DOTALL)
_FIRST_WORD = re.compile(r"\s*\(*\s*([A-Za-z_]+)")
_LABEL = re.compile(r"(?i)^\s*(?:final\s+)?(?:answer|query|sql)\s*:\s*")

Row = tuple[Any, ...]


# ------------------------------------------------------------------------------------ running SQL
@dataclass(frozen=True)
class QueryOutcome:
    """What running one query produced: ``rows`` on success, else a failure ``status`` + reason.

    ``status`` is ``"ok"``, ``"error"`` (SQLite rejected the SQL: syntax, unknown column...),
    ``"forbidden"`` (the authorizer refused an action), ``"timeout"`` (instruction budget or
    clock) or ``"resource_limit"`` (too many rows, too much data, out of memory).
    """

    status: str
    rows: list[Row] | None = None
    columns: int = 0
    reason: str = ""
    instructions: int = 0


def run_query(
    schema: Sequence[str],
    tables: dict[str, list[Row]],
    query: str,
    *,
    max_rows: int = MAX_ROWS,
    max_instructions: int = MAX_INSTRUCTIONS,
) -> QueryOutcome:
    """Run one untrusted SELECT on a fresh in-memory database built from ``schema`` and ``tables``.

    The database is built by the host (our own statements), then locked down before the query
    runs: ``PRAGMA query_only``, temporary storage in memory, SQLite limits (value length, SQL
    length, expression depth, no ATTACH), extension loading left disabled, an authorizer that
    allows only SELECT, reading columns, recursive CTEs and the functions of `_SAFE_FUNCTIONS`,
    a progress handler that stops the query after ``max_instructions`` VM instructions (or
    `MAX_SECONDS`), a row and byte limit on what it returns, and a process-wide SQLite heap limit
    while it runs. Each call gets its own database, so nothing a query does can outlive it.

    >>> out = run_query(["CREATE TABLE t (x INTEGER)"], {"t": [(1,), (2,)]}, "SELECT SUM(x) FROM t")
    >>> out.status, out.rows
    ('ok', [(3,)])
    >>> run_query(["CREATE TABLE t (x INTEGER)"], {"t": []}, "DELETE FROM t").status
    'forbidden'
    """
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    try:
        for statement in schema:
            conn.execute(statement)
        for table, rows in tables.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                conn.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # noqa: S608
        conn.execute("PRAGMA query_only = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        setlimit = getattr(conn, "setlimit", None)
        if setlimit is not None:
            for limit, value in _LIMITS.items():
                setlimit(limit, value)
        denied: list[str] = []

        def authorize(action: int, arg1: Any, arg2: Any, _db: Any, _trigger: Any) -> int:
            if action in _ALLOWED_ACTIONS:
                return sqlite3.SQLITE_OK
            if action == sqlite3.SQLITE_FUNCTION and str(arg2).lower() in _SAFE_FUNCTIONS:
                return sqlite3.SQLITE_OK
            name = _ACTION_NAMES.get(action, str(action))
            what = name if action != sqlite3.SQLITE_FUNCTION else f"the function {arg2}()"
            if action == sqlite3.SQLITE_PRAGMA:
                what = f"PRAGMA {arg1}"
            elif action in (sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE):
                what = f"{name} on the table {arg1}"  # (pragma functions update sqlite_master)
            denied.append(what)
            return sqlite3.SQLITE_DENY

        ticks = [0]
        deadline = time.monotonic() + MAX_SECONDS
        budget = max(1, max_instructions // _PROGRESS_EVERY)

        def progress() -> int:
            ticks[0] += 1
            return int(ticks[0] > budget or time.monotonic() > deadline)

        conn.set_authorizer(authorize)
        conn.set_progress_handler(progress, _PROGRESS_EVERY)
        with _HEAP_LOCK:
            previous_heap = _set_heap_limit(HEAP_LIMIT)
            try:
                return _execute(conn, query, denied, ticks, budget, max_rows)
            finally:
                _set_heap_limit(previous_heap)
    finally:
        conn.close()


def _set_heap_limit(value: int) -> int:
    """Set SQLite's process-wide hard heap limit; return the previous one (0 means none)."""
    helper = sqlite3.connect(":memory:")
    try:
        return int(helper.execute(f"PRAGMA hard_heap_limit = {int(value)}").fetchone()[0])
    finally:
        helper.close()


def _execute(
    conn: sqlite3.Connection,
    query: str,
    denied: list[str],
    ticks: list[int],
    budget: int,
    max_rows: int,
) -> QueryOutcome:
    def stopped(err: BaseException) -> QueryOutcome:
        used = ticks[0] * _PROGRESS_EVERY
        if denied:
            return QueryOutcome(
                "forbidden", reason=f"{denied[0]} is not allowed", instructions=used
            )
        text = str(err)
        if "interrupted" in text:
            if ticks[0] > budget:
                why = f"the query ran past its budget of {budget * _PROGRESS_EVERY:,} steps"
            else:
                why = f"the query ran past its time limit of {MAX_SECONDS:g} s"
            return QueryOutcome("timeout", reason=why, instructions=used)
        if isinstance(err, MemoryError) or "too big" in text or "out of memory" in text:
            return QueryOutcome("resource_limit", reason=f"SQLite: {text}", instructions=used)
        return QueryOutcome("error", reason=f"SQLite: {text}", instructions=used)

    try:
        cursor = conn.execute(query)
        columns = len(cursor.description or ())
        rows: list[Row] = []
        size = 0
        while True:
            row = cursor.fetchone()
            if row is None:
                break
            rows.append(tuple(row))
            size += sum(len(v) for v in row if isinstance(v, (str, bytes)))
            if len(rows) > max_rows:
                return QueryOutcome(
                    "resource_limit",
                    reason=f"the query returns more than {max_rows} rows",
                    instructions=ticks[0] * _PROGRESS_EVERY,
                )
            if size > MAX_RESULT_BYTES:
                return QueryOutcome(
                    "resource_limit",
                    reason=f"the result holds more than {MAX_RESULT_BYTES:,} bytes of text",
                    instructions=ticks[0] * _PROGRESS_EVERY,
                )
    except (sqlite3.Error, MemoryError, OverflowError) as err:
        return stopped(err)
    except sqlite3.Warning as err:  # e.g. "You can only execute one statement at a time."
        return QueryOutcome("error", reason=str(err))
    if denied:  # refused actions that SQLite tolerated (never expected; fail closed anyway)
        return QueryOutcome("forbidden", reason=f"{denied[0]} is not allowed")
    return QueryOutcome("ok", rows, columns, instructions=ticks[0] * _PROGRESS_EVERY)


def _norm_value(value: Any) -> Any:
    """A comparable form: numbers by value (1 == 1.0, floats to 6 decimals), text as is."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (int, float)):
        number = round(float(value), 6)
        return ("n", 0.0 if number == 0 else number)
    if isinstance(value, bytes):
        return ("b", value.hex())
    if value is None:
        return ("z", "")
    return ("t", str(value))


def _norm_rows(rows: list[Row]) -> list[tuple[Any, ...]]:
    return [tuple(_norm_value(v) for v in row) for row in rows]


def _show_row(row: Row) -> str:
    text = "(" + ", ".join(repr(v) for v in row) + ")"
    return text if len(text) <= 80 else text[:77] + "..."


def compare_results(got: QueryOutcome, want: QueryOutcome, ordered: bool) -> str | None:
    """``None`` if ``got`` has the same rows as ``want``; otherwise what differs (one sentence)."""
    assert got.rows is not None and want.rows is not None
    if got.columns != want.columns:
        return f"the query returns {got.columns} column(s); the task asks for {want.columns}"
    a, b = _norm_rows(got.rows), _norm_rows(want.rows)
    if ordered:
        if a == b:
            return None
        if Counter(a) == Counter(b):
            return "the rows are right but not in the order the task asks for"
    elif Counter(a) == Counter(b):
        return None
    if len(a) != len(b):
        return f"the query returns {len(a)} row(s); the expected result has {len(b)}"
    extra = Counter(a) - Counter(b)
    if extra:
        index = a.index(next(iter(extra)))
        return f"the row {_show_row(got.rows[index])} is not in the expected result"
    return "the rows differ from the expected result"


# ------------------------------------------------------------------------------ instance data
@dataclass(frozen=True)
class _Theme:
    people: str
    person: str
    group: str
    groups: tuple[str, ...]
    num: str
    num_range: tuple[int, int]
    items: str
    item: str
    title: str
    cat: str
    cats: tuple[str, ...]
    val: str
    val_range: tuple[int, int]
    facts: str
    fact: str
    pfk: str
    ifk: str
    amt: str
    amt_range: tuple[int, int]
    verb: str
    item_names: tuple[str, ...]


_PEOPLE = (
    "Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kai", "Lena",
    "Milo", "Nora", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vik", "Wes", "Xena",
    "Yara", "Zane", "Alma", "Bo", "Cyra", "Dana",
)  # fmt: skip

# fmt: off
_THEMES = (
    _Theme(
        people="customers", person="customer", group="city",
        groups=("Oslo", "Lima", "Pune", "Kyiv", "Accra"), num="age", num_range=(18, 70),
        items="products", item="product", title="name", cat="category",
        cats=("garden", "kitchen", "office", "toys"), val="price", val_range=(2, 90),
        facts="orders", fact="order", pfk="customer_id", ifk="product_id", amt="quantity",
        amt_range=(1, 9), verb="ordered",
        item_names=(
            "lamp", "kettle", "rake", "stapler", "kite", "mug", "hose", "desk", "puzzle", "pan",
            "shovel", "ruler", "robot", "teapot", "chair", "yoyo", "whisk", "trowel", "folder",
            "drum", "sieve", "planter", "marker", "blocks",
        ),
    ),
    _Theme(
        people="students", person="student", group="house",
        groups=("Amber", "Birch", "Cedar", "Delta"), num="year", num_range=(1, 6),
        items="courses", item="course", title="title", cat="subject",
        cats=("math", "art", "music", "biology"), val="credits", val_range=(1, 12),
        facts="enrollments", fact="enrollment", pfk="student_id", ifk="course_id", amt="score",
        amt_range=(40, 100), verb="enrolled in",
        item_names=(
            "Algebra", "Geometry", "Drawing", "Painting", "Choir", "Piano", "Botany", "Zoology",
            "Calculus", "Sculpture", "Guitar", "Genetics", "Statistics", "Pottery", "Violin",
            "Ecology", "Logic", "Printmaking", "Drums", "Anatomy", "Topology", "Collage",
        ),
    ),
    _Theme(
        people="members", person="member", group="district",
        groups=("North", "South", "East", "West", "Harbor"), num="age", num_range=(12, 80),
        items="books", item="book", title="title", cat="genre",
        cats=("mystery", "poetry", "history", "fantasy"), val="pages", val_range=(80, 900),
        facts="loans", fact="loan", pfk="member_id", ifk="book_id", amt="days",
        amt_range=(1, 30), verb="borrowed",
        item_names=(
            "Dune Road", "Iron Tide", "Salt Moon", "Glass City", "Old Maps", "Blue Hours",
            "Red Fern", "Night Owl", "Stone Song", "Quiet Sea", "Last Train", "Amber Sky",
            "Cold Star", "Paper Wings", "Wild Bay", "Grey Tower", "Silver Key", "Deep Wood",
            "Warm Rain", "Lost Crown", "Bright Vale", "Green Gate",
        ),
    ),
)
# fmt: on


@dataclass(frozen=True)
class _Task:
    question: str
    sql: str
    ordered: bool


def _q(theme: _Theme, text: str, **params: Any) -> str:
    fields = {k: getattr(theme, k) for k in theme.__dataclass_fields__ if k[0] != "_"}
    return text.format(**fields, **params)


# Task templates by level: (rng, theme, full tables) -> _Task. Table/column names come from the
# theme; parameters are drawn from the full data. Every SQL here is ours, never model text.
def _t_filter_eq(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    g = _pick(rng, sorted({r[2] for r in data[t.people]}))
    return _Task(
        _q(t, "List the name of every {person} whose {group} is '{g}'. Columns: name.", g=g),
        _q(t, "SELECT name FROM {people} WHERE {group} = '{g}'", g=g),
        False,
    )


def _t_count_gt(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    v = _pick(rng, sorted({r[3] for r in data[t.items]}))
    return _Task(
        _q(t, "How many {items} have a {val} greater than {v}? One row, one column: the count.",
           v=v),
        _q(t, "SELECT COUNT(*) FROM {items} WHERE {val} > {v}", v=v),
        False,
    )  # fmt: skip


def _t_sorted_cat(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    c = _pick(rng, sorted({r[2] for r in data[t.items]}))
    return _Task(
        _q(t, "List the {title} and {val} of every {item} whose {cat} is '{c}', highest {val} "
           "first (ties by {title}, A to Z). Columns: {title}, {val}.", c=c),
        _q(t, "SELECT {title}, {val} FROM {items} WHERE {cat} = '{c}' ORDER BY {val} DESC, "
           "{title}", c=c),
        True,
    )  # fmt: skip


def _t_between(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    nums = sorted({r[3] for r in data[t.people]})
    a, b = sorted(_pick(rng, nums) for _ in range(2))
    return _Task(
        _q(t, "List the name and {num} of every {person} whose {num} is between {a} and {b} "
           "(both included). Columns: name, {num}.", a=a, b=b),
        _q(t, "SELECT name, {num} FROM {people} WHERE {num} BETWEEN {a} AND {b}", a=a, b=b),
        False,
    )  # fmt: skip


def _t_join_cat(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    c = _pick(rng, sorted({r[2] for r in data[t.items]}))
    return _Task(
        _q(t, "List, once each, the name of every {person} who {verb} at least one {item} whose "
           "{cat} is '{c}'. Columns: name.", c=c),
        _q(t, "SELECT DISTINCT p.name FROM {people} p JOIN {facts} f ON f.{pfk} = p.id "
           "JOIN {items} i ON i.id = f.{ifk} WHERE i.{cat} = '{c}'", c=c),
        False,
    )  # fmt: skip


def _t_sum_per_item(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    return _Task(
        _q(t, "For every {item} that appears in at least one {fact}, its {title} and the total "
           "{amt} over its {facts}. Columns: {title}, total."),
        _q(t, "SELECT i.{title}, SUM(f.{amt}) FROM {items} i JOIN {facts} f ON f.{ifk} = i.id "
           "GROUP BY i.id"),
        False,
    )  # fmt: skip


def _t_count_per_group(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    return _Task(
        _q(t, "For every {group} that has {people}, the {group} and how many {people} it has. "
           "Columns: {group}, count."),
        _q(t, "SELECT {group}, COUNT(*) FROM {people} GROUP BY {group}"),
        False,
    )  # fmt: skip


def _t_having(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    k = int(rng.integers(2, 4))
    return _Task(
        _q(t, "List the name and number of {facts} of every {person} with at least {k} {facts}. "
           "Columns: name, count.", k=k),
        _q(t, "SELECT p.name, COUNT(*) FROM {people} p JOIN {facts} f ON f.{pfk} = p.id "
           "GROUP BY p.id HAVING COUNT(*) >= {k}", k=k),
        False,
    )  # fmt: skip


def _t_avg_per_cat(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    return _Task(
        _q(t, "For every {cat} that has {items}, the {cat} and the average {val} of its {items} "
           "(not rounded; compared to 6 decimals). Columns: {cat}, average."),
        _q(t, "SELECT {cat}, AVG({val}) FROM {items} GROUP BY {cat}"),
        False,
    )  # fmt: skip


def _t_never(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    return _Task(
        _q(t, "List the {title} of every {item} that appears in no {fact}. Columns: {title}."),
        _q(t, "SELECT {title} FROM {items} WHERE id NOT IN (SELECT {ifk} FROM {facts})"),
        False,
    )  # fmt: skip


def _t_above_avg(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    return _Task(
        _q(t, "List the name of every {person} whose total {amt} over all their {facts} is "
           "greater than the average of that total over the {people} who have at least one "
           "{fact}. Columns: name."),
        _q(t, "WITH s AS (SELECT {pfk} AS pid, SUM({amt}) AS total FROM {facts} GROUP BY {pfk}) "
           "SELECT p.name FROM {people} p JOIN s ON s.pid = p.id "
           "WHERE s.total > (SELECT AVG(total) FROM s)"),
        False,
    )  # fmt: skip


def _t_top_per_cat(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    return _Task(
        _q(t, "For every {cat} that has {items}, the {cat} and the {title} of its {item} with "
           "the highest {val} (all of them if several tie). Columns: {cat}, {title}."),
        _q(t, "SELECT a.{cat}, a.{title} FROM {items} a WHERE a.{val} = "
           "(SELECT MAX(b.{val}) FROM {items} b WHERE b.{cat} = a.{cat})"),
        False,
    )  # fmt: skip


def _t_top_k(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    k = int(rng.integers(2, 5))
    return _Task(
        _q(t, "The {k} {people} with the largest total of {amt} * {val} over their {facts} "
           "(the {val} of the {item} of each {fact}): their name and that total, largest "
           "first (ties by name, A to Z); fewer rows if fewer {people} have {facts}. Columns: "
           "name, total.", k=k),
        _q(t, "SELECT p.name, SUM(f.{amt} * i.{val}) AS total FROM {people} p "
           "JOIN {facts} f ON f.{pfk} = p.id JOIN {items} i ON i.id = f.{ifk} "
           "GROUP BY p.id ORDER BY total DESC, p.name LIMIT {k}", k=k),
        True,
    )  # fmt: skip


def _t_group_distinct(rng: np.random.Generator, t: _Theme, data: dict) -> _Task:
    return _Task(
        _q(t, "For every {group} whose {people} have any {facts}, the {group} and the number of "
           "distinct {items} its {people} {verb}. Columns: {group}, count."),
        _q(t, "SELECT p.{group}, COUNT(DISTINCT f.{ifk}) FROM {people} p "
           "JOIN {facts} f ON f.{pfk} = p.id GROUP BY p.{group}"),
        False,
    )  # fmt: skip


_TEMPLATES: dict[int, tuple[Callable[[np.random.Generator, _Theme, dict], _Task], ...]] = {
    1: (_t_filter_eq, _t_count_gt, _t_sorted_cat, _t_between),
    2: (_t_join_cat, _t_sum_per_item, _t_count_per_group, _t_having, _t_avg_per_cat),
    3: (_t_never, _t_above_avg, _t_top_per_cat, _t_top_k, _t_group_distinct),
}
# (visible, hidden) row counts of (people, items, facts) per level.
_SIZES = {
    1: ((6, 6, 8), (4, 4, 6)),
    2: ((6, 7, 10), (4, 4, 8)),
    3: ((7, 7, 12), (4, 4, 10)),
}
_MAX_EXPECTED_ROWS = 20


def _pick(rng: np.random.Generator, options: Sequence[Any]) -> Any:
    return options[int(rng.integers(len(options)))]


def _strip_fence(text: str) -> str:
    """The SQL in a reply: the last fenced block (```sql, ```sqlite or bare), else all of it."""
    blocks = _FENCE.findall(text)
    if blocks:
        text = blocks[-1][1]
    text = _LABEL.sub("", text.strip(), count=1).strip()
    if len(text) >= 2 and text[0] == text[-1] == "`":
        text = text.strip("`").strip()
    return text


class SqlQuery(LanguageGame):
    """Write one SQL SELECT that answers a question about a generated SQLite database.

    ## Description
    The game generates a small database in one of three themes (a shop, a school, a library),
    each with a table of people, a table of items and a table of facts linking them, and a
    question about it. The prompt shows the schema and some of the rows; the checking database
    has the same schema and more rows, which the player never sees. The query is run on both the
    shown rows and the full checking database, and each result is compared with the result of
    the game's own reference query: as a multiset of rows (order ignored, duplicates count)
    unless the question asks for an order; column names are ignored, column order is not;
    numbers compare by value (1 equals 1.0; floats to 6 decimals). Because the answer on the
    hidden rows always differs from the answer on the shown rows, a query that spells out the
    visible answer (``SELECT 'Ada' UNION ...`` or ``VALUES ...``) fails.

    Queries run in SQLite in the host, locked down: a fresh in-memory database per check,
    ``PRAGMA query_only``, an authorizer that allows only SELECT, reading columns, recursive CTEs
    and a list of pure functions (no ``load_extension``, ``PRAGMA``, ``ATTACH``, writes, or
    ``zeroblob``/``randomblob``/``printf``), SQLite limits on value length, SQL length and
    expression depth, a budget of 5,000,000 virtual-machine steps (deterministic, with a 3 s
    clock as backstop), at most 500 rows and 1 MB of text, and a 128 MB SQLite heap limit while
    the query runs.

    ## Roles
    ``player`` (single role).

    ## Observation
    The theme, the schema as ``CREATE TABLE`` statements, the shown rows of each table, the
    question with the expected columns, and the answer format.

    ## Action
    One SQL statement (``SELECT`` or ``WITH ... SELECT``) in a fenced ```` ```sql ```` block (the
    last fenced block is read); a reply without a fence is read whole. At most 4,000 characters.

    ## Reward
    1.0 if the query's result equals the expected result on both the shown rows and the
    checking database; 0.0 if it runs but differs, or if it is refused (writes, ``ATTACH``,
    ``PRAGMA``, ``load_extension``, an unknown function: status ``forbidden``), runs past its
    budget (``timeout``) or returns too much (``resource_limit``) - each with the reason.
    -0.1 for a reply with no query or a query SQLite cannot compile (a syntax error, an unknown
    column: the error is shown), after which the player may try again.

    ## Episode end
    Terminates after the first query that runs (or is refused); truncates after ``max_turns``
    moves (default 3), which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (one table: filters, counts, sorting), 2 (joins, grouping, HAVING,
    averages), 3 (subqueries, anti-joins, correlated maxima, top-k over a computed total).

    ## Version History
    * v0: initial version.

    >>> game = SqlQuery(difficulty=2)
    >>> obs, info = game.reset(seed=3)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = "code:sql"
    game_info = GameInfo(
        name="SqlQuery",
        version=0,
        roles=("player",),
        verifiers=("sqlite",),
        answer_format=(
            "one SQLite SELECT statement in a fenced block: ```sql\\nSELECT ...\\n``` (no "
            "writes, PRAGMA or ATTACH)"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("sql", "databases", "code", "single-turn", "exact"),
    )

    # ------------------------------------------------------------------ instance
    def _setup(self) -> str:
        rng = self.np_random
        while True:
            theme = _THEMES[int(rng.integers(len(_THEMES)))]
            full, visible = self._generate(rng, theme)
            template = _pick(rng, _TEMPLATES[self.difficulty])
            task = template(rng, theme, full)
            self._theme, self._full, self._visible, self._task = theme, full, visible, task
            want_full = self._run(full, task.sql)
            want_visible = self._run(visible, task.sql)
            if want_full.status != "ok" or want_visible.status != "ok":  # our own SQL: be loud
                raise RuntimeError(f"SqlQuery reference failed: {want_full} {want_visible}")
            assert want_full.rows is not None and want_visible.rows is not None
            if not want_visible.rows or len(want_full.rows) > _MAX_EXPECTED_ROWS:
                continue
            if compare_results(want_visible, want_full, task.ordered) is None:
                continue  # the hidden rows must change the answer
            if len(want_full.rows) == 1 and all(v in (0, None) for v in want_full.rows[0]):
                continue
            self._want_full, self._want_visible = want_full, want_visible
            return "player"

    def _generate(
        self, rng: np.random.Generator, t: _Theme
    ) -> tuple[dict[str, list[Row]], dict[str, list[Row]]]:
        (vp, vi, vf), (hp, hi, hf) = _SIZES[self.difficulty]
        n_people, n_items, n_facts = vp + hp, vi + hi, vf + hf
        names = [_PEOPLE[int(i)] for i in rng.permutation(len(_PEOPLE))[:n_people]]
        titles = [t.item_names[int(i)] for i in rng.permutation(len(t.item_names))[:n_items]]
        groups = [t.groups[int(i)] for i in rng.permutation(len(t.groups))[:3]]
        cats = [t.cats[int(i)] for i in rng.permutation(len(t.cats))[:3]]
        people = [
            (k + 1, names[k], _pick(rng, groups), int(rng.integers(*t.num_range, endpoint=True)))
            for k in range(n_people)
        ]
        items = [
            (k + 1, titles[k], _pick(rng, cats), int(rng.integers(*t.val_range, endpoint=True)))
            for k in range(n_items)
        ]
        # Visible facts link visible rows only; hidden facts may link any rows.
        facts: list[Row] = []
        for k in range(n_facts):
            hidden = k >= vf
            pid = int(rng.integers(1, (n_people if hidden else vp) + 1))
            iid = int(rng.integers(1, (n_items if hidden else vi) + 1))
            amt = int(rng.integers(*t.amt_range, endpoint=True))
            facts.append((k + 1, pid, iid, amt))
        full = {t.people: people, t.items: items, t.facts: facts}
        visible = {t.people: people[:vp], t.items: items[:vi], t.facts: facts[:vf]}
        return full, visible

    def _schema(self) -> list[str]:
        t = self._theme
        return [
            f"CREATE TABLE {t.people} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            f"{t.group} TEXT NOT NULL, {t.num} INTEGER NOT NULL)",
            f"CREATE TABLE {t.items} (id INTEGER PRIMARY KEY, {t.title} TEXT NOT NULL, "
            f"{t.cat} TEXT NOT NULL, {t.val} INTEGER NOT NULL)",
            f"CREATE TABLE {t.facts} (id INTEGER PRIMARY KEY, "
            f"{t.pfk} INTEGER NOT NULL REFERENCES {t.people}(id), "
            f"{t.ifk} INTEGER NOT NULL REFERENCES {t.items}(id), {t.amt} INTEGER NOT NULL)",
        ]

    def _run(self, tables: dict[str, list[Row]], query: str) -> QueryOutcome:
        return run_query(self._schema(), tables, query)

    # ------------------------------------------------------------------ views
    def _prompt(self, role: str) -> str:
        t = self._theme
        columns = {
            t.people: ("id", "name", t.group, t.num),
            t.items: ("id", t.title, t.cat, t.val),
            t.facts: ("id", t.pfk, t.ifk, t.amt),
        }
        shown = []
        for table, rows in self._visible.items():
            lines = [f"{table} ({len(rows)} of its rows):", " | ".join(columns[table])]
            lines += [" | ".join(str(v) for v in row) for row in rows]
            shown.append("\n".join(lines))
        order = (
            "The order of the rows matters (follow the ORDER the question asks for)."
            if self._task.ordered
            else "The order of the rows does not matter; duplicates count."
        )
        schema = ";\n".join(self._schema())
        tables = "\n\n".join(shown)
        parts = [
            "SQL query. Write one SQLite SELECT statement that answers the question below.",
            f"Schema:\n{schema};",
            "Some of the rows (the checking database has the same schema and MORE rows, which "
            "are not shown; your query is run on both, so it must compute the answer, not "
            f"spell it out):\n\n{tables}",
            f"Question: {self._task.question}\n"
            f"{order} Column names do not matter; column order does. Numbers compare by value.\n"
            "Only reading is allowed: writes, PRAGMA, ATTACH and extensions are refused.\n"
            "Reply with the query in a fenced block, e.g.\n```sql\nSELECT name FROM "
            f"{t.people};\n```",
        ]
        return "\n\n".join(parts)

    # ------------------------------------------------------------------ judging
    def _play(self, role: str, action: str) -> Move:
        query = _strip_fence(action)
        query = _COMMENT.sub(" ", query).strip().rstrip(";").strip()
        if not query:
            raise ParseError("no SQL query found: put one SELECT statement in a ```sql block")
        if len(query) > MAX_QUERY_CHARS:
            raise ParseError(
                f"the query is {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
            )
        first = _FIRST_WORD.match(query)
        verb = first[1].upper() if first else ""
        if verb not in ("SELECT", "WITH", "VALUES"):
            if verb in _WRITE_VERBS:
                verdict = Verdict.make_forbidden(
                    f"only SELECT queries are allowed; the query starts with {verb}",
                    first_word=verb,
                )
                return Move(verdict, {role: 0.0}, next_role=None)
            shown = query[:40] + ("..." if len(query) > 40 else "")
            raise ParseError(
                f"expected one SQL statement starting with SELECT or WITH, got {shown!r}"
            )
        results = []
        for name, tables, want in (
            ("the shown rows", self._visible, self._want_visible),
            ("the checking database", self._full, self._want_full),
        ):
            got = self._run(tables, query)
            if got.status == "error":
                raise ParseError(f"SQLite could not run the query: {got.reason[:300]}")
            details = {"query": query[:500], "steps": got.instructions}
            if got.status != "ok":
                make = {
                    "forbidden": Verdict.make_forbidden,
                    "timeout": Verdict.make_timeout,
                    "resource_limit": Verdict.make_resource_limit,
                }[got.status]
                return Move(make(got.reason, **details), {role: 0.0}, next_role=None)
            results.append((name, got, want, details))
        for name, got, want, details in results:
            problem = compare_results(got, want, self._task.ordered)
            if problem is not None:
                verdict = Verdict.make_incorrect(f"on {name}, {problem}", **details)
                return Move(verdict, {role: 0.0}, next_role=None)
        verdict = Verdict.make_correct(
            "the query returns the expected rows on the shown rows and on the checking database",
            query=query[:500],
            rows=len(self._want_full.rows or ()),
        )
        return Move(verdict, {role: 1.0}, next_role=None)

    def _reference(self, role: str) -> str:
        return f"```sql\n{self._task.sql};\n```"

    @property
    def question(self) -> str:
        """The question of the current instance."""
        return self._task.question


_WRITE_VERBS = frozenset(
    {
        "INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "DROP", "CREATE", "ALTER", "ATTACH",
        "DETACH", "PRAGMA", "VACUUM", "REINDEX", "ANALYZE", "BEGIN", "COMMIT", "ROLLBACK", "END",
        "SAVEPOINT", "RELEASE",
    }
)  # fmt: skip
