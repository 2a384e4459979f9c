"""The package's layers only point down: a module may import its own unit and the units below it."""

from __future__ import annotations

import ast
from pathlib import Path

import monge

ROOT = Path(monge.__file__).parent

# unit -> layer; a unit may import units of a lower layer only (and of its own unit)
LAYERS = {
    "errors": 0,
    "engine": 1,
    "options": 1,
    "runs": 1,
    "threads": 2,
    "data": 2,
    "backbones": 2,
    "viz": 3,
    "report": 4,
    "metrics": 4,
    "ot": 5,
    "train": 6,
    "style": 6,
    "bench": 7,
    "ui": 8,
    "cli": 9,
    "__main__": 10,
}


def _unit(module: str) -> str:
    """``monge.ot.solver`` -> ``ot``; a name of the root package itself (``__version__``) is the lowest layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "errors"


def _imports(path: Path) -> list[tuple[str, int]]:
    """(imported monge module, line) for every import in ``path``, relative ones resolved."""
    module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + [node.module] if node.module else base) if node.level else node.module or ""
            if target == "monge":  # from monge import x / from .. import x: each name is a unit
                found += [(f"monge.{alias.name}", node.lineno) for alias in node.names]
            elif target.startswith("monge."):
                found.append((target, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names if alias.name.startswith("monge.")]
    return found


def test_every_unit_has_a_layer():
    modules = [p for p in ROOT.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()]
    units = {p.stem if p.is_file() else p.name for p in modules}
    assert units - {"__init__"} <= set(LAYERS), sorted(units - {"__init__"} - set(LAYERS))


def test_no_module_imports_a_higher_layer():
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent)
        unit = _unit(".".join(rel.with_suffix("").parts)) if path.parent != ROOT or path.name != "__init__.py" else None
        if unit is None:  # the root package's lazy exports name every unit by design
            continue
        for target, line in _imports(path):
            other = _unit(target)
            if other != unit and LAYERS[other] >= LAYERS[unit]:
                upward.append(f"{rel}:{line} ({unit}, layer {LAYERS[unit]}) imports {target} (layer {LAYERS[other]})")
    assert not upward, "\n".join(upward)


def test_the_walk_resolves_relative_imports():
    assert {t for t, _ in _imports(ROOT / "ot" / "solver.py")} >= {"monge.ot.costs", "monge.ot.trainer"}
    assert "monge.errors" in {t for t, _ in _imports(ROOT / "ot" / "costs.py")}  # from ..errors import
    assert "monge.cli.main" in {t for t, _ in _imports(ROOT / "__main__.py")}


def test_modules_and_functions_stay_short_enough_to_read_in_one_sitting():
    long = []
    for path in sorted(ROOT.rglob("*.py")):
        source = path.read_text()
        if len(source.splitlines()) > 300:
            long.append(f"{path.relative_to(ROOT.parent)}: {len(source.splitlines())} lines (at most 300)")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long.append(
                        f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.name}: {length} lines (at most 80)"
                    )
    assert not long, "\n".join(long)
