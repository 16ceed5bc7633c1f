"""Where the schools of a group are scanned: threads of this process (local, the default) or a
Dask cluster (a scheduler on other machines, or a LocalCluster of worker processes here).

Both take jobs, say when each finished, and let go of a job past its deadline: a thread cannot
be stopped from outside, so an abandoned local job runs on in the background until its probes'
own hard timeouts end it (its outcome is dropped); Dask is asked to cancel it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from cyberstd.errors import UsageError
from cyberstd.group.job import GroupOptions, Outcome, SchoolJob, scan_school
from cyberstd.messages import msg

ScanFunction = Callable[[SchoolJob, GroupOptions, dt.datetime, bool], Outcome]


@dataclass
class Running:
    job: SchoolJob
    started: float  # monotonic
    handle: Any


class Executor(Protocol):
    name: str
    slots: int

    def submit(self, job: SchoolJob) -> Running: ...

    def done(self, timeout: float) -> list[tuple[Running, Outcome | BaseException]]: ...

    def abandon(self, running: Running) -> None: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Schools on threads of this process, `slots` at a time."""

    name = "local"

    def __init__(
        self,
        slots: int,
        options: GroupOptions,
        now: dt.datetime,
        as_of: bool,
        scan: ScanFunction = scan_school,
    ) -> None:
        self.slots = max(1, slots)
        self.options, self.now, self.as_of, self.scan = options, now, as_of, scan
        self.finished: queue.Queue[tuple[Running, Outcome | BaseException]] = queue.Queue()
        self.abandoned: set[int] = set()
        self.lock = threading.Lock()

    def submit(self, job: SchoolJob) -> Running:
        running = Running(job, time.monotonic(), None)

        def work() -> None:
            try:
                outcome: Outcome | BaseException = self.scan(
                    job, self.options, self.now, self.as_of
                )
            except Exception as exc:  # a bug in one school's scan must not stop the others
                outcome = exc
            with self.lock:
                if id(running) in self.abandoned:
                    self.abandoned.discard(id(running))
                    return
            self.finished.put((running, outcome))

        thread = threading.Thread(target=work, name=f"cyberstd-school-{job.key}", daemon=True)
        running.handle = thread
        thread.start()
        return running

    def done(self, timeout: float) -> list[tuple[Running, Outcome | BaseException]]:
        out: list[tuple[Running, Outcome | BaseException]] = []
        try:
            out.append(self.finished.get(timeout=timeout))
            while True:
                out.append(self.finished.get_nowait())
        except queue.Empty:
            pass
        return out

    def abandon(self, running: Running) -> None:
        with self.lock:
            self.abandoned.add(id(running))

    def close(self) -> None:
        pass


class DaskExecutor:
    """Schools on a Dask cluster: `scheduler` (tcp://host:port), or a LocalCluster of worker
    processes on this machine when None. Needs the `distributed` package."""

    name = "dask"

    def __init__(
        self,
        scheduler: str | None,
        options: GroupOptions,
        now: dt.datetime,
        as_of: bool,
        workers: int | None = None,
    ) -> None:
        try:
            # untyped: held as Any
            self.distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise UsageError(msg("group.no-dask")) from None
        Client, LocalCluster = self.distributed.Client, self.distributed.LocalCluster
        self.options, self.now, self.as_of = options, now, as_of
        self.cluster: Any = None
        self.client: Any
        if scheduler is None:
            self.cluster = LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=2,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler, timeout=30)
        cores = sum(self.client.nthreads().values())
        self.slots = max(1, cores)
        self.pending: dict[Any, Running] = {}

    def submit(self, job: SchoolJob) -> Running:
        future = self.client.submit(
            scan_school,
            job,
            self.options,
            self.now,
            self.as_of,
            key=f"school-{job.key}-{time.monotonic_ns()}",
            pure=False,
        )
        running = Running(job, time.monotonic(), future)
        self.pending[future.key] = running
        return running

    def done(self, timeout: float) -> list[tuple[Running, Outcome | BaseException]]:
        futures = [r.handle for r in self.pending.values()]
        if not futures:
            time.sleep(timeout)
            return []
        try:
            finished, _ = self.distributed.wait(
                futures, timeout=timeout, return_when="FIRST_COMPLETED"
            )
        except TimeoutError:
            return []
        out: list[tuple[Running, Outcome | BaseException]] = []
        for future in finished:
            running = self.pending.pop(future.key)
            try:
                out.append((running, future.result()))
            except Exception as exc:
                out.append((running, exc))
        return out

    def abandon(self, running: Running) -> None:
        self.pending.pop(running.handle.key, None)
        running.handle.cancel()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
