"""Read the user's own model: ``MODULE:CALLABLE`` targets, PyTorch modules and ONNX files.

The readers turn a model into ``convanim.graph_fields.Node`` s and leave the field arithmetic
to that core module. torch and onnx are imported only inside the functions that need them.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from convanim.errors import ParameterError
from convanim.graph_fields import ModelFields, graph_fields

__all__ = [
    "load_model",
    "locate",
    "model_files",
    "onnx_fields",
    "parse_input_shape",
    "receptive_fields",
]

TARGET = "MODULE:CALLABLE (a module importable from the current directory, or file.py:callable)"


def _fail(message: str) -> ParameterError:
    return ParameterError("torch", message)


def _import(module: str) -> Any:
    """``module`` imported by name (the current directory first) or from a ``.py`` path."""
    if _is_path(module):
        path = Path(module)
        if not path.is_file():
            raise _fail(f"got '{module}'; no such file (expected {TARGET})")
        name = f"convanim_model_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise _fail(f"got '{module}'; cannot load it as a Python file")
        loaded = importlib.util.module_from_spec(spec)
        folder = str(path.resolve().parent)
        sys.path.insert(0, folder)  # its own sibling modules import, as they would when run
        try:
            spec.loader.exec_module(loaded)
        except Exception as error:
            raise _fail(f"'{module}' raised {type(error).__name__}: {error}") from None
        finally:
            sys.path.remove(folder)
        return loaded
    cwd = os.getcwd()
    added = cwd not in sys.path and "" not in sys.path
    if added:
        sys.path.insert(0, cwd)  # as uvicorn does: the current directory comes first
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is not None and module.startswith(error.name):
            raise _fail(
                f"got '{module}'; no module named '{error.name}' (expected {TARGET})"
            ) from None
        raise _fail(f"importing '{module}' raised ModuleNotFoundError: {error}") from None
    except Exception as error:
        raise _fail(f"importing '{module}' raised {type(error).__name__}: {error}") from None
    finally:
        if added:
            sys.path.remove(cwd)


def _is_path(module: str) -> bool:
    return module.endswith(".py") or os.sep in module or "/" in module


def locate(torch: str | None, onnx: str | None, base: Path) -> tuple[str | None, str | None]:
    """A ``--torch`` target and an ``--onnx`` file with their files taken relative to
    ``base`` (a manifest's or a document's folder; ``.`` on the command line). A target
    that names a module (``pkg.models:net``) is imported by name and left as it is."""
    if torch is not None:
        module, _, attribute = torch.rpartition(":")
        if module and _is_path(module):
            torch = f"{Path(base) / module}:{attribute}"
    if onnx is not None:
        onnx = str(Path(base) / onnx)
    return torch, onnx


def model_files(torch: str | None, onnx: str | None, base: Path) -> dict[str, Path]:
    """The files a figure's model is read from, by option (for its fingerprint): a ``.py``
    target's file and the ONNX file. A module imported by name has none here, and the
    modules a file imports are not followed."""
    torch, onnx = locate(torch, onnx, base)
    found = {}
    if torch is not None and _is_path(torch.rpartition(":")[0]):
        found["torch"] = Path(torch.rpartition(":")[0])
    if onnx is not None:
        found["onnx"] = Path(onnx)
    return found


def load_model(target: str) -> Any:
    """The ``torch.nn.Module`` that ``MODULE:CALLABLE`` returns (uvicorn's convention).

    ``MODULE`` is a dotted module name, importable from the current directory or ``sys.path``,
    or a path to a ``.py`` file; ``CALLABLE`` is an attribute of it (dotted for nested ones)
    called with no arguments. An attribute that already is a module is taken as it is. The
    model is put in eval mode. Every mistake is a ``ParameterError`` naming ``torch``.
    """
    if not isinstance(target, str) or target.count(":") < 1:
        raise _fail(f"got {target!r}; expected {TARGET}")
    module_name, _, attribute = target.rpartition(":")
    if not module_name or not attribute:
        raise _fail(f"got '{target}'; expected {TARGET}")
    try:
        import torch
    except ImportError:
        raise _fail(
            "reading a PyTorch model needs the torch extra: pip install 'convanim[torch]'"
        ) from None
    found: Any = _import(module_name)
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise _fail(f"got '{target}'; '{module_name}' has no attribute '{attribute}'")
        found = getattr(found, part)
    if isinstance(found, torch.nn.Module):
        model = found
    elif callable(found):
        try:
            model = found()
        except Exception as error:
            raise _fail(f"'{target}()' raised {type(error).__name__}: {error}") from None
        if not isinstance(model, torch.nn.Module):
            raise _fail(f"'{target}()' returned {type(model).__name__}; expected a torch.nn.Module")
    else:
        raise _fail(
            f"got '{target}', a {type(found).__name__}; expected a callable returning a "
            "torch.nn.Module"
        )
    return model.eval()


def parse_input_shape(value: object, param: str = "input_shape") -> tuple[int, ...]:
    """``3,224,224`` (channels, then 1 or 2 spatial sizes) as a tuple of positive ints."""
    items: Sequence[object]
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        items = []
    shape: list[int] = []
    for item in items:
        text = str(item)
        if isinstance(item, bool) or not text.isdigit() or int(text) < 1:
            shape = []
            break
        shape.append(int(text))
    if not 2 <= len(shape) <= 3:
        raise ParameterError(
            param,
            f"got {value!r}; expected channels then the input's spatial size, each >= 1: "
            "3,224,224 (2-D) or 1,16000 (1-D)",
        )
    return tuple(shape)


def receptive_fields(model: Any, input_shape: Sequence[int] | str) -> ModelFields:
    """Per layer of a ``torch.nn.Module``, in graph order, the receptive field of its units.

    ``input_shape`` is one input's shape without the batch axis: channels, then one or two
    spatial sizes (``(3, 224, 224)``). The result iterates over rows
    (``convanim.graph_fields.ModelField``); its ``ended`` says where a classifier's head (or
    any layer whose units see the whole input) ended the analysis.
    """
    from convanim.model_torch import torch_nodes

    shape = parse_input_shape(input_shape)
    return graph_fields(torch_nodes(model, shape), shape[1:])


def onnx_fields(path: str | Path, input_shape: Sequence[int] | str | None = None) -> ModelFields:
    """``receptive_fields`` of an ONNX file, read with the ``onnx`` package (no torch).

    ``input_shape`` may be left out when the file fixes the input's sizes.
    """
    from convanim.model_onnx import onnx_input_shape, onnx_nodes, read_onnx

    model = read_onnx(path)
    if input_shape is None:
        found = onnx_input_shape(model)
        if found is None:
            raise ParameterError(
                "input_shape", f"'{path}' leaves its input's sizes open; give the input's shape"
            )
        shape = parse_input_shape(found)
    else:
        shape = parse_input_shape(input_shape)
    return graph_fields(onnx_nodes(model, len(shape) - 1), shape[1:])
