"""The HTTP stand-ins of ``benchmarks/standins.py`` for the tests: ``expand`` fills in a
batch call as the provider would, ``answer`` and ``count`` give its documented answer.

The module is loaded by its path: pysbd installs a top-level package also named
``benchmarks`` that comes first on pytest's path.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _load() -> ModuleType:
    name = "newsletter_benchmarks_standins"
    if name not in sys.modules:
        path = Path(__file__).parents[1] / "benchmarks" / "standins.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


standins = _load()
Call, Delivered = standins.Call, standins.Delivered
answer, count, expand = standins.answer, standins.count, standins.expand
