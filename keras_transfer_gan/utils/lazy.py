"""Lazily imported public names: a module's ``__getattr__`` that imports a name's module on first use."""

import importlib


def lazy_getattr(module_name, table, namespace):
    """A module-level ``__getattr__`` for `table` (``{name: module}``) that caches what it imports in `namespace`
    (the module's ``globals()``)."""

    def __getattr__(name):
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
