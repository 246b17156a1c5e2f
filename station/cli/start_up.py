"""A command's imports, made cheaper when the command is the process.

Start-up is most of a short command's time (``analyze`` of a 10-minute capture:
bench/bench_read.py).  Two of its costs are avoidable:

- the cyclic garbage collector, which finds nothing to free in freshly imported
  modules: it is off during the imports, and what they made is frozen after, so
  later collections and the one at exit never walk it again (~25 ms);
- the methods of the ~40 dataclasses a command imports, which Python compiles
  from source text at every import (``__init__``, ``__repr__``, ``__eq__``, ...)
  and caches nowhere (~17 ms).  Their code objects are kept in a file beside
  the station's bytecode (``__pycache__``, or under ``PYTHONPYCACHEPREFIX``),
  keyed by that text, so a class is compiled again only when its text changes.
  A cache that cannot be read is ignored, one that cannot be written is not
  written, and none is written under ``PYTHONDONTWRITEBYTECODE``, as for ``.pyc``
  files.

A command that runs briefly and handles arrays of megabytes (``analyze``) also
asks glibc to keep the memory it frees (:func:`keep_freed_memory`).

Tests call ``main(argv)`` in their own process: for them nothing here happens.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import gc
import importlib.util
import marshal
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

CACHE_STEM = "dataclass_code"
MAX_ENTRIES = 4096  # past this, a save keeps only what this process used
# mallopt(3) parameters, and the values keep_freed_memory sets.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's ceiling for it on a 64-bit system
TRIM_THRESHOLD = 1 << 30


def cache_path() -> Path | None:
    """Where the cache lives: where ``station/cli/dataclass_code.py`` would keep its
    bytecode, so it follows ``PYTHONPYCACHEPREFIX`` and the interpreter's tag."""
    try:
        pyc = importlib.util.cache_from_source(str(Path(__file__).with_name(f"{CACHE_STEM}.py")))
    except (NotImplementedError, ValueError):  # no bytecode caching in this interpreter
        return None
    return Path(pyc).with_suffix(".marshal")


class CodeCache:
    """Compiled code by source text, read from and saved to one file.

    The file holds ``importlib.util.MAGIC_NUMBER`` and a marshalled dict: code
    objects, like a ``.pyc`` file's, are only valid for the interpreter that
    made them, so a file with another magic number is ignored.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.codes = self._read(path)
        self.used: set[str] = set()
        self.compiled = 0

    @staticmethod
    def _read(path: Path | None) -> dict[str, CodeType]:
        if path is None:
            return {}
        try:
            blob = path.read_bytes()
        except OSError:
            return {}
        magic = importlib.util.MAGIC_NUMBER
        if not blob.startswith(magic):
            return {}
        try:
            codes = marshal.loads(blob[len(magic) :])
        except (EOFError, ValueError, TypeError):
            return {}
        if not isinstance(codes, dict):
            return {}
        return {k: v for k, v in codes.items() if isinstance(k, str) and isinstance(v, CodeType)}

    def exec(self, source: Any, globals: Any = None, locals: Any = None) -> None:
        """``exec`` that compiles a text only once (what ``dataclasses`` calls)."""
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)
            return
        code = self.codes.get(source)
        if code is None:
            code = compile(source, "<string>", "exec", dont_inherit=True)
            self.codes[source] = code
            self.compiled += 1
        self.used.add(source)
        builtins.exec(code, globals, locals)

    def save(self) -> None:
        """Write the cache if this process compiled anything new (atomically: a
        reader sees the old file or the new one, never half of one)."""
        if self.path is None or not self.compiled or sys.dont_write_bytecode:
            return
        codes = self.codes
        if len(codes) > MAX_ENTRIES:
            codes = {text: codes[text] for text in self.used}
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(importlib.util.MAGIC_NUMBER + marshal.dumps(codes))
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()


@contextlib.contextmanager
def dataclass_code_cache(cache: CodeCache) -> Iterator[CodeCache]:
    """Dataclasses made inside take their methods' code from ``cache``; saved after."""
    had = "exec" in vars(dataclasses)
    previous = vars(dataclasses).get("exec")
    dataclasses.exec = cache.exec  # type: ignore[attr-defined]  # shadows the builtin there
    try:
        yield cache
    finally:
        if had:
            dataclasses.exec = previous  # type: ignore[attr-defined]
        else:
            del dataclasses.exec  # type: ignore[attr-defined]
        cache.save()


@contextlib.contextmanager
def cheaper_imports(whole_process: bool) -> Iterator[None]:
    """Run a command's imports; made cheaper only when the command is the process."""
    if not whole_process:
        yield
        return
    gc.disable()
    try:
        with dataclass_code_cache(CodeCache(cache_path())):
            yield
    finally:
        gc.freeze()
        gc.enable()


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for the next allocation rather than hand it back.

    By default, an array of more than a few hundred kilobytes is mapped from
    the kernel and unmapped when freed, and the top of the heap is trimmed: the
    next array gets fresh pages, each zeroed and faulted in.  A command that
    allocates and frees arrays of megabytes one after another (``analyze``:
    a capture's pieces, the filter's passes) spends ~10 ms of a 0.2 s run on that
    (bench/bench_read.py).  Only for a process that ends soon: what it frees is
    kept until then.  True when glibc took both settings; elsewhere nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    kept = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return bool(kept and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
