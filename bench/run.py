"""Run every benchmark module (bench/bench_*.py) and print its figures.

Each module exposes ``run() -> list[tuple[str, str]]`` returning (label, value)
rows; targets are printed next to the figures, never asserted.

twinlock's sources are byte-compiled first, as pip does when it installs a wheel: the
development install is editable, and where ``PYTHONDONTWRITEBYTECODE`` is set (this
machine sets it) Python would otherwise compile every twinlock module in every
process the benchmarks time, which no installed twinlock does.
"""

from __future__ import annotations

import compileall
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    compileall.compile_dir(str(HERE.parent / "src"), quiet=1)
    for path in sorted(HERE.glob("bench_*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"== {path.stem.removeprefix('bench_')} ==")
        for label, value in module.run():
            print(f"  {label:<58} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
