"""ScholarsCircle: explorers propose problems, solvers solve them, critics judge; all grounded.

The game is `ScholarsCircle` (`env`); its parts, each importing only the ones listed before it:

- `runtime`: the run-time subset circle programs run under (harness source, standard library);
- `core`: values and kinds, probes, fingerprints, the proposal format, `reject`;
- `library`: the bounded, indexed library of validated problems (optionally SQLite);
- `math_problems`: the host-side checks of a math proposal (form, uniqueness, triviality);
- `validate`: the validation pipeline that turns a proposal into a library candidate;
- `starter`: the starter problems a new library begins with;
- `policies`: reference and noisy players for every role (they read a `policies.Circle`);
- `env`: the game;
- `service`: one library shared by many workers over Ray (the ``ray`` extra, imported lazily).
"""

from __future__ import annotations

from langgames.envs.scholars_circle.core import FAMILIES, Proposal, parse_proposal, render_proposal
from langgames.envs.scholars_circle.env import ScholarsCircle
from langgames.envs.scholars_circle.library import Entry, Library, LibraryCorrupt, LibraryStats
from langgames.envs.scholars_circle.policies import (
    CalibratedCritic,
    ConstantCritic,
    NoisySolver,
    OracleCritic,
    OracleSolver,
    ReferenceExplorer,
    wrong_answer,
)
from langgames.envs.scholars_circle.validate import Candidate

__all__ = [
    "FAMILIES",
    "CalibratedCritic",
    "Candidate",
    "ConstantCritic",
    "Entry",
    "Library",
    "LibraryCorrupt",
    "LibraryStats",
    "NoisySolver",
    "OracleCritic",
    "OracleSolver",
    "Proposal",
    "ReferenceExplorer",
    "ScholarsCircle",
    "parse_proposal",
    "render_proposal",
    "wrong_answer",
]
