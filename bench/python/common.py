"""Shared helpers for the Python baselines of `npm run bench`.

Every baseline runs as a small server: it reads one JSON request per line on stdin and answers
with one line on stdout that starts with PREFIX, so stray prints cannot be mistaken for answers.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
import traceback
from typing import Callable

PREFIX = "@@bench "


def read_csv(path: str) -> dict[str, list[float]]:
    """Reads a numeric CSV with a header row; lines starting with '#' are comments."""
    columns: list[str] = []
    data: dict[str, list[float]] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not columns:
                columns = line.split(",")
                data = {c: [] for c in columns}
                continue
            for name, cell in zip(columns, line.split(",")):
                data[name].append(float(cell))
    return data


def blas_info() -> list[dict]:
    """What threadpoolctl says about the BLAS and OpenMP libraries loaded in this process."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "num_threads", "version", "architecture", "threading_layer", "prefix")
    return [{k: lib.get(k) for k in keep if lib.get(k) is not None} for lib in threadpool_info()]


def environment() -> dict:
    """The Python side of the machine description."""
    return {
        "python": platform.python_version(),
        "openblas_env": {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ},
    }


def serve(handlers: dict[str, Callable[[dict], dict]]) -> None:
    """Answers requests until stdin closes. A failing request answers {"error": ...}."""
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
            handler = handlers.get(request.get("op"))
            if handler is None:
                raise ValueError(f"unknown op {request.get('op')!r}")
            reply = handler(request)
        except Exception as exc:  # reported to the harness, which decides what to do
            reply = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=3)}
        sys.stdout.write(PREFIX + json.dumps(reply) + "\n")
        sys.stdout.flush()


def clock() -> float:
    """A monotonic clock in seconds, at the best resolution available."""
    return time.perf_counter()
