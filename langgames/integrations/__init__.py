"""Integrations with trainers: each submodule imports its framework lazily, behind an extra.

- ``langgames.integrations.sb3``: stable-baselines3 (extra ``sb3``).
- ``langgames.integrations.trl``: TRL trainers (extra ``trl``).
"""
