"""The backend contract (ui/runs/backend.py) against every backend: in-process threads, local worker
processes and Ray.

Each contract test runs three times: on a ThreadBackend, on a ProcessBackend, and on a RayBackend
connected to a local Ray cluster with 2 CPUs that this module starts (``ray start --head --block`` in
a subprocess, its own temp dir and ports) and stops by its process id at the end, checking that none
of its processes is left (tests/raycluster.py). Then the Ray-only part: two app replicas (two
managers, each with its own backend, sharing the runs folder) following one run, and the cluster's
slots shared between them. Without the ray package the Ray cases skip, except under CI (CI=true),
where they fail.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from tests.helpers import SMALL_RUN
from tinylm.corpora import generate_corpus
from tinylm.data import BUILTIN_CORPUS_CHARS, prepare_data
from tinylm.plan import RunSpec
from tinylm.tokenizers import CharTokenizer
from tinylm.train import evaluate_loss
from ui.runs import JobManager, Limits, new_run_id
from ui.runs.backend import ThreadBackend
from ui.runs.process_backend import ProcessBackend
from ui.runs.store import RunStore

SMALL = SMALL_RUN  # 60 steps of a very small model
LONG = SMALL.with_settings(budget="time", time_budget=40.0)  # stopped early; evaluates every few s
TIMEOUT = 120.0  # generous: the machine is shared; a timeout fails the test, it is not a speed check


@pytest.fixture(scope="module")
def ray_cluster():
    from tests.raycluster import LocalRayCluster, require_ray

    require_ray()
    cluster = LocalRayCluster(num_cpus=2).start()
    try:
        yield cluster
    finally:
        import ray

        if ray.is_initialized():  # a run a failed test left behind would slow the head's exit down
            for name in ray.util.list_named_actors():
                ray.kill(ray.get_actor(name))
        ray.shutdown()
        cluster.stop()
        assert cluster.leftovers() == [], "processes of the test's Ray cluster were left running"


def make_backend(kind: str, request: pytest.FixtureRequest):
    if kind == "thread":
        return ThreadBackend(2)
    if kind == "process":
        return ProcessBackend(2)
    from ui.runs.ray_backend import RayBackend

    cluster = request.getfixturevalue("ray_cluster")
    return RayBackend(cluster.address, orphan_seconds=60.0, linger_seconds=30.0)


@pytest.fixture(params=["thread", "process", "ray"])
def backend(request):
    made = make_backend(request.param, request)
    yield made
    made.shutdown()


@pytest.fixture
def managers(tmp_path, request):
    """Managers on one runs folder, like app replicas on a shared volume: ``make(kind)``."""
    made = []

    def make(kind: str, **limits) -> JobManager:
        options = Limits(max_jobs=2, max_queue=4, orphan_seconds=60.0)
        for key, value in limits.items():
            setattr(options, key, value)
        made.append(
            JobManager(tmp_path / "runs", options, make_backend(kind, request), session_alive=lambda s: True)
        )
        return made[-1]

    yield make
    for each in made:
        for run_id in each.live_jobs():
            each.stop(run_id, force=True)
    for each in made:
        for run_id in each.live_jobs():
            assert each.wait(run_id, timeout=30).finished, "a run did not stop"
        each.shutdown()


class Collector:
    """A sink: the events in the order they came, from whichever thread the backend calls it in."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.ended = threading.Event()
        self.threads: set[str] = set()

    def __call__(self, event: dict) -> None:
        assert not self.ended.is_set(), f"an event after the end: {event['type']}"
        self.threads.add(threading.current_thread().name)
        self.events.append(event)
        if event["type"] == "end":
            self.ended.set()

    def kinds(self) -> list[str]:
        return [event["type"] for event in self.events]

    def steps(self) -> list[int]:
        return [event["step"] for event in self.events if event["type"] == "step"]

    def end(self) -> dict:
        assert self.ended.wait(TIMEOUT), f"no end event; got {self.kinds()[-5:]}"
        return self.events[-1]

    def wait_for(self, condition, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out; events: {self.kinds()[-5:]}"
            time.sleep(0.02)


def start(backend, spec: RunSpec, sink: Collector, run_id: str | None = None):
    run_id = run_id or new_run_id()
    return run_id, backend.start(run_id, spec, None, {"name": "test", "run_id": run_id}, sink)


def wait_for(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# ------------------------------------------------------------------------------ the contract, both backends
def test_a_run_streams_its_events_in_order_and_ends_with_end(backend):
    sink = Collector()
    start(backend, SMALL, sink)
    end = sink.end()
    kinds = sink.kinds()
    assert kinds[0] == "prepared" and kinds.count("end") == 1 and kinds[-1] == "end"
    assert end["status"] == "done" and end["message"]["code"] == "done" and end["step"] == SMALL.max_steps
    steps = sink.steps()
    assert steps == sorted(steps) and len(set(steps)) == len(steps) and steps[-1] == SMALL.max_steps
    versions = [e["model_version"] for e in sink.events if e["type"] == "eval"]
    assert versions == list(range(1, len(versions) + 1))  # one published snapshot per evaluation
    assert end["model_version"] == versions[-1] + 1  # and the final one
    assert [e["step"] for e in sink.events if e["type"] == "sample"] == [30, 60]
    prepared = sink.events[0]
    assert prepared["max_steps"] == SMALL.max_steps and prepared["data"]["vocab"] > 20
    attention = [e["attention"] for e in sink.events if e["type"] == "eval"][-1]
    assert isinstance(attention, np.ndarray) and attention.shape[:2] == (1, 2)
    assert all(not name.startswith("MainThread") for name in sink.threads)  # from a backend thread
    time.sleep(0.5)
    assert sink.kinds() == kinds  # nothing after the end


def test_pause_holds_the_step_and_resume_continues(backend):
    sink = Collector()
    _, handle = start(backend, LONG, sink)
    sink.wait_for(lambda: len(sink.steps()) >= 3)
    handle.pause()
    time.sleep(1.0)  # the step in progress (and, on Ray, the call on its way) finishes
    held = len(sink.steps())
    time.sleep(1.5)
    assert len(sink.steps()) == held, "it trained on while paused"
    handle.resume()
    sink.wait_for(lambda: len(sink.steps()) > held + 2)
    handle.stop("user")
    assert sink.end()["status"] == "stopped"


def test_stop_ends_the_run_soon_and_keeps_the_model(backend):
    sink = Collector()
    _, handle = start(backend, LONG, sink)
    sink.wait_for(lambda: any(e["type"] == "eval" and e["step"] > 0 for e in sink.events))
    handle.stop("user")
    end = sink.end()  # within TIMEOUT (a stop takes well under a second; not timed here)
    assert end["status"] == "stopped" and end["message"] == {
        "kind": "msg",
        "code": "user",
        "params": {"steps": end["step"]},
    }
    assert end["step"] < 10_000 and end["model_version"] >= 2
    checkpoint = handle.checkpoint()
    assert checkpoint is not None and checkpoint.meta["state"] == "stopped"
    assert checkpoint.meta["steps"] == end["step"]


def test_the_checkpoint_is_the_model_of_the_final_version(backend):
    sink = Collector()
    _, handle = start(backend, SMALL, sink)
    end = sink.end()
    checkpoint = handle.checkpoint()
    assert checkpoint.meta["steps"] == end["step"] and checkpoint.meta["state"] == "done"
    assert checkpoint.meta["name"] == "test"
    assert handle.checkpoint() is checkpoint  # the same version: not fetched or copied again
    assert not checkpoint.model.training and not any(p.requires_grad for p in checkpoint.model.parameters())
    # Its weights are the ones evaluated last: the same validation loss as the last eval event.
    last_eval = [e for e in sink.events if e["type"] == "eval"][-1]
    assert last_eval["step"] == end["step"]
    text = generate_corpus("stories-en", n_chars=BUILTIN_CORPUS_CHARS, seed=0)
    data = prepare_data(text, CharTokenizer.from_text(text), SMALL.context_len)
    windows = data.val.unfold(0, SMALL.context_len + 1, SMALL.context_len)
    assert evaluate_loss(checkpoint.model, windows[:512]) == pytest.approx(last_eval["val_loss"], rel=0.02)
    assert checkpoint.tokenizer.vocab_size == sink.events[0]["data"]["vocab"]


@pytest.mark.parametrize("kind", ["thread", "process", "ray"])
def test_a_dead_worker_leaves_the_run_interrupted_with_its_last_saved_checkpoint(kind, managers, tmp_path):
    """Thread backend: the worker is the server process (a new one reads the run back); process and
    Ray backends: the worker process that trains it is killed (SIGKILL)."""
    jobs = managers(kind)
    run_id = jobs.submit(LONG, owner="ann")
    store = RunStore(tmp_path / "runs")
    wait_for(lambda: (store.read_record(run_id) or {}).get("model_saved"))  # saved at an evaluation
    if kind == "thread":
        viewer = managers("thread")  # as after a restart: nothing can reach the old thread
        view = viewer.get(run_id)
    else:
        if kind == "process":
            pid = jobs._handles[run_id].worker.process.pid
        else:
            import ray

            pid = ray.get(jobs.backend.run(run_id).actor.info.remote(), timeout=30)["pid"]
        os.kill(pid, signal.SIGKILL)
        view = jobs.wait(run_id, timeout=TIMEOUT)
        viewer = jobs
        if kind == "ray":
            wait_for(lambda: run_id not in jobs.backend.named_runs())
    assert view.status == "interrupted" and view.message["code"] == "interrupted"
    assert view.model_saved and view.step >= view.data["saved_step"] > 0
    checkpoint, _ = viewer.model_for(run_id)
    on_disk = store.read_checkpoint(run_id)
    assert checkpoint.meta["steps"] == on_disk.meta["steps"] == view.data["saved_step"]
    assert len(viewer.checkpoint_zip(run_id)) > 1000
    if kind == "ray":  # read back later (a new replica): still interrupted, still with its model
        assert managers("ray").get(run_id).status == "interrupted"


# ------------------------------------------------------------------------------ several replicas (Ray)
def test_a_second_replica_attaches_replays_the_run_and_the_last_one_ends_the_actor(request):
    first, second = make_backend("ray", request), make_backend("ray", request)
    try:
        started, attached = Collector(), Collector()
        run_id, _ = start(first, SMALL.with_settings(max_steps=300), started)
        started.wait_for(lambda: len(started.steps()) >= 2)
        handle = second.attach(run_id, attached)
        assert handle is not None and ThreadBackend(1).attach(run_id, Collector()) is None
        end = attached.end()
        assert started.end() == end and end["status"] == "done"
        # The replay from the first event: the very same events, in the same order.
        assert [(e["type"], e.get("step")) for e in attached.events] == [
            (e["type"], e.get("step")) for e in started.events
        ]
        assert handle.checkpoint().meta["steps"] == 300
        wait_for(lambda: run_id not in first.named_runs())  # ended by the last replica to release it
        assert second.attach(run_id, Collector()) is None
    finally:
        first.shutdown()
        second.shutdown()


def test_a_student_finds_a_run_on_another_replica_controls_it_there_and_both_see_the_end(managers, tmp_path):
    replica_a, replica_b = managers("ray"), managers("ray")
    run_id = replica_a.submit(SMALL.with_settings(max_steps=1500), owner="ann")
    wait_for(lambda: replica_a.get(run_id).status == "running" and replica_a.get(run_id).step > 0)
    view = replica_b.get(run_id)  # run.json says "running": replica B attaches to the actor
    assert view.status == "running" and view.owner == "ann" and view.step > 0
    assert view.history["train"][0] == replica_a.get(run_id).history["train"][0]
    assert replica_b.can_control(run_id, "ann") and not replica_b.can_control(run_id, "ben")
    assert replica_b.pause(run_id, "ann")
    wait_for(lambda: replica_a.get(run_id).status == "paused")  # A hears it from the run itself
    assert replica_b.resume(run_id, "ann")
    wait_for(lambda: replica_a.get(run_id).status == "running")
    # 1500 steps take ~10 s on an idle machine; a busy CI machine gets three timeouts' grace.
    done_a, done_b = replica_a.wait(run_id, 3 * TIMEOUT), replica_b.wait(run_id, 3 * TIMEOUT)
    seen = [(view.status, view.step) for view in (done_a, done_b)]
    assert done_a.status == done_b.status == "done" and done_a.step == done_b.step == 1500, seen
    assert done_b.model_saved and done_b.history["val"] == done_a.history["val"]
    document = RunStore(tmp_path / "runs").read_record(run_id)
    assert document["status"] == "done" and document["owner"] == "ann" and document["step"] == 1500
    wait_for(lambda: run_id not in replica_a.backend.named_runs())


def test_replicas_share_the_cluster_s_slots_and_queue_honestly(managers):
    from ui.runs.ray_backend import RayBackend

    replica_a, replica_b = managers("ray"), managers("ray")
    assert replica_a.backend.slots() == replica_b.backend.slots() == 2  # the cluster's 2 CPUs
    ann, ben = (replica_a.submit(LONG, owner=who) for who in ("ann", "ben"))
    wait_for(lambda: all(replica_a.get(r).status == "running" for r in (ann, ben)))
    cat = replica_b.submit(LONG, owner="cat")  # the cluster is full: it waits in B's queue
    view = replica_b.get(cat)
    assert view.status == "queued" and view.queue_position == 1
    assert 0 < view.wait_seconds <= LONG.time_budget  # the first of A's runs to end frees a CPU
    assert replica_b.server_load() == {"running": 2, "queued": 1, "max_jobs": 2}
    time.sleep(2.0)
    assert replica_b.get(cat).status == "queued"  # still: B does not overfill the cluster
    assert replica_a.get(cat).status == "queued"  # A reads B's queued run from run.json as such
    assert RayBackend(replica_a.backend.address, reserved_cpus=1).slots() == 1  # TINYLM_RAY_RESERVED_CPUS
    replica_a.stop(ann, "ann")
    wait_for(lambda: replica_b.get(cat).status in ("preparing", "running"))
    wait_for(lambda: replica_a.get(ann).status == "stopped")  # its end event may come just after


def test_the_environment_selects_the_backend(monkeypatch):
    from tests.raycluster import require_ray
    from ui.runs import backend_from_env

    monkeypatch.delenv("TINYLM_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("TINYLM_BACKEND", raising=False)
    assert isinstance(backend_from_env(Limits(max_jobs=3)), ThreadBackend)  # the embedded default
    monkeypatch.setenv("TINYLM_BACKEND", "process")
    local = backend_from_env(Limits(max_jobs=3))
    assert isinstance(local, ProcessBackend)
    local.shutdown()
    require_ray()
    from ui.runs.ray_backend import RayBackend

    monkeypatch.setenv("TINYLM_RAY_ADDRESS", "10.0.0.5:6379")
    monkeypatch.setenv("TINYLM_RAY_RESERVED_CPUS", "2")
    monkeypatch.setenv("TINYLM_RAY_NAMESPACE", "lab-b")
    chosen = backend_from_env(Limits(orphan_seconds=45.0))
    assert isinstance(chosen, RayBackend)  # the cluster's address wins; nothing connects before use
    assert (chosen.address, chosen.namespace, chosen.reserved_cpus, chosen.orphan_seconds) == (
        "10.0.0.5:6379",
        "lab-b",
        2.0,
        45.0,
    )
