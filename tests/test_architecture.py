"""The layers of docs/architecture.md, checked on the source: each imports only from the layers
before it, and no two modules import each other, directly or around a circle."""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "lstmstate"
# In the order data flows; a layer may import from the layers before it and from itself.
LAYERS = ["core", "storage", "trained", "output", "tutorial", "owndata", "sweep", "api", "cli"]


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "package"


def import_graph() -> dict[str, set[str]]:
    """``{module: {lstmstate modules it imports}}``, read from the source, lazy imports included."""
    graph = {}
    for path in SOURCE.rglob("*.py"):
        relative = path.relative_to(SOURCE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("lstmstate"):
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    is_module = (SOURCE.parent / Path(*candidate.split("."))).with_suffix(".py").exists()
                    imported.add(candidate if is_module else node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("lstmstate")}
        graph[module] = imported - {module}
    return graph


def test_the_graph_is_read():
    graph = import_graph()
    assert "lstmstate.core.engine" in graph["lstmstate.tutorial.outcome"]  # the test could fail
    assert len(graph) > 30


@pytest.mark.parametrize("layer", LAYERS)
def test_each_layer_imports_only_from_layers_before_it(layer):
    allowed = set(LAYERS[: LAYERS.index(layer) + 1]) | {"package"}
    wrong = {(module, target) for module, targets in import_graph().items() if _layer(module) == layer
             for target in targets if _layer(target) not in allowed}
    assert not wrong, f"{layer} imports from a later layer: {sorted(wrong)}"


def test_no_import_cycles():
    read = import_graph()  # parsed once: each module's imports, then kept to the modules there are
    graph = {m: {t for t in targets if t in read} for m, targets in read.items()}
    graph.pop("lstmstate", None)  # the package's __init__ sets the backend up and re-exports the core
    for targets in graph.values():
        targets.discard("lstmstate")
    visiting, done = set(), set()

    def visit(module, path):
        if module in visiting:
            raise AssertionError(f"import cycle: {' -> '.join(path[path.index(module):] + [module])}")
        if module in done:
            return
        visiting.add(module)
        for target in graph.get(module, ()):
            visit(target, path + [module])
        visiting.discard(module)
        done.add(module)

    for module in graph:
        visit(module, [])


# What the command line may not do itself: statistics, building results.json, writing files.
NOT_IN_THE_CLI = {"bootstrap_ci", "mean", "median", "difference", "accuracy_block", "curve_band", "header",
                  "write_entry", "write_results", "write_json", "write_atomically", "write_text", "write_bytes",
                  "open", "savefig", "to_csv", "judge", "payload", "entry"}
MAX_MODULE_LINES = 450


def _called(tree: ast.AST) -> set[str]:
    """The names of everything called: ``f()`` is ``f``, ``a.b.f()`` is ``f``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            function = node.func
            names.add(function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", ""))
    return names


def test_the_command_line_stays_thin():
    # cli.py parses, calls one library function per command and prints what output.terminal makes:
    # it imports no core module (no statistic, no engine), calls nothing that computes or writes.
    source = (SOURCE / "cli.py").read_text()
    tree = ast.parse(source)
    assert len(source.splitlines()) <= 400
    assert not {t for t in import_graph()["lstmstate.cli"] if t.startswith("lstmstate.core")}
    assert not _called(tree) & NOT_IN_THE_CLI, sorted(_called(tree) & NOT_IN_THE_CLI)


def test_the_thin_guard_can_fail():
    thick = ast.parse("from lstmstate.core import statistics\nlow, high = statistics.bootstrap_ci(values)\n")
    assert _called(thick) & NOT_IN_THE_CLI == {"bootstrap_ci"}


def test_no_module_is_over_450_lines():
    long = {str(path.relative_to(SOURCE)): n for path in SOURCE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split them by job): {long}"


# Where a flag is the subject: the command line itself, and the sweep's grid, whose options are spelled as flags.
SPEAKS_FLAGS = {"cli.py", "sweep/grid.py"}
COMMAND_WORDS = {"lstmstate", "ray", "train", "compare", "suite", "run", "forecast", "backtest", "generate", "export",
                 "inspect", "sweep", "cells", "report"}


def _flags_in_errors(tree: ast.AST) -> list[str]:
    """The ``--flag`` words of the messages given to ``ValueError`` in ``tree``, less advice to run
    a command (``lstmstate train --resume DIR``)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "ValueError":
            for part in ast.walk(node):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    words = [word.strip("()[]{};:,.'\"") for word in part.value.replace("`", " ").split()]
                    found += [word for i, word in enumerate(words) if word.startswith("--") and len(word) > 2
                              and not COMMAND_WORDS & set(words[max(0, i - 4):i])]
    return found


def test_library_errors_name_fields_not_flags():
    # The command line spells `batch_size` as --batch-size (output.exits.as_flags), the API as batch_size.
    flagged = {str(path.relative_to(SOURCE)): flags for path in SOURCE.rglob("*.py")
               if str(path.relative_to(SOURCE)) not in SPEAKS_FLAGS
               and (flags := _flags_in_errors(ast.parse(path.read_text())))}
    assert not flagged, flagged


def test_the_flag_guard_can_fail():
    assert _flags_in_errors(ast.parse('raise ValueError(f"--window must be at least 1, got {w}")')) == ["--window"]
    assert not _flags_in_errors(ast.parse('raise ValueError("go on with `lstmstate train --resume DIR`")'))
