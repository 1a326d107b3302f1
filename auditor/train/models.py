"""The model axis: built-in tabular and image models, torchvision, and user factories.

A factory is named ``package.module:function`` and is called as
``function(input_shape=..., num_classes=...)``. Importing it runs its code,
so a factory is trusted code, like the config that names it (docs/security.md).
Every model passes Opacus' ModuleValidator; torchvision models are fixed first
(BatchNorm becomes GroupNorm).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path

import torch
from opacus.validators import ModuleValidator
from torch import nn

from auditor.errors import InputError, require_regular_file
from auditor.tasks.base import BuiltModel, Rewrite

Builder = Callable[[tuple[int, ...], int, list[int]], nn.Module]


def _mlp(input_shape: tuple[int, ...], classes: int, hidden: list[int]) -> nn.Module:
    layers: list[nn.Module] = [nn.Flatten()] if len(input_shape) > 1 else []
    width = _flat(input_shape)
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def _logreg(input_shape: tuple[int, ...], classes: int, hidden: list[int]) -> nn.Module:
    return _mlp(input_shape, classes, [])


def _cnn(input_shape: tuple[int, ...], classes: int, hidden: list[int]) -> nn.Module:
    if len(input_shape) != 3:
        raise InputError("model 'cnn' needs image data (train.model)")
    channels = input_shape[0]
    return nn.Sequential(
        nn.Conv2d(channels, 16, 3, padding=1),
        nn.GroupNorm(4, 16),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.GroupNorm(8, 32),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.Linear(32 * 16, hidden[0] if hidden else 64),
        nn.ReLU(),
        nn.Linear(hidden[0] if hidden else 64, classes),
    )


def _flat(shape: tuple[int, ...]) -> int:
    size = 1
    for dim in shape:
        size *= dim
    return size


BUILTIN: dict[str, Builder] = {"mlp": _mlp, "logreg": _logreg, "cnn": _cnn}


def _torchvision(name: str, input_shape: tuple[int, ...], classes: int) -> nn.Module:
    import torchvision.models as tvm

    if name not in tvm.list_models(module=tvm):
        raise InputError(f"unknown torchvision model {name!r} (train.model)")
    if len(input_shape) != 3:
        raise InputError(f"torchvision:{name} needs image data (train.model)")
    model: nn.Module = tvm.get_model(name, weights=None, num_classes=classes)
    return model


def _factory(spec: str, input_shape: tuple[int, ...], classes: int) -> nn.Module:
    module_name, _, function_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import model factory module {module_name!r}: {exc}") from None
    factory = getattr(module, function_name, None)
    if not callable(factory):
        raise InputError(f"model factory {spec!r} is not a callable")
    params = inspect.signature(factory).parameters
    kwargs = {k: v for k, v in {"input_shape": input_shape, "num_classes": classes}.items() if k in params}
    model = factory(**kwargs)
    if not isinstance(model, nn.Module):
        raise InputError(f"model factory {spec!r} returned {type(model).__name__}, not a torch.nn.Module")
    return model


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """Read the state_dict in ``path`` (``train.init_weights``).

    ``weights_only=True`` lets the unpickler build tensors and plain containers only:
    a file that would import or call anything is refused before any of it runs."""
    where = f"{path} (train.init_weights)"
    require_regular_file(path, "the weights file (train.init_weights)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError("weights file not found", where=where) from None
    except OSError as exc:
        raise InputError(f"cannot read weights: {exc.strerror}", where=where) from None
    except Exception as exc:  # UnpicklingError, RuntimeError, EOFError...: all mean "not a weights file"
        found = re.search(r"Unsupported global: GLOBAL \S+", str(exc))
        detail = f" ({found.group(0)})" if found else ""
        raise InputError(f"refused: not a weights-only state_dict file{detail}", where=where) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise InputError("expected a state_dict: a mapping of parameter names to tensors", where=where)
    return state


def load_weights(model: nn.Module, path: Path) -> None:
    """Start ``model`` from the state_dict in ``path``; a shape or name mismatch is an input error."""
    try:
        model.load_state_dict(read_weights(path), strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise InputError(f"does not fit the model: {detail[:200]}", where=f"{path} (train.init_weights)") from None


def _layer(module: nn.Module) -> str:
    text = " ".join(repr(module).split())
    return text if len(text) <= 120 else text[:117] + "..."


def fix_for_dp(model: nn.Module) -> tuple[nn.Module, list[Rewrite]]:
    """Opacus' ModuleValidator.fix, with every layer it replaced listed (BatchNorm → GroupNorm, LSTM → DPLSTM).

    The non-private baseline starts from the same rewritten model, so both runs train the
    architecture the report describes."""
    if not ModuleValidator.validate(model, strict=False):
        return model, []
    before = dict(model.named_modules())
    fixed = ModuleValidator.fix(model)
    rewrites = [
        Rewrite(path=name or "(model)", before=_layer(before[name]), after=_layer(module))
        for name, module in fixed.named_modules()
        if name in before and type(before[name]) is not type(module)
    ]
    return fixed, rewrites


def build_model(
    spec: str, input_shape: tuple[int, ...], classes: int, hidden: list[int], weights: Path | None = None
) -> BuiltModel:
    """Build the configured model (from ``weights`` if given) and make it Opacus-compatible,
    or raise InputError naming the layers. ``classes`` is the output width (1 for regression)."""
    if spec in BUILTIN:
        model = BUILTIN[spec](input_shape, classes, hidden)
    elif spec.startswith("torchvision:"):
        model = _torchvision(spec.split(":", 1)[1], input_shape, classes)
    elif ":" in spec:
        model = _factory(spec, input_shape, classes)
    else:
        raise InputError(f"unknown model {spec!r}; use mlp, logreg, cnn, torchvision:<name> or module:function")
    if weights is not None:
        load_weights(model, weights)
    model, rewrites = fix_for_dp(model)
    problems = ModuleValidator.validate(model, strict=False)
    if problems:
        names = sorted({type(p).__name__ + ": " + str(p).splitlines()[0] for p in problems})
        raise InputError(f"model {spec!r} has layers Opacus cannot train privately: {'; '.join(names)[:300]}")
    _dry_run(model, spec, input_shape, classes)
    return BuiltModel(module=model, rewrites=rewrites)


def _dry_run(model: nn.Module, spec: str, input_shape: tuple[int, ...], classes: int) -> None:
    """A forward pass on two zero inputs: a model that does not fit the data is a config error, not a crash."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(torch.zeros(2, *input_shape))
    except Exception as exc:
        message = " ".join(str(exc).split())[:160]
        raise InputError(
            f"model {spec!r} fails on inputs of shape {input_shape}: {type(exc).__name__}: {message}"
        ) from None
    finally:
        model.train(was_training)
    if not isinstance(output, torch.Tensor) or tuple(output.shape) != (2, classes):
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__
        raise InputError(f"model {spec!r} must return outputs of shape (batch, {classes}), got {shape}")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def describe(model: nn.Module) -> str:
    """A one-line architecture summary, e.g. 'Linear(31→64) · ReLU · Linear(64→2)'."""
    parts = []
    for module in model.modules():
        if module is model or list(module.children()):
            continue
        if isinstance(module, nn.Linear):
            parts.append(f"Linear({module.in_features}→{module.out_features})")
        elif isinstance(module, nn.Conv2d):
            parts.append(f"Conv2d({module.in_channels}→{module.out_channels}, k{module.kernel_size[0]})")
        else:
            parts.append(type(module).__name__)
    text = " · ".join(parts)
    return text if len(text) <= 240 else text[:237] + "..."
