"""The engine stands alone: it imports NumPy (and its input checks), never the CLI, plots or server."""

import ast
import subprocess
import sys

from conftest import SRC


def _modules_after(statement):
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": ""})
    return set(out.stdout.split())


def test_engine_imports_numpy_only():
    """Every import in src/relunet/engine is the standard library, NumPy, the engine itself, relunet.checks (the
    input checks at its doors, which import NumPy and the engine's errors only) or, in train.choose_backend
    alone, relunet.kernels (the compiled path it may pick, imported lazily)."""
    allowed = {"numpy", "math", "os", "time", "copy", "functools"}
    for path in (SRC / "relunet" / "engine").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1:
                    continue  # from .x import y: inside the engine
                assert node.level == 2, f"{path.name} imports from outside the engine: {ast.unparse(node)}"
                names = [node.module] if node.module else [a.name for a in node.names]
                assert names in (["checks"], ["kernels"]), f"{path.name}: {ast.unparse(node)}"
                assert names == ["checks"] or path.name == "train.py", f"{path.name} imports relunet.kernels"
                continue
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name}: import {name}"
    for node in ast.walk(ast.parse((SRC / "relunet" / "checks.py").read_text())):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            assert ast.unparse(node) in ("import math", "import os", "import numpy as np",
                                         "from .engine.errors import RelunetError"), ast.unparse(node)


def test_library_import_does_not_pull_plots_or_server():
    mods = _modules_after("import relunet")
    for heavy in ("matplotlib", "fastapi", "uvicorn", "torch", "sklearn", "relunet.cli", "relunet.plot"):
        assert heavy not in mods, heavy


def test_command_line_help_does_not_import_plotting_or_torch():
    mods = _modules_after("from relunet.cli import build_parser; build_parser()")
    for heavy in ("matplotlib", "torch", "sklearn", "onnx", "dask"):
        assert heavy not in mods, heavy
