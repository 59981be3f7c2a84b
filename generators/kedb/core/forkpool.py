"""Work split over two worker processes, in chunks, results in order.

The loader reads and scans record files in workers (plain, picklable work). The site build
hands its two biggest loops (record pages from their templates, and record pages through the
theme) to forked workers: a fork shares the build context, the MkDocs
configuration and the Jinja environment as they are, where a spawned worker would have to
rebuild or unpickle them. Before forking, the parent's objects are frozen out of the garbage
collector (``gc.freeze``): otherwise a collection in a worker walks, and so copies page by page,
the whole inherited heap.

:class:`Later` computes one thing in one forked process while the caller goes on (the site's
search index while MkDocs reads and renders its pages): a plain fork and a pipe, no pool, since
a pool's thread would keep the record pages' workers from forking (:func:`can_fork`).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import signal
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
WORKERS = 2  # the machines we build on have two cores; more workers only add forks


def can_fork() -> bool:
    """Fork only where it is safe: a platform that has it, at least two cores, and no other
    threads (``mkdocs serve`` runs a server thread, so its rebuilds stay in one process)."""
    return "fork" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


@contextlib.contextmanager
def _pool(workers: int, start: str | None) -> Iterator[ProcessPoolExecutor]:
    """Worker processes for the block (``start``: how they start; None: the platform's way), with
    the parent's objects frozen out of the garbage collector meanwhile. Leaving the block waits for
    the work given; leaving it on an error (Ctrl-C, a closed iterator) cancels what has not started."""
    context = multiprocessing.get_context(start) if start else None
    pool: ProcessPoolExecutor | None = None
    gc.freeze()
    try:  # Ctrl-C while the workers are being forked still shuts down those already started
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        yield pool
    except BaseException:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        raise
    finally:
        if pool is not None:
            pool.shutdown()
        gc.unfreeze()


def chunked_map(
    fn: Callable[[list[T]], list[R]], items: Sequence[T], workers: int = WORKERS, start: str | None = "fork"
) -> Generator[R, None, None]:
    """``fn`` over ``items`` in chunks (eight per worker), in worker processes; results in the
    order of ``items``, each chunk's as soon as it is done.

    With ``start="fork"`` (the default) ``fn`` may read module state the caller set before calling
    (the fork copies it); with ``start=None`` the platform's own way of starting processes is used,
    so ``fn`` and its chunks must be picklable. Closing the iterator early cancels the chunks not
    started yet."""
    size = max(1, len(items) // (workers * 8))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    with _pool(workers, start) as pool:
        for chunk in pool.map(fn, chunks):
            yield from chunk


@contextlib.contextmanager
def started(fn: Callable[[T], R], items: Sequence[T], workers: int = WORKERS) -> Iterator[list[Future[R]]]:
    """``fn`` over each of ``items`` in forked worker processes, started at once: the futures, in
    the order of ``items``, while the caller goes on with its own work. Leaving the block waits for
    them; an error in the block cancels those not started yet."""
    with _pool(workers, "fork") as pool:
        yield [pool.submit(fn, item) for item in items]


class WorkerFailed(RuntimeError):
    """What a :class:`Later` computed in its process failed there, or the process ended without an answer."""


class Later(Generic[R]):
    """``fn(*args)`` computed in a forked process, started at once, while the caller goes on; :meth:`result` waits for
    it. Where the process may not fork (:func:`can_fork`) it is computed at once, here. The process shares the caller's
    objects as they were at the fork (nothing is pickled on the way in) and sends back its result pickled through a
    pipe. An exception there becomes :class:`WorkerFailed` here, with its type and message (the exception itself may
    not pickle); :meth:`close` ends a process whose result is no longer wanted."""

    def __init__(self, fn: Callable[..., R], *args: Any) -> None:
        self._pid: int | None = None
        self._fd = -1
        self._value: tuple[bool, Any] | None = None
        if not can_fork():
            self._value = (True, fn(*args))
            return
        read, write = os.pipe()
        gc.freeze()  # the child's collections leave the inherited heap alone (see the module docstring)
        try:
            pid = os.fork()
        except BaseException:
            gc.unfreeze()
            os.close(read)
            os.close(write)
            raise
        if pid == 0:  # pragma: no cover - the child: coverage does not follow a fork
            os.close(read)
            code = 0
            try:
                try:
                    data = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as e:  # Ctrl-C too: the parent is told, then decides
                    data = pickle.dumps((False, f"{type(e).__name__}: {e}"))
                with os.fdopen(write, "wb") as out:
                    out.write(data)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        gc.unfreeze()
        os.close(write)
        self._pid, self._fd = pid, read

    def result(self) -> R:
        if self._value is None:
            chunks = []
            try:
                while chunk := os.read(self._fd, 1 << 20):
                    chunks.append(chunk)
            finally:
                self._reap()
            try:
                self._value = pickle.loads(b"".join(chunks))
            except Exception:
                self._value = (False, "the worker process ended without an answer (killed, or out of memory)")
        ok, value = self._value
        if not ok:
            raise WorkerFailed(value)
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """End the process if it is still running (its result is not wanted); nothing if it is done."""
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()

    def _reap(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._pid is not None:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None
