"""The fuzz suite's case runner: one long-lived process that imports kakehashi once, then runs
each case in a forked child under an address-space limit and a per-case alarm.

Protocol (stdin → stdout, binary): each message is a 4-byte big-endian length and a pickle.
A case is a dict with ``kind`` — ``"read"`` (write ``data`` to a file named ``name`` and
``kakehashi.load`` it, or ``use_case.read`` it), ``"cli"`` (``kakehashi.cli.run(argv)``) or
``"solve"`` (``kakehashi.solve`` on a tiny problem with the given arguments) — and the reply
is a dict with ``outcome``:

- ``"ok"``: the call returned (for ``cli``: ``code``, ``out``, ``err`` say what it printed);
- ``"error"``: a :class:`KakehashiError`, with its ``message``;
- ``"crash"``: any other exception, with its ``traceback`` (a bug);
- ``"memory"``: ``MemoryError`` under the address-space limit (a reader allocated too much);
- ``"killed"`` / ``"timeout"``: the child died on a signal or ran past its alarm.

Forking from this single-threaded process (not from pytest, whose xdist workers run threads)
makes a case cost a few milliseconds instead of a Python start-up.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import resource
import signal
import struct
import sys
import tempfile
import traceback
from pathlib import Path

import kakehashi
import kakehashi.cli
import kakehashi.model.io
from kakehashi.errors import KakehashiError

# What each case may use. Measured: importing kakehashi, OMMX and numba reserves about
# 0.45 GB of address space; a case that stays within the default reader budgets needs well
# under 1 GB more, so 2 GiB catches any reader that allocates what a file merely declares.
ADDRESS_SPACE = 2 << 30
CASE_SECONDS = 20


def _send(stream, obj) -> None:
    data = pickle.dumps(obj)
    stream.write(struct.pack(">I", len(data)) + data)
    stream.flush()


def _receive(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None
    (size,) = struct.unpack(">I", head)
    return pickle.loads(stream.read(size))


def _classify(call) -> dict:
    try:
        value = call()
    except KakehashiError as exc:
        return {"outcome": "error", "message": str(exc), "type": type(exc).__name__}
    except MemoryError:
        return {"outcome": "memory", "traceback": traceback.format_exc()}
    except BaseException:
        return {"outcome": "crash", "traceback": traceback.format_exc()}
    return {"outcome": "ok", **(value if isinstance(value, dict) else {})}


def _read_case(case: dict, folder: Path) -> dict:
    path = folder / case["name"]
    path.write_bytes(case["data"])
    use_case = case.get("use_case")

    stage = {"now": "read"}

    def call():
        if use_case:
            from kakehashi.apps import get_use_case

            get_use_case(use_case).read(path)
        else:
            problem = kakehashi.model.io.load(path, **case.get("options", {}))
            stage["now"] = "validate"
            problem.validate()
        return {}

    result = _classify(call)
    result["stage"] = stage["now"]
    result["path"] = str(path)
    return result


def _cli_case(case: dict, folder: Path) -> dict:
    out_path, err_path = folder / "stdout", folder / "stderr"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
    sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), write_through=True)
    sys.stdin = io.StringIO("")
    os.chdir(folder)
    result = _classify(lambda: {"code": kakehashi.cli.run(list(case["argv"]))})
    sys.stdout.flush()
    sys.stderr.flush()
    result["out"] = out_path.read_text(errors="replace")
    result["err"] = err_path.read_text(errors="replace")
    return result


def _solve_case(case: dict) -> dict:
    def call():
        problem = kakehashi.examples.small_maxcut()
        result = kakehashi.solve(problem, **case["arguments"])
        return {"objective": result.objective}

    return _classify(call)


def _child(case: dict, reply_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the protocol stream is the parent's alone
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    signal.alarm(int(case.get("seconds", CASE_SECONDS)))
    for name, value in case.get("env", {}).items():
        os.environ[name] = value
    folder = Path(tempfile.mkdtemp(prefix="kh-fuzz-"))
    kind = case["kind"]
    if kind == "read":
        result = _read_case(case, folder)
    elif kind == "cli":
        result = _cli_case(case, folder)
    else:
        result = _solve_case(case)
    with os.fdopen(reply_fd, "wb") as reply:
        pickle.dump(result, reply)


def run_case(case: dict) -> dict:
    """Run one case in a forked child and say how it ended."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        try:
            _child(case, write_fd)
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as reply:
        data = reply.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        outcome = "timeout" if sig == signal.SIGALRM else "killed"
        return {"outcome": outcome, "signal": sig}
    if not data:
        return {"outcome": "killed", "signal": None, "status": status}
    return pickle.loads(data)


def _warm_up() -> None:
    """Pay each reader's and the CLI's first-use costs here, once, not in every child."""
    from kakehashi.apps.base import shipped_instance_dir
    from kakehashi.model.io import data_file

    names = ("maxcut16.txt", "bqp50.txt", "example.opb", "qubo_example.json", "small_mip.mps")
    for name in (*names, "tiny.qplib"):
        problem = kakehashi.model.io.load(data_file(name))
    folder = Path(tempfile.mkdtemp(prefix="kh-fuzz-warm-"))
    kakehashi.model.io.load(kakehashi.model.io.save(problem, folder / "warm.ommx"))
    for use_case, name in (("tsp", "burma14.tsp"), ("qap", "nug12.dat")):
        kakehashi.apps.get_use_case(use_case).read(shipped_instance_dir() / name)
    with contextlib.redirect_stderr(io.StringIO()):
        kakehashi.cli.run(["solve", "missing.json", "--seed", "x"])
        kakehashi.cli.run(["solve", str(folder / "missing.json")])


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # nothing a case prints may reach the protocol stream
    sys.stdout = sys.stderr
    _warm_up()
    while (case := _receive(stdin)) is not None:
        _send(stdout, run_case(case))
    if os.environ.get("FUZZ_CPU_FILE"):  # how much CPU the cases took (for the docs)
        own, kids = (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
        total = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        Path(os.environ["FUZZ_CPU_FILE"]).write_text(f"{total:.1f}\n")


if __name__ == "__main__":
    main()
