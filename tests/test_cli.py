"""The CLI is tested in-process through `main(argv) -> int`."""

from __future__ import annotations

import io
import json

import pytest

from langgames.cli import main


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_list_prints_every_game_with_its_metadata():
    code, text = run("list")
    assert code == 0
    assert "langgames/NumberHunt-v0" in text and "langgames/BaseConvert-v0" in text
    header = text.splitlines()[0]
    assert "roles" in header and header.rstrip().endswith("card")
    # Every registered game has a stored card, and its grade is shown.
    rows = [line for line in text.splitlines() if line.startswith("langgames/")]
    games = [line for line in rows if "Curriculum" not in line]
    assert games and all(line.rstrip()[-1] in "ABCF" for line in games)
    # The curriculum is listed too, as what it is.
    assert any(line.startswith("langgames/Curriculum-v0") and "not a game" in line for line in rows)


def test_list_json():
    code, text = run("list", "--json")
    data = json.loads(text)
    assert code == 0 and {d["id"] for d in data} >= {"langgames/NumberHunt-v0"}
    assert all("reward_range" in d and "card" in d for d in data)


def test_show_prints_spec_and_documentation():
    code, text = run("show", "NumberHunt-v0")
    assert code == 0
    assert text.startswith("langgames/NumberHunt-v0: Find a secret integer")
    assert "## Reward" in text and "max_turns: 42" in text


def test_show_unknown_id_fails_with_did_you_mean(capsys):
    code, _ = run("show", "NumbrHunt-v0")
    assert code == 2
    assert "Did you mean: `NumberHunt-v0`" in capsys.readouterr().err


def test_play_shows_exactly_what_a_model_sees():
    import gymnasium as gym

    env = gym.make("langgames/BaseConvert-v0")
    first_obs, _ = env.reset(seed=5)
    answer = env.unwrapped.reference_action()
    replies = iter(["let me think", ".", answer, "."])
    out = io.StringIO()
    from langgames.cli import _parser, cmd_play

    args = _parser().parse_args(["play", "BaseConvert-v0", "--seed", "5"])
    assert cmd_play(args, out, read=lambda _prompt: next(replies)) == 0
    text = out.getvalue()
    assert first_obs in text
    assert "[unparseable] reward -0.1" in text and "[correct] reward +1" in text
    assert 'Returns: {"player": 0.9}' in text


def test_play_ends_cleanly_on_eof():
    from langgames.cli import _parser, cmd_play

    def eof(_prompt):
        raise EOFError

    out = io.StringIO()
    assert cmd_play(_parser().parse_args(["play", "NumberHunt-v0"]), out, read=eof) == 0
    assert "game abandoned" in out.getvalue()


def test_demo_plays_every_game_with_the_reference():
    from langgames.registry import make_game

    code, text = run("demo", "--episodes", "1")
    assert code == 0
    rows = {line.split()[0]: line for line in text.splitlines() if " reference " in line}
    assert set(rows) == {game["id"] for game in json.loads(run("list", "--json")[1])}
    for game_id, row in rows.items():
        game = make_game(game_id)
        returns = dict(pair.split("=") for pair in row.split() if "=" in pair)
        for role in game.optimal_roles:  # the roles whose reference is optimal earn the maximum
            assert float(returns[role]) == pytest.approx(game.max_return(role)), row


def test_help_shows_examples(capsys):
    assert main(["--help"]) == 0
    assert "langgames play NumberHunt-v0 --seed 3" in capsys.readouterr().out


def test_usage_error_returns_nonzero():
    assert main(["no-such-command"]) == 2


@pytest.mark.parametrize("argv", [["list", "--tag", "nothing-has-this-tag"]])
def test_empty_listing(argv):
    code, text = run(*argv)
    assert code == 0 and "0 games" in text


def test_doctor_reports_every_isolation_layer_and_what_is_missing(monkeypatch):
    from langgames.verifiers import python as sandbox_module

    code, text = run("doctor")
    assert code == 0
    for layer in ("worker_pool", "namespaces", "seccomp", "rlimits", "wall_deadline"):
        assert f"] {layer}:" in text
    assert "pip install 'langgames[" in text or "installed" in text

    fake = [
        {"layer": "worker_pool", "active": True, "detail": "2 workers"},
        {"layer": "namespaces", "active": False, "detail": "bwrap not found"},
    ]
    monkeypatch.setattr(sandbox_module, "isolation_report", lambda: fake)
    code, text = run("doctor")
    assert "[MISSING] namespaces: bwrap not found" in text
    assert "The sandbox runs without: namespaces." in text


def test_bench_and_audit_take_the_python_tool(tmp_path):
    code, text = run(
        "audit",
        "BaseConvert-v0",
        "--episodes",
        "2",
        "--no-cross-process",
        "--dry-run",
        "--tool-options",
        '{"max_calls": 2}',
    )
    assert code == 0 and "langgames/BaseConvert-v0" in text
    code, text = run(
        "bench",
        "--suite",
        "core",
        "--games",
        "langgames/BaseConvert-v0",
        "--policy",
        "reference",
        "--episodes",
        "2",
        "--quiet",
        "--no-plots",
        "--tool",
        "--out",
        str(tmp_path),
    )
    assert code == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["tool"]["max_calls"] == 8
    assert all("tool_calls_per_episode" in row for row in results["rows"])


def test_bad_tool_options_are_a_clear_error(capsys):
    assert main(["bench", "--suite", "core", "--tool-options", "{max_calls: 2}"]) == 2
    assert "--tool-options must be a JSON object" in capsys.readouterr().err


def test_audit_writes_cards_to_a_user_directory_never_the_package(tmp_path, monkeypatch, capsys):
    """A routine audit once overwrote a shipped card: the default is now the user's directory."""
    import io
    from pathlib import Path

    import langgames
    from langgames.cli import main

    monkeypatch.setenv("LANGGAMES_HOME", str(tmp_path / "home"))
    shipped = Path(langgames.__file__).parent / "cards" / "NumberHunt-v0.json"
    before = shipped.read_bytes()
    out = io.StringIO()
    main(["audit", "NumberHunt-v0", "--episodes", "2", "--no-cross-process"], out=out)
    assert (tmp_path / "home" / "cards" / "NumberHunt-v0.json").is_file(), out.getvalue()
    assert shipped.read_bytes() == before
    code = main(["audit", "NumberHunt-v0", "--refresh-shipped", "--out", str(tmp_path)])
    assert code != 0 and "drop --out" in capsys.readouterr().err


def test_show_puts_the_documentation_first_and_summarises_the_card():
    code, text = run("show", "NumberHunt-v0")
    assert code == 0
    assert text.index("## Reward") < text.index("Measured (card):")
    assert "grade A" in text and len(text.split("Measured (card):")[1].splitlines()) < 10
    code, full = run("show", "NumberHunt-v0", "--card")
    assert code == 0 and '"reliability"' in full
    code, text = run("show", "Curriculum-v0")
    assert code == 0 and "not a game" in text and "meta-critic" in text
