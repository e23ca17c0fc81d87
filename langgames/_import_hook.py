"""Run a function once a module has been imported, without importing it.

`langgames` registers its games with Gymnasium, yet ``import langgames`` (and so every import of a
verifier module, which imports the package first) must not load Gymnasium: math workers and
sandbox workers start from the verifiers alone. The game table is therefore kept by
`langgames.registry` without Gymnasium, and copied into Gymnasium's registry the moment Gymnasium
is imported, whoever imports it and in whichever order: `when_imported` calls its callback at once
if the module is already loaded, else right after the module's own code has run.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # importlib.abc loads importlib.resources, tempfile and shutil: not at run time
    import importlib.abc

__all__ = ["when_imported"]

_lock = threading.Lock()
_pending: dict[str, list[Callable[[], None]]] = {}


def when_imported(name: str, callback: Callable[[], None]) -> None:
    """Call ``callback()`` once the top-level module ``name`` is imported (now, if it is)."""
    with _lock:
        module = sys.modules.get(name)
        loaded = module is not None and not getattr(
            getattr(module, "__spec__", None), "_initializing", False
        )
        if not loaded:
            if name not in _pending:
                _pending[name] = []
                sys.meta_path.insert(0, _Finder(name))
            _pending[name].append(callback)
            return
    callback()


class _Finder:  # an importlib.abc.MetaPathFinder (the protocol; the ABC is costly to import)
    def __init__(self, name: str) -> None:
        self.name = name

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # one shot; find the real spec with the other finders
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = cast("importlib.abc.Loader", _Loader(spec.loader, fullname))
        return spec


class _Loader:  # an importlib.abc.Loader, by protocol
    """The module's own loader, then the callbacks; everything else is delegated."""

    def __init__(self, loader: Any, name: str) -> None:
        self._loader = loader
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        with _lock:
            callbacks = _pending.pop(self._name, [])
        for callback in callbacks:
            callback()

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._loader, attr)
