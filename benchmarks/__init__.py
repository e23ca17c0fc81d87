"""Benchmark suites and single-file performance scripts.

``suites.json`` declares the suites that ``langgames bench --suite <name>`` runs (shipped with the
package as ``langgames.benchmarks``). The ``*.py`` files here are standalone scripts, run as
``python benchmarks/<name>.py``; each documents its arguments and prints ratios measured side by
side in one run.
"""
