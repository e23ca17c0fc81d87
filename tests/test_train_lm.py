"""examples/train_lm_reinforce.py: REINFORCE with group baselines raises a tiny model's reward."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def trainer():
    spec = importlib.util.spec_from_file_location(
        "train_lm_reinforce", ROOT / "examples" / "train_lm_reinforce.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.mark.slow
def test_tiny_model_learns_the_answer_format(trainer):
    # BaseConvert, one move per episode: unreadable -0.1, a well-formed wrong numeral 0.0.
    history = trainer.train(
        "langgames/BaseConvert-v0", model="tiny", updates=18, prompts=4, group=8, seed=0
    )
    first = sum(s.mean_return for s in history[:4]) / 4
    last = sum(s.mean_return for s in history[-4:]) / 4
    assert first < -0.08  # a random byte model almost never writes a numeral
    assert last > first + 0.05, [round(s.mean_return, 3) for s in history]
    assert sum(s.parse_rate for s in history[-4:]) / 4 > 0.6


@pytest.mark.slow
def test_multi_turn_episodes_and_the_cli(trainer, capsys):
    # NumberHunt: several moves per episode, returns summed per role; one update end to end.
    assert (
        trainer.main(
            [
                "--game",
                "langgames/NumberHunt-v0",
                "--updates",
                "1",
                "--prompts",
                "1",
                "--group",
                "2",
                "--max-turns",
                "2",
                "--max-new-tokens",
                "4",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "update   0" in out and "mean return: first 1 updates" in out


def test_group_baselines_are_per_instance_and_per_role(trainer):
    returns = [{"coder": 1.0, "tester": 0.0}, {"coder": 0.0, "tester": 1.0}, {"coder": 5.0}]
    groups = [0, 0, 1]
    moves = [(0, "coder"), (0, "tester"), (1, "coder"), (1, "tester"), (2, "coder")]
    assert trainer.group_advantages(moves, returns, groups) == [0.5, -0.5, -0.5, 0.5, 0.0]
