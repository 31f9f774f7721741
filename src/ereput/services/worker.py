"""The scan's parse worker: one child Python process, fed through its stdin and answering
on its stdout, behind the `concurrent.futures.Executor` interface the event loop uses.

Why not `ProcessPoolExecutor`: on Linux it starts multiprocessing's resource tracker, a
third Python process (12 MB) that guards semaphores this scan never leaks, and its spawned
child imports multiprocessing's machinery before ours. Here the child is
`python -m ereput.services.worker`: the interpreter, `services.select` and the parsers.

The wire: each message is an 8-byte length and a pickle. The parent sends the start-up
data (an initializer and its arguments, and the modules the jobs will need, loaded at
once rather than at the first job), then jobs `(id, fn, args)`; the child
answers `(id, ok, result or exception)` in the order it ran them. A closed stdin (the
scan ended, or died) makes the child exit; a child that dies fails every job it held,
and later ones, with `WorkerDied`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import IO, Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

from ereput.errors import SourceError

_LENGTH = struct.Struct("!Q")
#: Set in the worker's environment: code that would start a worker does not, there.
WORKER_ENV = "EREPUT_PARSE_WORKER"
#: The size above which a message is refused: no parse job or result comes near.
MAX_MESSAGE = 1 << 30
#: The buffer asked for each pipe: room for a dozen feed-sized messages.
PIPE_SIZE = 1 << 20


def in_worker() -> bool:
    return os.environ.get(WORKER_ENV) == "1"


class WorkerDied(SourceError):
    """The worker process ended while jobs were waiting for it: their sources fail (and
    are read again at the next scan, their validators unchanged)."""


def _widen(pipe: IO[bytes]) -> None:
    """Give the pipe PIPE_SIZE bytes of buffer where the system allows it (Linux; the
    default limit for a user is 1 MiB). With the default 64 KiB, each 68 KB feed blocked
    the sender thread mid-message until the worker had read: a cold scan of 1,000 feeds
    took 4.7-4.8 s instead of 4.1-4.4 s (alternating runs), both processes busier."""
    setsize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl else None
    if setsize is not None:
        with contextlib.suppress(OSError):  # over the system's limit: the default stays
            fcntl.fcntl(pipe.fileno(), setsize, PIPE_SIZE)


def _dumps(obj: object) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


def _send_bytes(out: IO[bytes], data: bytes) -> None:
    out.write(_LENGTH.pack(len(data)))
    out.write(data)
    out.flush()


def _write(out: IO[bytes], obj: object) -> None:
    _send_bytes(out, _dumps(obj))


def _read(inp: IO[bytes]) -> Any:
    """The next message, or EOFError at a clean end of stream."""
    head = inp.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(head)
    if size > MAX_MESSAGE:
        raise EOFError
    data = inp.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


class WorkerProcess(Executor):
    """One worker process; `submit` never blocks (a sender thread writes the pipe) and
    its futures are completed by a receiver thread."""

    def __init__(
        self,
        initializer: Callable[..., object],
        initargs: tuple[Any, ...],
        preload: tuple[str, ...] = (),
    ) -> None:
        # The child finds `ereput` where this process did (a source checkout, a test run).
        path = os.pathsep.join(p for p in sys.path if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "ereput.services.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            env={**os.environ, "PYTHONPATH": path, WORKER_ENV: "1"},
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        _widen(self._proc.stdin)
        _widen(self._proc.stdout)
        self._lock = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._next_id = 0
        self._broken: str | None = None
        self._outbox: queue.SimpleQueue[tuple[int, Callable[..., Any], tuple[Any, ...]] | None]
        self._outbox = queue.SimpleQueue()
        self._sender = threading.Thread(
            target=self._send,
            args=(self._proc.stdin, (initializer, initargs, preload)),
            daemon=True,
        )
        self._receiver = threading.Thread(
            target=self._receive, args=(self._proc.stdout,), daemon=True
        )
        self._sender.start()
        self._receiver.start()

    @property
    def broken(self) -> bool:
        """The process ended: every job submitted now fails at once."""
        return self._broken is not None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if kwargs:
            raise TypeError("WorkerProcess.submit takes positional arguments only")
        future: Future[Any] = Future()
        with self._lock:
            if self._broken is not None:
                future.set_exception(WorkerDied(self._broken))
                return future
            job = self._next_id
            self._next_id += 1
            self._pending[job] = future
        self._outbox.put((job, fn, args))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._outbox.put(None)  # the sender closes stdin: the worker ends after its jobs
        if wait:
            self._sender.join()
            self._receiver.join()
            self._proc.wait()

    def _send(self, stdin: IO[bytes], start: tuple[Any, ...]) -> None:
        try:
            _write(stdin, start)
            while (job := self._outbox.get()) is not None:
                try:
                    data = _dumps(job)
                except Exception as e:  # nothing was written: that job alone fails
                    self._fail(job[0], e)
                    continue
                _send_bytes(stdin, data)
        except OSError:
            pass  # the worker is gone: the receiver sees its end and fails what was pending
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _receive(self, stdout: IO[bytes]) -> None:
        try:
            while True:
                job, ok, value = _read(stdout)
                with self._lock:
                    future = self._pending.pop(job, None)
                if future is None:
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except Exception:  # end of stream, or a message that could not be read
            pass
        stdout.close()
        if self._proc.poll() is None:  # alive but unreadable: it would block on its stdout
            self._proc.kill()
        code = self._proc.wait()
        with self._lock:
            self._broken = (
                f"parsing stopped: the parse worker process ended (exit status {code}); "
                "read again at the next scan"
            )
            pending, self._pending = self._pending, {}
        for future in pending.values():
            future.set_exception(WorkerDied(self._broken))

    def _fail(self, job: int, error: BaseException) -> None:
        with self._lock:
            future = self._pending.pop(job, None)
        if future is not None:
            future.set_exception(error)


def _serve(inp: IO[bytes], out: IO[bytes]) -> None:
    initializer, initargs, preload = _read(inp)
    initializer(*initargs)
    for module in preload:
        importlib.import_module(module)
    while True:
        try:
            job, fn, args = _read(inp)
        except EOFError:
            return
        try:
            answer = (job, True, fn(*args))
        except Exception as e:  # a parser's error goes back to the source that asked
            answer = (job, False, _portable(e))
        try:
            data = _dumps(answer)
        except Exception as e:  # too deep, or not picklable: that job alone fails
            data = _dumps((job, False, RuntimeError(f"unpicklable result: {e!r}")))
        _send_bytes(out, data)


def _portable(error: Exception) -> Exception:
    """`error`, or a RuntimeError saying the same when it would not survive the trip (an
    exception whose constructor takes other arguments than its `args` fails to unpickle,
    and the scan's process could not tell which job it belonged to)."""
    try:
        pickle.loads(pickle.dumps(error, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def main() -> None:
    # Ctrl-C reaches the whole process group: the scan handles it, and this process ends
    # when the scan closes its stdin (or dies).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # Nothing else may write to the answer stream: a stray print goes to stderr.
    sys.stdout = sys.stderr
    _serve(stdin, stdout)
    # Every answer is written; the interpreter's teardown (its modules, lxml's) would take
    # 20-30 ms more that the scan waits for.
    stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
