"""The package's shape, as #23 set it: imports run one way, runs stay short, recipes and layer names stay home."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "keras_transfer_gan"
#: Sub-packages from the bottom up; a module may import from its own level or below, never above.
LEVELS = [
    {"utils", "serializables", "zoo", "data", "losses", "layers", "registry"},
    {"models"},
    {"transfer"},
    {"metrics", "export"},
    {"training"},
    {"tasks"},
    {"study"},
    {"runs", "factory"},
    {"cli", "__init__"},
]


def _level(part):
    return next(i for i, names in enumerate(LEVELS) if part in names)


def _part(path):
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py") if len(relative.parts) > 1 or relative.name != "__init__.py" \
        else "__init__"


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("keras_transfer_gan."):
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("keras_transfer_gan."))


FILES = sorted(PACKAGE.rglob("*.py"))


def test_no_import_runs_back_up():
    upward = [f"{path.relative_to(PACKAGE)} -> {module}" for path in FILES for module in _imports(path)
              if _level(module.split(".")[1]) > _level(_part(path))]
    assert not upward, upward


def test_the_registry_imports_no_model():
    assert not [m for m in _imports(PACKAGE / "registry.py") if m.startswith("keras_transfer_gan.models")]


def test_the_longest_function_in_runs_is_at_most_40_lines():
    lengths = {f"{path.name}:{node.name}": node.end_lineno - node.lineno + 1 for path in (PACKAGE / "runs").glob("*.py")
               for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)}
    assert max(lengths.values()) <= 40, sorted(lengths.items(), key=lambda kv: -kv[1])[:3]


@pytest.mark.parametrize("name", ["trgan", "tgan", "ctgan"])
def test_no_file_outside_tasks_names_a_recipe(name):
    """A recipe's name is a string only in its own task file (the registry dispatches; nothing compares)."""
    found = [str(path.relative_to(PACKAGE)) for path in FILES if "tasks" not in path.parts
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Constant) and node.value == name]
    assert not found, found


def test_the_augment_names_read_without_tensorflow_are_the_toolkits():
    """`tasks.trgan.AUGMENTS` (the option's choices, and the CLI's) is a copy that avoids importing TensorFlow."""
    from keras_transfer_gan.tasks.trgan import AUGMENTS
    from keras_transfer_gan.transfer.augmentation import AUGMENTS as TOOLKIT

    assert AUGMENTS == TOOLKIT
