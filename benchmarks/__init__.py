"""Single-file performance scripts, shipped as ``langgames.benchmarks``.

Each ``*.py`` file here is a standalone script, run as ``python benchmarks/<name>.py``; each
documents its arguments and prints ratios measured side by side in one run. (The benchmark
*suites* of ``langgames bench`` are derived from the registry: ``langgames.registry.SUITES``.)
"""
