"""Receptive fields of the user's own model: the loader, the readers and the analysis."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from convanim.errors import ParameterError
from convanim.model_fields import load_model, parse_input_shape

# -- MODULE:CALLABLE ------------------------------------------------------------------------

MODEL_FILE = """
import torch

def build():
    return torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3), torch.nn.ReLU())

instance = torch.nn.Conv2d(1, 1, 5)

def not_a_module():
    return 42

def broken():
    raise RuntimeError("no weights here")

number = 7
"""


@pytest.fixture
def model_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("torch")
    path = tmp_path / "my_models.py"
    path.write_text(MODEL_FILE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "my_models", raising=False)
    return path


def test_a_module_of_the_current_directory_loads(model_file: Path) -> None:
    model = load_model("my_models:build")
    assert type(model).__name__ == "Sequential"
    assert not model.training
    assert "my_models" not in [Path(p).name for p in sys.path if p]


def test_a_file_path_loads_and_an_instance_is_taken_as_it_is(model_file: Path) -> None:
    assert type(load_model(f"{model_file}:build")).__name__ == "Sequential"
    assert load_model("my_models.py:instance").kernel_size == (5, 5)


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("my_models", "expected MODULE:CALLABLE"),
        ("no_such_module_here:build", "no module named 'no_such_module_here'"),
        ("missing.py:build", "no such file"),
        ("my_models:nothing", "has no attribute 'nothing'"),
        ("my_models:not_a_module", "returned int; expected a torch.nn.Module"),
        ("my_models:broken", "raised RuntimeError: no weights here"),
        ("my_models:number", "a int; expected a callable"),
        (":build", "expected MODULE:CALLABLE"),
    ],
)
def test_a_bad_target_is_one_error_naming_torch(model_file: Path, target: str, words: str) -> None:
    with pytest.raises(ParameterError) as caught:
        load_model(target)
    assert caught.value.param == "torch"
    assert words in caught.value.detail
    assert "\n" not in str(caught.value)


def test_input_shapes_parse() -> None:
    assert parse_input_shape("3,224,224") == (3, 224, 224)
    assert parse_input_shape([1, 100]) == (1, 100)
    for bad in ("3", "3,0,4", "a,b", "1,2,3,4", True, "3,-1,4"):
        with pytest.raises(ParameterError, match="input_shape"):
            parse_input_shape(bad)
