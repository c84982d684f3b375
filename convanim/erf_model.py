"""The effective receptive field of a PyTorch module's own weights, by autograd (torch needed).

torch is imported inside the functions only. ``convanim.erf.effective_receptive_field`` with
``weights="model"`` comes here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from convanim.errors import ParameterError

__all__ = ["field_modules", "model_erf", "model_erfs", "pick_module"]

SEED = 0  # of the input the gradient is taken at


class _Stop(Exception):
    """Raised by the hook once the chosen layer's output is in hand: the rest is not run."""


def _field_types() -> tuple[type, ...]:
    from torch import nn

    return (
        nn.Conv1d,
        nn.Conv2d,
        nn.ConvTranspose1d,
        nn.ConvTranspose2d,
        nn.MaxPool1d,
        nn.MaxPool2d,
        nn.AvgPool1d,
        nn.AvgPool2d,
    )


def field_modules(model: Any) -> list[tuple[str, Any]]:
    """The module's convolution and pooling layers (1-D and 2-D, transposed included), as
    (qualified name, module) in ``named_modules()`` order."""
    types = _field_types()
    return [(name, module) for name, module in model.named_modules() if isinstance(module, types)]


def pick_module(model: Any, layer: Any) -> tuple[int, str, Any]:
    """(index, name, module) of ``layer``: an index among ``field_modules`` (negative from the
    end) or a qualified name from ``named_modules()`` (any module, not only those)."""
    found = field_modules(model)
    if isinstance(layer, str):
        modules = dict(model.named_modules())
        if layer in modules and layer:
            names = [name for name, _ in found]
            index = names.index(layer) if layer in names else -1
            return index, layer, modules[layer]
        shown = ", ".join(name for name, _ in found[:6]) + (", ..." if len(found) > 6 else "")
        raise ParameterError(
            "layer",
            f"got '{layer}'; no module of that name; the model's convolution and pooling "
            f"layers are {shown or 'none'}",
        )
    count = len(found)
    if count == 0:
        raise ParameterError("layer", "the model has no convolution or pooling layer; name one")
    if isinstance(layer, bool) or not isinstance(layer, int) or not -count <= layer < count:
        raise ParameterError(
            "layer",
            f"got {layer!r}; expected an index of the model's {count} convolution and pooling "
            f"layers, 0 to {count - 1} (-1: the last), or a module's name",
        )
    index = layer % count
    return index, found[index][0], found[index][1]


def _spatial_dims(module: Any) -> int | None:
    """1 or 2 for a 1-D or 2-D convolution or pooling layer; None for another module."""
    name = type(module).__name__
    if isinstance(module, _field_types()):
        return 1 if name.endswith("1d") else 2
    return None


def _shape(input_shape: Any) -> tuple[int, ...]:
    ok = isinstance(input_shape, (tuple, list)) and 2 <= len(input_shape) <= 3
    if not ok or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in input_shape
    ):
        raise ParameterError(
            "input_shape",
            f"got {input_shape!r}; expected (channels, rows, cols) or (channels, length), "
            "each >= 1, without the batch",
        )
    return tuple(input_shape)


def model_erf(
    model: Any, input_shape: Any, layer: Any = -1, *, input: Any = None
) -> npt.NDArray[np.float64]:
    """``|∂ unit / ∂ input|`` for the centre unit of ``layer``'s output, summed over channels.

    The unit is the sum over the layer's output channels at its centre position ((n - 1) // 2
    per spatial axis). The gradient is taken at ``input`` (a tensor of shape (1, *input_shape))
    or else at a standard normal input drawn from seed 0, in eval mode (the module's mode is
    restored after), with the module's own weights; only the layers up to ``layer`` run. The
    result has the input's spatial shape (rows, cols) or (length,), as float64.
    """
    import torch

    shape = _shape(input_shape)
    _, name, module = pick_module(model, layer)
    spatial = _spatial_dims(module)
    if spatial is not None and spatial != len(shape) - 1:
        expected = "(channels, rows, cols)" if spatial == 2 else "(channels, length)"
        raise ParameterError(
            "input_shape",
            f"got {shape!r}; layer '{name}' is {spatial}-D ({type(module).__name__}): "
            f"expected {expected}",
        )
    if input is None:
        generator = torch.Generator().manual_seed(SEED)
        x = torch.randn((1, *shape), generator=generator, dtype=torch.float64)
    else:
        x = torch.as_tensor(input).detach().clone()
        if tuple(x.shape) != (1, *shape):
            raise ParameterError(
                "input", f"got a tensor of shape {tuple(x.shape)}; expected {(1, *shape)}"
            )
    parameter = next(iter(model.parameters()), None)
    x = x.to(parameter.dtype if parameter is not None else torch.float32).requires_grad_(True)
    captured: list[Any] = []

    def hook(_module: Any, _inputs: Any, output: Any) -> None:
        captured.append(output)
        raise _Stop

    handle = module.register_forward_hook(hook)
    training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            try:
                model(x)
            except _Stop:
                pass
            except Exception as error:
                first = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise ParameterError(
                    "input_shape",
                    f"the model raised {type(error).__name__} on an input of shape "
                    f"{(1, *shape)}: {first}",
                ) from None
            if not captured:
                raise ParameterError("layer", f"got '{name}'; the model's forward never called it")
            output = captured[0]
            if not isinstance(output, torch.Tensor) or output.dim() != x.dim():
                raise ParameterError(
                    "layer",
                    f"got '{name}'; its output is not a (batch, channels, *spatial) tensor "
                    "like the input's",
                )
            centre = tuple((n - 1) // 2 for n in output.shape[2:])
            index: tuple[Any, ...] = (0, slice(None), *centre)
            unit = output[index].sum()
            (grad,) = torch.autograd.grad(unit, x, allow_unused=True)
    finally:
        handle.remove()
        model.train(training)
    if grad is None:  # the unit does not depend on the input at all
        return np.zeros(shape[1:], dtype=np.float64)
    heatmap: npt.NDArray[np.float64] = (
        grad.detach().abs().sum(dim=1)[0].to(torch.float64).cpu().numpy()
    )
    return heatmap


def model_erfs(
    model: Any, input_shape: Any, names: Any, *, input: Any = None
) -> list[npt.NDArray[np.float64]]:
    """Per name in ``names`` (a layer of the model's graph, as ``receptive_fields`` names its
    rows: ``layer1.0.conv1``, ``relu#2``, ``conv2d_1``), ``|∂ unit / ∂ input|`` for the
    centre unit of that layer's output, summed over channels, as ``model_erf`` takes it.

    The whole model runs once (traced as ``receptive_fields`` traces it, in-place operations
    out of place), then one backward pass per name.
    """
    import torch

    from convanim.model_torch import torch_outputs

    shape = _shape(input_shape)
    if input is None:
        generator = torch.Generator().manual_seed(SEED)
        x = torch.randn((1, *shape), generator=generator, dtype=torch.float64)
    else:
        x = torch.as_tensor(input).detach().clone()
    parameter = next(iter(model.parameters()), None)
    x = x.to(parameter.dtype if parameter is not None else torch.float32).requires_grad_(True)
    with torch.enable_grad():
        _, outputs = torch_outputs(model, x)
        found = []
        for name in names:
            if name not in outputs:
                raise ParameterError("layer", f"got '{name}'; no layer of the model has that name")
            output = outputs[name]
            centre = tuple((n - 1) // 2 for n in output.shape[2:])
            unit = output[(0, slice(None), *centre)].sum()
            grad = None
            if unit.requires_grad:
                (grad,) = torch.autograd.grad(unit, x, retain_graph=True, allow_unused=True)
            if grad is None:  # the unit does not depend on the input
                found.append(np.zeros(shape[1:], dtype=np.float64))
            else:
                found.append(grad.detach().abs().sum(dim=1)[0].to(torch.float64).cpu().numpy())
    return found
