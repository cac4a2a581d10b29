"""Execute notebooks headlessly in a fresh kernel each, with nbclient, and keep their outputs honest.

Run it through `npm run notebooks` (scripts/notebooks.ts), which builds lib, prepares the project's
Python environment and sets a deterministic environment for the kernel. Directly:

    .venv/bin/python scripts/notebooks.py [--check | --no-write | --restore] [--backend NAME] [--jobs N]
        [--timeout SECONDS] [--report FILE] [NOTEBOOK ...]

Without --check, every notebook (default: notebooks/**/*.ipynb) is executed top to bottom and its
outputs are written back, normalised (no timings, no kernel version, consecutive streams merged).
With --check, the version of each notebook committed in git is executed into a temporary copy and
compared with itself; any difference in a code cell's outputs or execution count fails. (Outside
git, the file on disk is used.) A notebook saved over since (JupyterLab saves outputs) gets a note
saying how to restore it: --restore puts named notebooks back as committed. With --no-write, notebooks are
executed and checked for errors only (`npm run figures` uses this: it wants the figures they save).

Backends: the committed outputs are made on the wasm backend, so that they reproduce byte for byte.
--backend tensorflow (or cpu) runs the notebooks on that backend instead, checks that each runs
cleanly there (every claim a notebook checks holds, no error, no stderr) and that the notebook itself
reported that backend; it neither compares nor writes outputs, which differ in float32 digits from
the committed ones.

--jobs N runs up to N notebooks at once, each in its own kernel (default: $NOTEBOOK_JOBS, else one
more than the number of CPUs, at most 4); results are printed in the order the notebooks were given. --report FILE
writes each notebook's result as JSON, for the benchmark: ok, seconds (wall time), cpu (the CPU time
its kernel used, which hardly depends on the machine's load) and the failure message.

A notebook fails when a cell raises, writes to stderr (tslab reports compile and runtime errors
there), prints an absolute path, or runs past the time limit. The message names the notebook, the
cell and the error. Cell tags:
    raises-exception     the cell is expected to fail (nbclient's own tag)
    allow-stderr         stderr output in this cell is expected
    nbval-ignore-output  --check does not compare this cell's outputs (nbval's tag, same meaning)

Exit status: 0 when every notebook passed, 1 otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import copy
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TIMEOUT = 300
KERNEL = "tslab"
# The backend the committed outputs are made on (scripts/jupyter.ts pins the kernels to it), and the others.
PINNED_BACKEND = "wasm"
BACKENDS = ("tensorflow", "wasm", "cpu")
# The line lib's initBackend() prints in a notebook's setup cell.
BACKEND_LINE = re.compile(r"^attention-pooling: backend (\w+)", re.M)
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
STACK_FRAME = re.compile(r"^\s+at ")
TEXT_MIME = re.compile(r"^(text/|application/(json|javascript)|image/svg)")


class NotebookFailure(Exception):
    """A notebook did not run cleanly; the message says where and why."""


def reported_backend(nb) -> str | None:
    """The backend the notebook's own initBackend() line names, or None when it printed none."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                match = BACKEND_LINE.search(out.get("text", ""))
                if match:
                    return match.group(1)
    return None


def check_backend(nb, path: Path, expected: str) -> None:
    """Fails unless the notebook reported running on `expected`."""
    seen = reported_backend(nb)
    if seen is None:
        raise NotebookFailure(
            f"{rel(path)} never reported its backend, so it cannot be said to have run on {expected}: "
            "its setup cell should call initBackend()"
        )
    if seen != expected:
        raise NotebookFailure(f"{rel(path)} ran on the {seen} backend, not on {expected}")


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def cell_label(nb, index: int) -> str:
    """'cell 5 (3rd code cell)': 1-based position in the notebook, then among code cells."""
    code_number = sum(1 for c in nb.cells[: index + 1] if c.cell_type == "code")
    return f"cell {index + 1} ({ordinal(code_number)} code cell)"


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def first_line(source: str) -> str:
    for line in source.splitlines():
        if line.strip():
            return line.strip()[:100]
    return "(empty)"


def error_text(cell) -> str:
    """What went wrong in a cell, from its error outputs and stderr, without stack frames."""
    parts: list[str] = []
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
        elif out.output_type == "stream" and out.name == "stderr":
            parts.append(out.text)
    lines = [ANSI.sub("", line).rstrip() for line in "\n".join(parts).splitlines()]
    lines = [line for line in lines if line.strip() and not STACK_FRAME.match(line)]
    if len(lines) > 12:
        lines = lines[:12] + ["..."]
    return "\n".join(f"    {line}" for line in lines) or "    (the kernel reported an error but printed nothing)"


def merge_streams(outputs: list) -> list:
    """Joins consecutive stream outputs of the same name, as JupyterLab does when it saves."""
    merged: list = []
    for out in outputs:
        if (
            out.get("output_type") == "stream"
            and merged
            and merged[-1].get("output_type") == "stream"
            and merged[-1].get("name") == out.get("name")
        ):
            merged[-1]["text"] = merged[-1]["text"] + out["text"]
        else:
            merged.append(copy.deepcopy(out))
    return merged


def normalise(nb) -> None:
    """Removes what varies between runs and machines but means nothing: timings, kernel version, ids of display."""
    language = nb.metadata.get("language_info")
    if isinstance(language, dict):
        language.pop("version", None)
    for cell in nb.cells:
        metadata = cell.get("metadata", {})
        metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        cell.outputs = merge_streams(cell.outputs)
        for out in cell.outputs:
            out.pop("transient", None)


def absolute_path_patterns() -> list[re.Pattern]:
    places = {str(ROOT), os.path.expanduser("~"), tempfile.gettempdir(), os.path.realpath(tempfile.gettempdir())}
    patterns = [re.compile(re.escape(p) + r"(?=[/\\\s\"']|$)") for p in places if len(p) > 1]
    patterns.append(re.compile(r"(?<![\w.])/(?:home|Users)/[^/\s]+/"))
    patterns.append(re.compile(r"\b[A-Za-z]:\\(?:Users|Documents and Settings)\\"))
    return patterns


def output_texts(out) -> list[str]:
    if out.get("output_type") == "stream":
        return [out.get("text", "")]
    if out.get("output_type") == "error":
        return [f"{out.get('ename', '')}: {out.get('evalue', '')}", *out.get("traceback", [])]
    texts = []
    for mime, value in out.get("data", {}).items():
        if TEXT_MIME.match(mime):
            texts.append(value if isinstance(value, str) else json.dumps(value))
    return texts


def find_absolute_paths(nb, path: Path, patterns: list[re.Pattern]) -> list[str]:
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            for text in output_texts(out):
                for pattern in patterns:
                    match = pattern.search(text)
                    if match:
                        start = max(0, match.start() - 20)
                        snippet = text[start : match.end() + 30].replace("\n", " ")
                        problems.append(
                            f"{rel(path)}, {cell_label(nb, index)}: output contains an absolute path: ...{snippet}..."
                        )
                        break
    return problems


def check_clean_run(nb, path: Path) -> None:
    """Fails on any stderr or error output that the cell's tags do not allow."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell_tags = tags(cell)
        bad = [
            out
            for out in cell.outputs
            if (out.output_type == "error" and "raises-exception" not in cell_tags)
            or (
                out.output_type == "stream"
                and out.name == "stderr"
                and "allow-stderr" not in cell_tags
                and "raises-exception" not in cell_tags
            )
        ]
        if bad:
            raise NotebookFailure(
                f"{rel(path)}, {cell_label(nb, index)} wrote error output:\n{error_text({'outputs': bad})}\n"
                f"    in: {first_line(cell.source)}"
            )


async def execute_within(client: NotebookClient, timeout: float, kernel_log) -> bool:
    """Runs the notebook; returns True when it was stopped at the time limit (its kernel shut down)."""
    task = asyncio.ensure_future(client.async_execute(stdout=kernel_log, stderr=kernel_log))
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if task in done:
        task.result()
        return False
    # nbclient's background checks fail once the kernel is gone; that is expected here.
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: None)
    task.cancel()
    try:
        await task
    except BaseException:  # noqa: BLE001 - whatever the cancelled run raised, the answer is "too slow"
        pass
    return True


def execute(path: Path, timeout: float, nb=None):
    """Runs every cell of the notebook (default: the file at `path`) in a fresh kernel, with the
    notebook's folder as working directory."""
    nb = copy.deepcopy(nb) if nb is not None else nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    kernel_name = nb.metadata.get("kernelspec", {}).get("name", KERNEL)
    current = {"index": None}

    def on_cell_start(cell, cell_index):
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=timeout + 60,  # the limit for the whole notebook below fires first
        startup_timeout=min(timeout, 120),
        kernel_name=kernel_name,
        record_timing=False,
        allow_errors=False,
        resources={"metadata": {"path": str(path.resolve().parent)}},
        on_cell_start=on_cell_start,
    )

    def where() -> str:
        index = current["index"]
        return "while starting the kernel" if index is None else f"in {cell_label(nb, index)}"

    # The kernel's own stderr (start-up problems, noise at shutdown) goes to a file, shown on failure.
    kernel_log = tempfile.TemporaryFile(mode="w+b")

    def kernel_said() -> str:
        kernel_log.seek(0)
        lines = [ANSI.sub("", l).rstrip() for l in kernel_log.read().decode("utf-8", "replace").splitlines()]
        lines = [l for l in lines if l.strip() and not STACK_FRAME.match(l)][-8:]
        return "".join(f"\n    kernel: {l}" for l in lines)

    try:
        if asyncio.run(execute_within(client, timeout, kernel_log)):
            raise NotebookFailure(f"{rel(path)} did not finish within {timeout:g} s (stopped {where()})")
    except NotebookFailure:
        raise
    except CellExecutionError:
        index = current["index"]
        cell = nb.cells[index]
        raise NotebookFailure(
            f"{rel(path)}, {cell_label(nb, index)} failed:\n{error_text(cell)}\n    in: {first_line(cell.source)}"
        ) from None
    except CellTimeoutError:
        raise NotebookFailure(f"{rel(path)} did not finish within {timeout:g} s (stopped {where()})") from None
    except DeadKernelError as err:
        raise NotebookFailure(f"{rel(path)}: the {kernel_name} kernel died {where()} ({err}){kernel_said()}") from None
    except Exception as err:  # noqa: BLE001 - name the notebook for any kernel start-up problem
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise NotebookFailure(
            f"{rel(path)}: could not run {where()}: {type(err).__name__}: {first}{kernel_said()}"
        ) from None
    finally:
        kernel_log.close()
    return nb


def dumps(nb) -> str:
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def compare(committed, executed, path: Path) -> list[str]:
    """The differences that matter between the committed notebook and its re-run."""
    problems = []
    if len(committed.cells) != len(executed.cells):
        return [f"{rel(path)}: the re-run has {len(executed.cells)} cells, the committed version {len(committed.cells)}"]
    for index, (old, new) in enumerate(zip(committed.cells, executed.cells)):
        if old.cell_type != "code":
            continue
        where = f"{rel(path)}, {cell_label(committed, index)}"
        if "execution" in old.get("metadata", {}):
            problems.append(f"{where}: committed metadata carries execution timings")
        if old.get("execution_count") != new.get("execution_count"):
            problems.append(
                f"{where}: execution count is {old.get('execution_count')} in the committed version, "
                f"{new.get('execution_count')} when re-run (run the notebook top to bottom and commit it)"
            )
        if "nbval-ignore-output" in tags(old):
            continue
        old_outputs, new_outputs = merge_streams(old.outputs), merge_streams(new.outputs)
        for out in old_outputs + new_outputs:
            out.pop("transient", None)
        if old_outputs != new_outputs:
            problems.append(f"{where} ({first_line(old.source)}): outputs differ\n{describe_diff(old_outputs, new_outputs)}")
    return problems


def summarise(out) -> str:
    kind = out.get("output_type")
    if kind == "stream":
        return f"{out.get('name')}: {out.get('text', '')!r}"[:200]
    if kind == "error":
        return f"error {out.get('ename')}: {out.get('evalue')}"[:200]
    parts = []
    for mime, value in sorted(out.get("data", {}).items()):
        if isinstance(value, str) and not TEXT_MIME.match(mime):
            parts.append(f"{mime} ({len(value)} base64 chars)")
        else:
            parts.append(f"{mime}: {json.dumps(value)[:120]}")
    if out.get("metadata"):
        parts.append(f"metadata {json.dumps(out['metadata'], sort_keys=True)[:120]}")
    return f"{kind} " + ", ".join(parts)


def describe_diff(old: list, new: list) -> str:
    lines = []
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else None
        b = new[i] if i < len(new) else None
        if a == b:
            continue
        lines.append(f"      output {i + 1} committed: {summarise(a) if a is not None else '(none)'}")
        lines.append(f"      output {i + 1} re-run:    {summarise(b) if b is not None else '(none)'}")
        if len(lines) >= 8:
            break
    return "\n".join(lines)


def discover(args: list[str]) -> list[Path]:
    if args:
        paths = [Path(a) for a in args]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            print(f"notebooks: no such notebook: {', '.join(missing)}", file=sys.stderr)
            sys.exit(2)
        return paths
    found = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    return found


def committed_text(path: Path) -> str | None:
    """The notebook as committed in git (HEAD), or None outside a git checkout or for an untracked file."""
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=path.parent, capture_output=True, text=True, check=True
        ).stdout.strip()
        inside = path.resolve().relative_to(Path(top).resolve()).as_posix()
        return subprocess.run(
            ["git", "show", f"HEAD:{inside}"], cwd=top, capture_output=True, text=True, check=True
        ).stdout
    except (OSError, ValueError, subprocess.CalledProcessError):
        return None


def restore_hint(path: Path) -> str:
    return f"git checkout -- {rel(path)}  (or: npm run notebooks -- --restore {rel(path)})"


def run_one(path: Path, check: bool, timeout: float, patterns, write: bool = True, backend: str | None = None) -> str:
    """Runs one notebook; returns its status line, or raises NotebookFailure. With a `backend` other
    than the pinned one, the notebook is only run and checked (see the module's docstring)."""
    started = time.monotonic()
    if backend is not None and backend != PINNED_BACKEND:
        executed = execute(path, timeout)
        check_clean_run(executed, path)
        check_backend(executed, path, backend)
        return f"ok      {rel(path)} (ran cleanly on {backend}; {time.monotonic() - started:.1f} s)"
    note = ""
    source = None
    if check:
        # --check asks whether the committed notebook reproduces its committed outputs, so it runs
        # git's committed version, whatever has been saved over the file since (JupyterLab saves).
        text = committed_text(path)
        if text is not None:
            source = nbformat.reads(text, as_version=4)
            if path.read_text(encoding="utf-8") != text:
                note = (
                    f"\nnote    {rel(path)} differs from its committed version (saved from JupyterLab?); "
                    f"--check ran the committed version. To get it back: {restore_hint(path)}"
                )
    executed = execute(path, timeout, source)
    check_clean_run(executed, path)
    normalise(executed)
    problems = find_absolute_paths(executed, path, patterns)
    if problems:
        raise NotebookFailure("\n".join(problems))
    seconds = time.monotonic() - started
    if check:
        committed = source if source is not None else nbformat.read(path, as_version=4)
        what = "git's committed version" if source is not None else "the file on disk (not in git)"
        problems = compare(committed, executed, path)
        if problems:
            copy_path = Path(tempfile.mkdtemp(prefix="notebook-rerun-")) / path.name
            copy_path.write_text(dumps(executed), encoding="utf-8")
            raise NotebookFailure(
                f"re-running {rel(path)} does not reproduce {what}:\n"
                + "\n".join(problems)
                + f"\n    the re-run is in {copy_path}"
                + (f"\n    if the notebook's code is right, run npm run notebooks -- {rel(path)} and commit it" if source is not None else "")
                + note
            )
        return f"ok      {rel(path)} (outputs match {what}; {seconds:.1f} s){note}"
    if not write:
        return f"ok      {rel(path)} (ran cleanly; {seconds:.1f} s)"
    text = dumps(executed)
    if path.read_text(encoding="utf-8") == text:
        return f"ok      {rel(path)} (unchanged; {seconds:.1f} s)"
    path.write_text(text, encoding="utf-8")
    return f"wrote   {rel(path)} ({seconds:.1f} s)"


def restore(paths: list[Path]) -> int:
    """Puts each notebook back as committed in git; returns the exit status."""
    failed = 0
    for path in paths:
        text = committed_text(path)
        if text is None:
            print(f"FAILED  {rel(path)}: not in git here, so there is no committed version to restore", flush=True)
            failed += 1
        elif path.read_text(encoding="utf-8") == text:
            print(f"ok      {rel(path)} (already as committed)", flush=True)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"restored {rel(path)} (as committed in git)", flush=True)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Execute notebooks in a fresh kernel each.")
    parser.add_argument("--check", action="store_true", help="re-run into a temporary copy and compare")
    parser.add_argument(
        "--no-write", action="store_true", help="run and check for errors only; leave the notebook files alone"
    )
    parser.add_argument(
        "--restore", action="store_true", help="put the named notebooks back as committed in git, without running them"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=float(os.environ.get("NOTEBOOK_TIMEOUT", DEFAULT_TIMEOUT)),
        help=f"seconds allowed per notebook (default {DEFAULT_TIMEOUT}, or $NOTEBOOK_TIMEOUT)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help=f"run the kernels on this backend; other than {PINNED_BACKEND}, outputs are checked for errors only",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=default_jobs(),
        help="notebooks run at once, each in its own kernel (default $NOTEBOOK_JOBS, else the CPUs plus one, at most 4)",
    )
    parser.add_argument("--report", metavar="FILE", help="write each notebook's result as JSON to FILE")
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: notebooks/**/*.ipynb)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        print(f"notebooks: --jobs must be at least 1, got {args.jobs}", file=sys.stderr)
        return 2
    run_only = args.backend is not None and args.backend != PINNED_BACKEND
    if run_only and args.check:
        print(
            f"notebooks: --check compares with the committed outputs, which are made on {PINNED_BACKEND}; "
            f"with --backend {args.backend} the notebooks are run and checked for errors only, so drop --check",
            file=sys.stderr,
        )
        return 2
    if args.backend is not None:
        # The kernels inherit this process's environment; lib's initBackend() reads these.
        os.environ["ATTENTION_POOLING_BACKEND"] = args.backend
        if args.backend != PINNED_BACKEND:
            os.environ["ATTENTION_POOLING_BACKEND_REASON"] = "chosen with the notebook runner's --backend"
    if args.restore:
        if not args.notebooks:
            print("notebooks: --restore needs the notebooks to restore, e.g. --restore notebooks/01-attention-pooling.ipynb", file=sys.stderr)
            return 2
        return restore(discover(args.notebooks))
    paths = discover(args.notebooks)
    if not paths:
        print("notebooks: no notebooks found in notebooks/")
        return 0
    started = time.monotonic()
    task = (args.check, args.timeout, not args.no_write, args.backend)
    jobs = min(args.jobs, len(paths))
    results = []
    for result in run_all(paths, task, jobs):
        print(result["line"], flush=True)
        results.append(result)
    failed = sum(1 for r in results if not r["ok"])
    wall = time.monotonic() - started
    if args.report:
        report = {"jobs": jobs, "backend": args.backend or PINNED_BACKEND, "seconds": wall, "notebooks": [
            {k: r[k] for k in ("notebook", "ok", "seconds", "cpu", "message")} for r in results
        ]}
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    at_once = f", {jobs} at a time" if jobs > 1 else ""
    print(f"notebooks: {len(paths) - failed} passed, {failed} failed ({wall:.1f} s{at_once})")
    return 1 if failed else 0


def default_jobs() -> int:
    """$NOTEBOOK_JOBS, else one notebook more than the CPUs, at most 4. A kernel keeps about one core
    busy while its cells run, but not while it starts or its outputs are compared; the extra notebook
    fills those gaps. With --check on 2 cores the suite took a median 26.5 s with 3 at a time (24 runs)
    against 28.6 s with 2 (9 runs), on a machine otherwise nearly idle."""
    raw = os.environ.get("NOTEBOOK_JOBS", "").strip()
    if raw:
        try:
            return int(raw)
        except ValueError:
            print(f"notebooks: NOTEBOOK_JOBS must be a whole number, got {raw!r}; using 1", file=sys.stderr)
            return 1
    return max(1, min((os.cpu_count() or 1) + 1, 4))


def children_cpu_seconds() -> float | None:
    """CPU time of this process's finished child processes (the kernels), where the OS reports it."""
    try:
        import resource

        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime
    except (ImportError, OSError):
        return None


def run_task(path: Path, task: tuple) -> dict:
    """Runs one notebook and says how it went, as plain data (it may run in a worker process). Its
    `cpu` is the CPU time its kernel used: unlike the wall time, it hardly depends on the machine's load."""
    check, timeout, write, backend = task
    started = time.monotonic()
    cpu_before = children_cpu_seconds()
    try:
        line = run_one(path, check, timeout, absolute_path_patterns(), write=write, backend=backend)
        ok, message = True, ""
    except NotebookFailure as failure:
        ok, message = False, str(failure)
        line = f"FAILED  {failure}"
    except Exception as err:  # noqa: BLE001 - one notebook's surprise must not hide the others' results
        ok, message = False, f"{rel(path)}: the runner failed: {type(err).__name__}: {err}"
        line = f"FAILED  {message}"
    cpu_after = children_cpu_seconds()
    cpu = None if cpu_before is None or cpu_after is None else round(cpu_after - cpu_before, 2)
    seconds = round(time.monotonic() - started, 2)
    return {"notebook": rel(path), "ok": ok, "seconds": seconds, "cpu": cpu, "message": message, "line": line}


def run_all(paths: list[Path], task: tuple, jobs: int):
    """Yields each notebook's result in the order given, running up to `jobs` at once."""
    if jobs <= 1:
        for path in paths:
            yield run_task(path, task)
        return
    # Each worker process runs whole notebooks, one kernel each; fork keeps start-up cheap where it exists.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context(method)) as pool:
        futures = [pool.submit(run_task, path, task) for path in paths]
        for path, future in zip(paths, futures):
            try:
                yield future.result()
            except Exception as err:  # noqa: BLE001 - e.g. a worker process that died
                message = f"{rel(path)}: the runner's worker failed: {type(err).__name__}: {err}"
                yield {"notebook": rel(path), "ok": False, "seconds": None, "cpu": None, "message": message, "line": f"FAILED  {message}"}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
