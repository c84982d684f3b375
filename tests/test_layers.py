"""The package's layers: nothing below imports anything above it, and the core is pure.

Read from the source (every import, those inside functions included; imports only for type
checking are left out: they do not run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "convanim"

# Lowest first. A module may import its own layer and the layers below it.
LAYERS: dict[str, tuple[str, ...]] = {
    "core": (
        "errors",
        "params",
        "geometry",
        "receptive",
        "graph_fields",
        "values",
        "matrix",
        "theme",
        "options",
        "erf",
        "layer_source",
    ),
    # torch and onnx, imported lazily: the user's model in, the core's nodes out.
    "readers": ("model_fields", "model_torch", "model_onnx", "erf_model"),
    "drawing": (
        "drawing",
        "stamps",
        "measure",
        "render",
        "rf_render",
        "erf_render",
        "model_render",
        "cell_render",
        "matrix_render",
        "overlap_render",
        "volume_render",
        "channel_render",
    ),
    "formats": ("formats", "writers"),
    "save": ("animate",),
    "kinds": ("kinds",),
    "front-ends": (
        "figures",
        "build",
        "workers",
        "gallery",
        "sphinxext",
        "notebook",
        "mkdocs_plugin",
        "cli",
        "__main__",
        "__init__",
    ),
}
CORE_MAY_IMPORT = {"numpy"}  # besides the standard library


def layer_of(module: str) -> int:
    """The layer of ``convanim.x.y`` (by its first part)."""
    head = module.split(".")[1] if module.count(".") else "__init__"
    for index, names in enumerate(LAYERS.values()):
        if head in names:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(path: Path) -> set[str]:
    """The modules a file imports when it runs (type-checking-only imports left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _type_checking(node)
        for child in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


MODULES = modules()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_nothing_below_imports_above(module: str) -> None:
    own = layer_of(module)
    for imported in sorted(imports(MODULES[module])):
        if imported.startswith("convanim.") and imported in MODULES:
            assert layer_of(imported) <= own, f"{module} ({own}) imports {imported}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if layer_of(m) == 0))
def test_the_core_is_numpy_and_the_standard_library(module: str) -> None:
    import sys

    for imported in imports(MODULES[module]):
        top = imported.split(".")[0]
        if top in ("convanim", "__future__"):
            continue
        assert top in CORE_MAY_IMPORT or top in sys.stdlib_module_names, (module, imported)


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)
