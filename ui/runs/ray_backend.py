"""The Ray backend: every run is a Ray actor holding one CPU of a cluster, reachable from every replica.

Selected by one setting: ``TINYLM_RAY_ADDRESS`` (``auto``, or the head's ``host:6379``); unset, the app
trains in its own threads (ui/runs/backend.py), as before. ``TINYLM_RAY_RESERVED_CPUS`` (default 0)
keeps some of the cluster's CPUs out of the training slots; ``TINYLM_RAY_NAMESPACE`` (default
``tinylm-lab``) separates two apps sharing one cluster.

    start(run_id, ...)   creates the detached actor ``run_id`` in the app's namespace
                         (ui/runs/ray_actor.py: the TrainingJob trains in a thread of its own), and a
                         poller thread here that long-polls its event log and hands each event, in
                         order, to the manager's sink
    attach(run_id, sink) the same for a run another replica started: ``ray.get_actor(run_id)``; the
                         poller replays its events from cursor 0, so this replica rebuilds the record
                         exactly; None when no such actor lives (the run is finished or interrupted)
    handle.checkpoint()  the actor's published snapshot, fetched as the two files of a checkpoint
                         (``TrainingJob.checkpoint_files``) once per model version and parsed here
    slots()              the cluster's CPUs minus the reserve: runs the cluster trains at once
    others(local_ids)    seconds left of the runs on the cluster that this replica does not follow
                         (other replicas' runs, from the named actors of the namespace): the manager
                         counts them as busy slots and in its queue estimates, so two replicas never
                         start more runs than the cluster has CPUs (short of a race of a few
                         milliseconds, in which Ray itself queues the extra actor until a CPU frees)

Who ends what. A detached actor outlives the process that created it, so:
    * the end of a run: every replica that follows it gets the "end" event, saves the final
      checkpoint (the same bytes, atomically: the runs folder is shared) and writes run.json, then
      releases the actor; the last one to release it kills it (``ray.kill``). The actor ends itself
      ``linger_seconds`` after its end in case a replica died in between.
    * a worker that dies (``ActorDiedError`` on a poll): the run ends "interrupted"; the checkpoint the
      manager saved at its last evaluation stays on disk and is offered, as after a server restart.
    * one replica shutting down (a restart, a scale-down) never stops runs: another replica may
      follow them, and a student whose reconnect lands elsewhere finds them (``attach``). A run that no
      replica polls any more stops itself as "abandoned" after ``orphan_seconds`` (the actor's
      watchdog); the manager's own abandonment rule uses when *any* replica's page last showed the run
      (``touch`` → the actor, ``unseen_seconds`` ← the polls).
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import ray
from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError

from tinylm.checkpoint import META_FILE, WEIGHTS_FILE, Checkpoint, parse_checkpoint
from tinylm.job import message
from tinylm.plan import RunSpec
from ui.runs.backend import Sink
from ui.runs.policy import expected_seconds
from ui.runs.ray_actor import RunActor

LOG = logging.getLogger("tinylm.runs.ray")
ADDRESS_ENV = "TINYLM_RAY_ADDRESS"
NAMESPACE_ENV = "TINYLM_RAY_NAMESPACE"
RESERVED_ENV = "TINYLM_RAY_RESERVED_CPUS"
DEFAULT_NAMESPACE = "tinylm-lab"
MAX_CONCURRENCY = 8  # method threads of an actor: long polls of a few replicas, controls, checkpoints
POLL_WAIT = 0.5  # a poll waits up to this long for the next event (a long poll: events arrive at once)
RPC_SECONDS = 30.0  # a call that has not answered in this long is retried (busy cluster, pending actor)
UNREACHABLE_SECONDS = 60.0  # an actor that cannot be reached for this long counts as dead
TOUCH_EVERY = 5.0  # seconds between two "a page shows it" messages to the actor, per replica
SLOTS_CACHE = 5.0
OTHERS_CACHE = 2.0


class RayRun:
    """The handle of one run on the cluster, and the thread that follows its events."""

    def __init__(self, run_id: str, actor: Any, sink: Sink) -> None:
        self.run_id, self.actor, self.sink = run_id, actor, sink
        self.watcher = secrets.token_hex(8)  # this replica, as the actor knows it
        self.latencies: deque[float] = deque(maxlen=5000)  # seconds from the trainer to the sink
        self.cursor = 0
        self.replayed = threading.Event()  # the first poll's events were delivered
        self.thread = threading.Thread(target=self._follow, name=f"tinylm-ray-{run_id[:6]}", daemon=True)
        self._closed = threading.Event()
        self._checkpoint_lock = threading.Lock()
        self._checkpoint: tuple[int, Checkpoint] | None = None
        self._latest_version = 0  # the newest model version an event announced
        self._dead = self._ended = self._sink_failed = False
        self._paused = False  # as the actor last said
        self._unseen = (0.0, time.monotonic())
        self._touched = 0.0
        self._last = {"step": 0, "elapsed": 0.0}

    # -- control (from any thread; never blocks on the cluster) -----------------------------------
    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self, reason: str = "user") -> None:
        self._send("stop", reason)

    def touch(self) -> None:
        """A page of this replica shows the run (sent to the actor at most every TOUCH_EVERY s)."""
        now = time.monotonic()
        if now - self._touched > TOUCH_EVERY:
            self._touched = now
            self._send("touch")

    def unseen_seconds(self) -> float:
        """Seconds since a page of *any* replica last showed the run (as of the last poll)."""
        unseen, at = self._unseen
        return unseen + time.monotonic() - at

    def _send(self, method: str, *args: Any) -> None:
        try:
            getattr(self.actor, method).remote(*args)
        except Exception:  # a dead actor: the poller reports the end
            LOG.debug("run %s: %s not sent", self.run_id, method, exc_info=True)

    # -- the model ------------------------------------------------------------------------------------
    def checkpoint(self) -> Checkpoint | None:
        """The newest published snapshot: fetched when an event announced a newer version than the one
        held here, else the one held (no round trip). None once the worker died (the manager then
        offers the checkpoint it saved on disk)."""
        with self._checkpoint_lock:
            held = self._checkpoint
            if self._dead or self._latest_version == 0:
                return None
            if held is not None and held[0] >= self._latest_version:
                return held[1]
            try:
                version, files = ray.get(
                    self.actor.checkpoint.remote(held[0] if held else -1), timeout=RPC_SECONDS
                )
            except (RayActorError, GetTimeoutError):
                return held[1] if held else None
            if files is not None:
                checkpoint = parse_checkpoint(files[WEIGHTS_FILE], files[META_FILE])
                checkpoint.model.requires_grad_(False)
                self._checkpoint = (version, checkpoint)
            return self._checkpoint[1] if self._checkpoint else None

    # -- following the run ----------------------------------------------------------------------------
    def _follow(self) -> None:
        reference, unreachable_since = None, None
        while not self._closed.is_set():
            try:
                if reference is None:
                    reference = self.actor.poll.remote(self.cursor, self.watcher, POLL_WAIT)
                reply = ray.get(reference, timeout=RPC_SECONDS)
            except GetTimeoutError:  # the actor waits for a CPU, or the cluster is very busy: ask again
                continue
            except Exception as exc:
                reference = None
                unreachable_since = unreachable_since or time.monotonic()
                transient = isinstance(exc, ActorUnavailableError) or not isinstance(exc, RayActorError)
                if transient and time.monotonic() - unreachable_since < UNREACHABLE_SECONDS:
                    LOG.warning("run %s: actor unreachable (%s), retrying", self.run_id, type(exc).__name__)
                    self._closed.wait(1.0)
                    continue
                self._interrupted()
                return
            reference, unreachable_since = None, None
            self._take(reply)
            self.replayed.set()
            if self._ended:
                if not self._dead:
                    self.checkpoint()  # the final model, held here for later asks (the actor ends)
                self._release()
                return

    def _take(self, reply: dict[str, Any]) -> None:
        self._unseen = (float(reply["unseen"]), time.monotonic())
        for _, made, event in reply["events"]:
            self.latencies.append(time.time() - made)
            kind = event["type"]
            if kind in ("eval", "end"):
                self._latest_version = max(self._latest_version, int(event["model_version"]))
            if kind in ("step", "eval", "end"):
                self._last = {"step": event["step"], "elapsed": event["elapsed"]}
            self._deliver(event)
            if kind == "end":
                self._ended = True
                return
        self.cursor = reply["next"]
        if reply["paused"] != self._paused:  # a pause or resume (from this replica or another)
            self._paused = bool(reply["paused"])
            self._deliver({"type": "paused", "paused": self._paused})

    def _deliver(self, event: dict[str, Any]) -> None:
        if self._sink_failed:
            return
        try:
            self.sink(event)
        except Exception:  # the sink failed: the run must still end, not hang as "running"
            LOG.exception("run %s: applying an event failed", self.run_id)
            self._sink_failed = True
            if event["type"] != "end":
                self.stop("user")
                with contextlib.suppress(Exception):
                    self.sink(self._end_event("error", message("error", "unexpected"), self._latest_version))
            self._ended = True

    def _end_event(self, status: str, note: dict[str, Any], version: int) -> dict[str, Any]:
        return {"type": "end", "status": status, "message": note, **self._last, "model_version": version}

    def _interrupted(self) -> None:
        """The worker died: the run ends "interrupted" (its last saved checkpoint stays on disk)."""
        LOG.warning("run %s: its worker died", self.run_id)
        with self._checkpoint_lock:
            self._dead = True
        self._deliver(self._end_event("interrupted", message("msg", "interrupted"), 0))

    def _release(self) -> None:
        """This replica is done with the ended run; the last replica to say so ends the actor."""
        try:
            others = ray.get(self.actor.release.remote(self.watcher), timeout=RPC_SECONDS)
        except (RayActorError, GetTimeoutError):
            return
        if others == 0:
            with contextlib.suppress(Exception):
                ray.kill(self.actor)

    def close(self) -> None:
        self._closed.set()


class RayBackend:
    """Runs as named detached actors of one Ray cluster (see the module docstring)."""

    name = "ray"
    runs_outlive_server = True  # a replica's shutdown leaves its runs training (see the module docstring)

    def __init__(
        self,
        address: str,
        namespace: str = DEFAULT_NAMESPACE,
        reserved_cpus: float = 0.0,
        orphan_seconds: float = 90.0,
        linger_seconds: float = 30.0,
    ) -> None:
        self.address, self.namespace = address, namespace
        self.reserved_cpus = max(0.0, float(reserved_cpus))
        self.orphan_seconds, self.linger_seconds = orphan_seconds, linger_seconds
        self._lock = threading.Lock()
        self._runs: dict[str, RayRun] = {}
        self._actor_class: Any = None
        self._slots: tuple[int, float] = (0, -1e9)
        self._others: tuple[frozenset[str], list[float], float] = (frozenset(), [], -1e9)

    @classmethod
    def from_env(cls, orphan_seconds: float = 90.0) -> RayBackend:
        try:
            reserved = float(os.environ.get(RESERVED_ENV) or 0)
        except ValueError:
            LOG.warning("ignoring %s=%r (not a number)", RESERVED_ENV, os.environ.get(RESERVED_ENV))
            reserved = 0.0
        namespace = os.environ.get(NAMESPACE_ENV) or DEFAULT_NAMESPACE
        return cls(os.environ[ADDRESS_ENV], namespace, reserved, orphan_seconds)

    # -- the cluster --------------------------------------------------------------------------------
    def connect(self) -> None:
        """Join the cluster once per process (as a driver in the app's namespace)."""
        with self._lock:
            if self._actor_class is not None:
                return
            if not ray.is_initialized():
                ray.init(address=self.address, namespace=self.namespace, log_to_driver=False)
            elif ray.get_runtime_context().namespace != self.namespace:
                raise RuntimeError(
                    f"this process is connected to Ray in another namespace than {self.namespace}"
                )
            self._actor_class = ray.remote(num_cpus=1, max_concurrency=MAX_CONCURRENCY, max_restarts=0)(
                RunActor
            )

    def slots(self) -> int:
        """Runs the cluster trains at once: its CPUs minus the reserve (0 while it cannot be reached)."""
        count, at = self._slots
        if time.monotonic() - at < SLOTS_CACHE:
            return count
        try:
            self.connect()
            count = max(0, int(ray.cluster_resources().get("CPU", 0.0) - self.reserved_cpus))
        except Exception:
            LOG.warning("the Ray cluster at %s cannot be reached", self.address, exc_info=True)
            count = 0
        self._slots = (count, time.monotonic())
        return count

    def named_runs(self) -> list[str]:
        """The run actors of this app's namespace (training, waiting for a CPU, or just ended)."""
        self.connect()
        return list(ray.util.list_named_actors())

    def others(self, local: Iterable[str]) -> list[float]:
        """Seconds left of each run on the cluster that is not in ``local`` (cached OTHERS_CACHE s)."""
        local = frozenset(local)
        cached_local, left, at = self._others
        if cached_local == local and time.monotonic() - at < OTHERS_CACHE:
            return list(left)
        try:
            names = [name for name in self.named_runs() if name not in local]
            actors = []
            for name in names:
                with contextlib.suppress(ValueError):
                    actors.append(ray.get_actor(name, namespace=self.namespace))
            references = [actor.progress.remote() for actor in actors]
            ready, _ = ray.wait(references, num_returns=len(references), timeout=1.0)
            answered = {}
            for reference in ready:
                with contextlib.suppress(RayActorError):  # died meanwhile: holds no CPU
                    answered[reference.hex()] = ray.get(reference)
            dead = {reference.hex() for reference in ready} - set(answered)
            left = []
            for reference in (r for r in references if r.hex() not in dead):
                progress = answered.get(reference.hex())
                if progress is None:  # still waiting for a CPU: a whole run ahead
                    left.append(60.0)
                elif not progress["ended"]:  # an ended one gives its CPU back in a moment
                    left.append(float(progress["seconds_left"]))
        except Exception:
            LOG.warning("could not list the runs of the Ray cluster", exc_info=True)
            left = []
        self._others = (local, left, time.monotonic())
        return list(left)

    # -- runs -----------------------------------------------------------------------------------------
    def start(self, run_id: str, spec: RunSpec, text: str | None, meta: dict[str, Any], sink: Sink) -> Any:
        try:
            self.connect()
            actor = self._actor_class.options(
                name=run_id, namespace=self.namespace, lifetime="detached"
            ).remote(
                run_id,
                spec.to_dict(),
                text,
                meta,
                expected_seconds(spec),
                self.orphan_seconds,
                self.linger_seconds,
            )
        except Exception:
            LOG.exception("run %s: the Ray cluster refused the run", run_id)
            return _FailedRun(run_id, sink)
        return self._follow(RayRun(run_id, actor, sink))

    def attach(self, run_id: str, sink: Sink) -> RayRun | None:
        try:
            self.connect()
            actor = ray.get_actor(run_id, namespace=self.namespace)
        except ValueError:  # no such actor: the run ended, or its worker died
            return None
        except Exception:
            LOG.warning("run %s: the Ray cluster cannot be asked", run_id, exc_info=True)
            return None
        return self._follow(RayRun(run_id, actor, sink))

    def _follow(self, run: RayRun) -> RayRun:
        with self._lock:
            old = self._runs.pop(run.run_id, None)
            self._runs[run.run_id] = run
            finished = [r for r, each in self._runs.items() if each is not run and not each.thread.is_alive()]
            for run_id in finished[: max(0, len(self._runs) - 64)]:  # keep the newest few (tests)
                self._runs.pop(run_id)
        if old is not None:
            old.close()
        run.thread.start()
        return run

    def run(self, run_id: str) -> RayRun | None:
        """The handle this replica holds for a run (tests and benchmarks)."""
        with self._lock:
            return self._runs.get(run_id)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop following runs (they go on training: see the module docstring); stay connected."""
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            run.close()
        for run in runs:
            if run.thread.is_alive() and run.thread is not threading.current_thread():
                run.thread.join(timeout)


class _FailedRun:
    """A run the cluster did not take: it ends at once with an error (from a thread, like a real run)."""

    def __init__(self, run_id: str, sink: Sink) -> None:
        self.run_id = run_id
        end = {
            "type": "end",
            "status": "error",
            "message": message("error", "unexpected"),
            "step": 0,
            "elapsed": 0.0,
            "model_version": 0,
        }
        self.thread = threading.Thread(target=sink, args=(end,), daemon=True)
        self.thread.start()

    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self, reason: str = "user") -> None: ...
    def checkpoint(self) -> Checkpoint | None:
        return None
