"""The Keras and Flax cross-checks of ``tests/layer_jax_checks.py``, each in a process of its own.

JAX starts threads when it is imported, and a process that forks after that may deadlock (JAX
warns so at every fork); the test process forks (build workers, the faults tests), so JAX never
runs in it. Warnings are errors in the checks too, as in the suite.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
CHECKS = (
    "test_keras_runs_on_jax",
    "test_keras_signatures_are_keras",
    "test_keras_layers_are_drawn_as_keras_computes_them",
    "test_keras_separable_is_its_depthwise_then_its_pointwise",
    "test_flax_layers_are_drawn_as_lax_computes_them",
)


def test_every_check_is_run() -> None:
    tree = ast.parse((HERE / "layer_jax_checks.py").read_text(encoding="utf-8"))
    found = {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }
    assert found == set(CHECKS)


@pytest.mark.parametrize("check", CHECKS)
def test_in_a_process_of_its_own(check: str) -> None:
    code = f"import layer_jax_checks as checks; checks.{check}()"
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
