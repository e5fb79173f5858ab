"""Modules imported at their first use, so that importing :mod:`mbpm` stays quick.

A chapter's kernel imports many mbpm modules, but most chapters never call SciPy's tests or draw
a chart with Altair: both take about half a second to import (``python -X importtime``). A
module written ``stats = lazy_module("scipy.stats")`` instead of ``from scipy import stats``
imports SciPy's module at the first attribute access (``stats.t.ppf``), not when mbpm is
imported; what the code computes is the same.

>>> math = lazy_module("math")
>>> "sqrt" in vars(math)
False
>>> math.sqrt(4.0)
2.0
>>> "sqrt" in vars(math)
True
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Callable
from typing import Any


class LazyModule(types.ModuleType):
    """A stand-in for the module ``name`` that imports it when an attribute is first read.

    After the import its namespace is copied in, so later reads are ordinary attribute reads.
    Nothing is put in ``sys.modules`` under ``name``: other importers get the real module.
    """

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self.__name__)
        self.__dict__.update(vars(module))
        return getattr(module, attribute)

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module(self.__name__))


def lazy_module(name: str) -> Any:
    """A :class:`LazyModule` for the module ``name`` (dotted, absolute), imported at first use."""
    return LazyModule(name)


class _RunAfterLoading(importlib.abc.Loader):
    """The loader of a module, with ``callback(module)`` run once the module has executed."""

    def __init__(self, loader: importlib.abc.Loader, callback: Callable[[types.ModuleType], None]):
        self.loader, self.callback = loader, callback

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        # The module keeps its own loader (resources, reloads); only this one run is wrapped.
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        self.callback(module)


class _WhenImported(importlib.abc.MetaPathFinder):
    """A finder that hands out the module ``name``'s spec with a :class:`_RunAfterLoading`
    loader, once, and then leaves ``sys.meta_path``."""

    def __init__(self, name: str) -> None:
        self.name, self.callbacks = name, []  # type: list[Callable[[types.ModuleType], None]]

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _RunAfterLoading(spec.loader, self._run)
        return spec

    def _run(self, module: types.ModuleType) -> None:
        for callback in self.callbacks:
            callback(module)


def when_imported(name: str, callback: Callable[[types.ModuleType], None]) -> None:
    """Call ``callback(module)`` as soon as the top-level module ``name`` has been imported:
    now if it already has been, else right after its first import (by any code).

    So that configuring a library (the book's Altair theme and renderer) does not import it
    in a kernel that never uses it, and is still in place before its first use.

    >>> seen = []
    >>> when_imported("sys", lambda module: seen.append(module.__name__))
    >>> seen
    ['sys']
    """
    if name in sys.modules:
        callback(sys.modules[name])
        return
    finder = next((f for f in sys.meta_path if isinstance(f, _WhenImported) and f.name == name),
                  None)
    if finder is None:
        finder = _WhenImported(name)
        sys.meta_path.insert(0, finder)
    if callback not in finder.callbacks:
        finder.callbacks.append(callback)
