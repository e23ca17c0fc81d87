"""Examples in docstrings are documentation: they must run."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import langgames


def _modules() -> list[str]:
    names = ["langgames"]
    for info in pkgutil.walk_packages(langgames.__path__, "langgames."):
        names.append(info.name)
    for sub in ("langgames.envs", "langgames.verifiers"):
        package = importlib.import_module(sub)
        names += [i.name for i in pkgutil.walk_packages(package.__path__, sub + ".")]
    # ``python -m langgames`` runs the command line when imported: not a module to import.
    return sorted(set(names) - {"langgames.__main__"})


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
