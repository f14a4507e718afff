"""The classroom store on both of its databases: SQLite (a temporary file) and a real PostgreSQL.

Every test taking ``url`` runs twice, once per backend; the PostgreSQL server is started by
``tests/postgres.py`` (skipped with the reason when it is missing, a failure under CI).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.postgres import postgres_cluster  # noqa: F401  (the session fixture)
from tinylm.errors import TinyLMError
from ui.classroom import ERROR_CODES, ClassroomStore, Limits, default_url, records
from ui.classroom import store as store_module
from ui.classroom.backends import backend_for, redacted, sqlite_url
from ui.classroom.text import CODE_ALPHABET, CODE_LENGTH

START = 1_800_000_000.0
HOUR = 3600.0


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "classroom.sqlite3")
    return request.getfixturevalue("postgres_cluster").create_database()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def open_store(url: str, clock: FakeClock) -> Iterator:
    """Opens stores on the test's database (each one an app 'replica'); all are closed at the end."""
    opened: list[ClassroomStore] = []

    def make(**options) -> ClassroomStore:
        opened.append(ClassroomStore(url, clock=options.pop("clock", clock), **options))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store) -> ClassroomStore:
    return open_store()


def error_code(call, *args, **kwargs) -> str:
    with pytest.raises(TinyLMError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def count(store: ClassroomStore, table: str) -> int:
    return store._read(lambda tx: tx.row(f"SELECT COUNT(*) FROM {table}"))[0]


# -- classes, codes, teacher keys -------------------------------------------------------------------


def test_class_codes_are_short_typeable_and_unique(store):
    codes = [store.create_class(f"class {i}")[0] for i in range(40)]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
        assert not set(code) & set("0O1I")
    code = codes[0]
    spaced = f" {code[:3].lower()} - {code[3:]} "
    assert store.find_class(spaced).code == code
    assert store.find_class(code.lower()).name == "class 0"
    for junk in ["", "ZZZZZZZ", "O0I1AB", "A" * 1000, None, 12345]:
        assert store.find_class(junk) is None


def test_a_code_already_taken_is_never_given_twice(store, monkeypatch):
    first, _ = store.create_class("first")
    # The random code generator returns a taken code twice: the database refuses it, and the store
    # tries again with a new one (on PostgreSQL this also checks the failed transaction is redone).
    fresh = iter([first, first, "QQQQQQ"])
    monkeypatch.setattr(store_module, "new_class_code", lambda: next(fresh))
    second, _ = store.create_class("second")
    assert second == "QQQQQQ"
    assert store.find_class(first).name == "first" and store.find_class(second).name == "second"


def test_the_teacher_key_opens_the_class_as_its_teacher(store):
    code, key = store.create_class("  Year 9 \n Tuesday  ")
    other_code, other_key = store.create_class("other")
    teacher = store.teacher_class(key)
    assert teacher.code == code and teacher.name == "Year 9 Tuesday" and teacher.teacher
    assert store.teacher_class(other_key).code == other_code
    student_view = store.find_class(code)
    assert not student_view.teacher
    assert len(key) >= 32 and key not in repr(teacher)
    for wrong in [key[:-1], key + "x", key.upper(), "", "not a key!", "a" * 5000, None, code]:
        assert store.teacher_class(wrong) is None


def test_teacher_only_operations_refuse_a_students_view_of_the_class(store):
    code, _ = store.create_class("c")
    student_view = store.find_class(code)
    lily = store.join(code, "Lily")
    assert error_code(store.set_preset, student_view, {"n_layers": 2}) == "teacher_only"
    assert error_code(store.clear_preset, student_view) == "teacher_only"
    assert error_code(store.remove_member, student_view, lily.id) == "teacher_only"
    assert error_code(store.delete_class, student_view) == "teacher_only"
    assert [m.id for m in store.members(student_view)] == [lily.id]


def test_secrets_are_stored_only_as_hashes(url, store, request):
    code, key = store.create_class("secret class")
    lily = store.join(code, "Lily")
    if store.backend == "sqlite":
        path = backend_for(url).path
        stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # db, -wal, -shm
    else:
        stored = request.getfixturevalue("postgres_cluster").dump(url).encode()
    assert b"secret class" in stored  # the right bytes are being looked at
    assert hashlib.sha256(key.encode()).hexdigest().encode() in stored
    assert key.encode() not in stored
    assert lily.token.encode() not in stored
    assert lily.token not in repr(lily)


def test_class_names_and_lifetimes_are_bounded(store):
    assert error_code(store.create_class, "") == "bad_class_name"
    assert error_code(store.create_class, " \u200b\u202e ") == "bad_class_name"
    assert error_code(store.create_class, "x" * 81) == "bad_class_name"
    assert error_code(store.create_class, 42) == "bad_class_name"
    assert store.find_class(store.create_class("x" * 80)[0]).name == "x" * 80
    assert error_code(store.create_class, "c", expires_in_seconds=10) == "bad_class_expiry"
    assert error_code(store.create_class, "c", expires_in_seconds=31 * 24 * HOUR) == "bad_class_expiry"
    assert error_code(store.create_class, "c", expires_in_seconds=float("nan")) == "bad_class_expiry"


def test_the_number_of_live_classes_is_bounded(open_store, clock):
    store = open_store(limits=Limits(live_classes=2))
    store.create_class("a", expires_in_seconds=HOUR)
    store.create_class("b", expires_in_seconds=2 * HOUR)
    assert error_code(store.create_class, "c") == "too_many_classes"
    clock.advance(HOUR)  # "a" has ended: it no longer counts, and is deleted on the way
    store.create_class("c")
    assert count(store, "classes") == 2


# -- expiry -----------------------------------------------------------------------------------------


def test_a_class_expires_after_its_time(store, clock):
    code, key = store.create_class("short", expires_in_seconds=HOUR)
    lily = store.join(code, "Lily")
    klass = store.find_class(code)
    store.add_run(klass, lily, "run-1")
    assert klass.expires_at - klass.created_at == HOUR
    clock.advance(HOUR - 1)
    assert store.find_class(code) is not None and store.teacher_class(key) is not None
    clock.advance(1)
    assert store.find_class(code) is None and store.teacher_class(key) is None
    assert error_code(store.join, code, "Tom") == "class_not_found"
    assert error_code(store.join, code, None, member_token=lily.token) == "class_not_found"
    assert error_code(store.runs_of_class, klass) == "class_not_found"
    assert error_code(store.add_run, klass, lily, "run-2") == "class_not_found"
    assert error_code(store.get_preset, klass) == "class_not_found"
    assert count(store, "members") == 1  # not found, but not deleted yet
    assert store.purge_expired() == 1
    assert store.purge_expired() == 0
    assert [count(store, table) for table in ("classes", "members", "class_runs")] == [0, 0, 0]


def test_the_default_lifetime_comes_from_the_environment(open_store, monkeypatch):
    monkeypatch.setenv("TINYLM_CLASSROOM_HOURS", "2")
    store = open_store()
    klass = store.find_class(store.create_class("c")[0])
    assert klass.expires_at - klass.created_at == 2 * HOUR
    monkeypatch.setenv("TINYLM_CLASSROOM_HOURS", "soon")
    assert open_store().expiry_seconds == records.DEFAULT_EXPIRY_HOURS * HOUR


# -- members ----------------------------------------------------------------------------------------


def test_rejoining_with_the_member_token_keeps_the_same_member(store):
    code, _ = store.create_class("c")
    klass = store.find_class(code)
    lily = store.join(code, "Lily")
    assert lily.token and lily.display_name == "Lily"
    again = store.join(code.lower(), None, member_token=lily.token)  # a reconnect: no name typed
    assert (again.id, again.display_name, again.token) == (lily.id, "Lily", lily.token)
    renamed = store.join(code, "Lily W.", member_token=lily.token)
    assert renamed.id == lily.id and renamed.display_name == "Lily W."
    assert store.member(klass, lily.token).display_name == "Lily W."
    assert [m.display_name for m in store.members(klass)] == ["Lily W."]
    # A token the store did not give out (or junk) never becomes an identity: a new member is made.
    made_up = store.join(code, "Tom", member_token="my-own-token")
    assert made_up.token != "my-own-token" and made_up.id != lily.id
    assert store.member(klass, "my-own-token") is None and store.member(klass, "") is None
    assert error_code(store.join, code, None, member_token="unknown") == "bad_display_name"
    # The same token in another class is not a member there.
    other, _ = store.create_class("other")
    elsewhere = store.join(other, "Lily", member_token=lily.token)
    assert elsewhere.id != lily.id and store.member(store.find_class(other), lily.token) is None


def test_display_names_are_unique_within_a_class(store):
    code, _ = store.create_class("c")
    names = [store.join(code, name).display_name for name in ["Lily", "lily", " Lily ", "Lily (2)", "LILY"]]
    assert names == ["Lily", "lily (2)", "Lily (3)", "Lily (2) (2)", "LILY (4)"]
    long = "x" * 40
    first, second = store.join(code, long), store.join(code, long)
    assert first.display_name == long and second.display_name == "x" * 36 + " (2)"
    assert store.join(code, "Lily", member_token=first.token).display_name == "Lily (5)"
    other, _ = store.create_class("other class")
    assert store.join(other, "Lily").display_name == "Lily"


def test_display_names_are_cleaned(store):
    code, _ = store.create_class("c")

    def name(text: str) -> str:
        return store.join(code, text).display_name

    assert name("\u202eevil\u202c\u200b name") == "evil name"  # bidi override, zero-width space
    assert name("  two\n\tlines \x00\x07 ") == "two lines"
    assert name("Ｔｏｍ") == "Tom"  # full-width letters
    assert name("小明") == "小明"
    assert name("<b>bold</b>") == "<b>bold</b>"  # kept as text; the app escapes it when drawing
    assert len(name("y" * 500)) == 40
    for empty in ["", "   ", "\u200b\u202e", "\n"]:
        assert error_code(store.join, code, empty) == "bad_display_name"
    assert error_code(store.join, "ZZZZZZ", "Lily") == "class_not_found"
    assert error_code(store.join, "not a code", "Lily") == "class_not_found"


def test_a_class_has_at_most_its_limit_of_members(open_store):
    store = open_store(limits=Limits(members_per_class=3))
    code, key = store.create_class("c")
    members = [store.join(code, f"s{i}") for i in range(3)]
    assert error_code(store.join, code, "late") == "class_full"
    assert store.join(code, None, member_token=members[0].token).id == members[0].id  # returning is fine
    teacher = store.teacher_class(key)
    assert store.remove_member(teacher, members[1].id)
    assert not store.remove_member(teacher, members[1].id)
    assert store.join(code, "late").display_name == "late"


def test_removing_a_member_removes_their_runs_from_the_class(store):
    code, key = store.create_class("c")
    teacher = store.teacher_class(key)
    lily, tom = store.join(code, "Lily"), store.join(code, "Tom")
    store.add_run(teacher, lily, "lily-1")
    store.add_run(teacher, tom, "tom-1")
    assert store.remove_member(teacher, lily.id)
    assert [run.run_id for run in store.runs_of_class(teacher)] == ["tom-1"]
    assert store.member(teacher, lily.token) is None
    assert error_code(store.add_run, teacher, lily, "lily-2") == "member_not_found"


# -- runs -------------------------------------------------------------------------------------------


def test_runs_are_recorded_per_member(store, clock):
    code, _ = store.create_class("c")
    klass = store.find_class(code)
    lily, tom = store.join(code, "Lily"), store.join(code, "Tom")
    for who, run_id in [(lily, "a"), (tom, "b"), (lily, "c"), (lily, "a")]:  # "a" again: no change
        clock.advance(1)
        store.add_run(klass, who, run_id)
    runs = store.runs_of_class(klass)
    assert [(r.member_name, r.run_id, r.added_at) for r in runs] == [
        ("Lily", "a", START + 1),
        ("Tom", "b", START + 2),
        ("Lily", "c", START + 3),
    ]
    assert [r.run_id for r in store.runs_of_member(klass, lily)] == ["a", "c"]
    assert runs[0].member_id == lily.id
    other, _ = store.create_class("other")
    assert error_code(store.add_run, store.find_class(other), lily, "d") == "member_not_found"
    for bad in ["", "../etc", "x" * 65, None]:
        with pytest.raises(ValueError):
            store.add_run(klass, lily, bad)


def test_only_the_latest_runs_of_a_member_are_kept(open_store, clock):
    store = open_store(limits=Limits(runs_per_member=3))
    code, _ = store.create_class("c")
    klass = store.find_class(code)
    lily, tom = store.join(code, "Lily"), store.join(code, "Tom")
    store.add_run(klass, tom, "tom")
    for i in range(6):
        clock.advance(1)
        store.add_run(klass, lily, f"lily-{i}")
    assert [r.run_id for r in store.runs_of_member(klass, lily)] == ["lily-3", "lily-4", "lily-5"]
    assert [r.run_id for r in store.runs_of_member(klass, tom)] == ["tom"]


# -- the preset -------------------------------------------------------------------------------------


def test_the_preset_round_trips(store, clock):
    code, key = store.create_class("c")
    teacher, student_view = store.teacher_class(key), store.find_class(code)
    assert store.get_preset(student_view) is None
    preset = {"n_layers": 2, "pos_encoding": "rope", "seconds": 30, "lr": 3e-3, "tie": False,
              "corpus": "stories-zh", "note": "今天：两层", "sizes": [1, 2, {"deep": None}]}  # fmt: skip
    clock.advance(5)
    pushed = store.set_preset(teacher, preset, "  today: 2 layers, RoPE, 30 s\u202e ")
    assert pushed.settings == preset and pushed.label == "today: 2 layers, RoPE, 30 s"
    read = store.get_preset(student_view)
    assert read == pushed and read.set_at == START + 5
    store.set_preset(teacher, {"n_layers": 4})
    assert store.get_preset(student_view).settings == {"n_layers": 4}
    store.clear_preset(teacher)
    assert store.get_preset(student_view) is None


def test_the_preset_is_a_bounded_json_object(store):
    _, key = store.create_class("c")
    teacher = store.teacher_class(key)
    for bad in [[1, 2], "n_layers=2", None, {"x": float("nan")}, {"x": object()}, {1: "one"}]:
        assert error_code(store.set_preset, teacher, bad) == "bad_preset"
    overhead = len(json.dumps({"t": ""}, separators=(",", ":")))
    at_limit = {"t": "x" * (8 * 1024 - overhead)}
    assert store.set_preset(teacher, at_limit).settings == at_limit
    with pytest.raises(TinyLMError) as caught:
        store.set_preset(teacher, {"t": "饼" * 3000})  # 9000 bytes in UTF-8
    assert caught.value.code == "preset_too_large" and caught.value.params["limit"] == 8192
    assert store.get_preset(teacher).settings == at_limit  # a refused preset changes nothing


# -- restarts, replicas, migrations ---------------------------------------------------------------


def test_everything_survives_a_restart(open_store, url):
    first = open_store()
    code, key = first.create_class("c")
    lily = first.join(code, "Lily")
    first.add_run(first.find_class(code), lily, "run-1")
    first.set_preset(first.teacher_class(key), {"n_layers": 2}, "today")
    first.close()
    again = open_store()
    teacher = again.teacher_class(key)
    assert teacher.code == code
    assert again.member(teacher, lily.token).id == lily.id
    assert [r.run_id for r in again.runs_of_class(teacher)] == ["run-1"]
    assert again.get_preset(teacher).label == "today"
    assert again.schema_version() == 1 and again.migrate() == []


def test_two_replicas_on_one_database_see_each_others_writes(open_store):
    a, b = open_store(), open_store()
    code, key = a.create_class("shared")
    assert b.find_class(code).name == "shared"
    lily = a.join(code, "Lily")
    a.add_run(a.find_class(code), lily, "on-a")
    # Lily's reconnect lands on replica b: the code finds the class, the token her member and runs.
    klass_b = b.find_class(code)
    again = b.member(klass_b, lily.token)
    assert again.id == lily.id
    b.add_run(klass_b, again, "on-b")
    assert [r.run_id for r in a.runs_of_member(a.find_class(code), lily)] == ["on-a", "on-b"]
    assert b.join(code, "lily").display_name == "lily (2)"  # b sees a's names
    b.set_preset(b.teacher_class(key), {"n_layers": 2})
    assert a.get_preset(a.find_class(code)).settings == {"n_layers": 2}


def test_migrations_are_idempotent(store):
    assert store.migrate() == [] and store.migrate() == []
    assert store.schema_version() == 1
    assert count(store, "schema_version") == 1


def run_together(targets: list[Callable[[], None]], timeout: float) -> None:
    """Run each target in a thread of its own, all released at the same moment (a barrier); wait."""
    barrier = threading.Barrier(len(targets))

    def released(target: Callable[[], None]) -> None:
        barrier.wait()
        target()

    threads = [threading.Thread(target=released, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)


def test_replicas_starting_at_once_migrate_once(url, clock):
    # Threads: four stores opened at the same moment on an empty database.
    stores, errors = [], []

    def start() -> None:
        try:
            stores.append(ClassroomStore(url, clock=clock))
        except Exception as exc:  # reported below
            errors.append(exc)

    run_together([start] * 4, timeout=60)
    try:
        assert not errors, errors
        assert len(stores) == 4 and count(stores[0], "schema_version") == 1
    finally:
        for store in stores:
            store.close()


def test_connections_opening_a_new_sqlite_file_at_once_all_get_in(tmp_path):
    # Switching a new file to WAL takes a lock SQLite does not wait for: without the bounded retry in
    # SQLiteBackend.connect, about 1 in 60 of these openings failed with "database is locked".
    failures = []
    for trial in range(60):
        backend = backend_for(sqlite_url(tmp_path / f"{trial}.sqlite3"))

        def open_and_write(backend=backend) -> None:  # this trial's
            try:
                conn = backend.connect()
                backend.begin(conn, write=True)
                conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
                conn.execute("COMMIT")
                conn.close()
            except Exception as exc:  # reported below
                failures.append(exc)

        run_together([open_and_write] * 4, timeout=30)
    assert not failures, failures[:3]


def test_processes_starting_at_once_migrate_once(url):
    # Processes (real replicas), each opening the store on the empty database. They import first (torch
    # comes with tinylm: seconds), say so, and all open the store when told, so the migrations race.
    script = (
        "import sys; from ui.classroom import ClassroomStore; print('ready', flush=True); "
        "sys.stdin.readline(); ClassroomStore(sys.argv[1]).close()"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    options = dict(cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    processes = [subprocess.Popen([sys.executable, "-c", script, url], **options) for _ in range(3)]
    try:
        for process in processes:
            assert process.stdout.readline() == b"ready\n", process.stderr.read().decode()
        for process in processes:
            process.stdin.write(b"go\n")
            process.stdin.flush()
        for process in processes:
            _, stderr = process.communicate(timeout=120)
            assert process.returncode == 0, stderr.decode()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    with ClassroomStore(url) as store:
        assert store.schema_version() == 1 and count(store, "schema_version") == 1


def test_concurrent_joins_from_two_replicas_stay_consistent(open_store):
    a, b = open_store(limits=Limits(members_per_class=12)), open_store(limits=Limits(members_per_class=12))
    code, _ = a.create_class("busy")
    joined, refused, failures = [], [], []

    def students(store: ClassroomStore) -> None:
        for _ in range(2):
            try:
                joined.append(store.join(code, "Lily"))
            except TinyLMError as exc:
                refused.append(exc.code)
            except Exception as exc:  # reported below
                failures.append(exc)

    run_together([functools.partial(students, store) for store in [a, b] * 4], timeout=120)
    assert not failures, failures
    assert len(joined) == 12 and refused == ["class_full"] * 4
    names = [m.display_name for m in a.members(a.find_class(code))]
    assert len(names) == 12 and len({n.casefold() for n in names}) == 12
    assert len({m.token for m in joined}) == 12


# -- URLs and errors (no database needed) ---------------------------------------------------------


def test_database_urls(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYLM_CLASSROOM_DB", raising=False)
    monkeypatch.setenv("TINYLM_RUNS_DIR", str(tmp_path / "runs"))
    assert default_url() == "sqlite://" + str((tmp_path / "runs" / "classroom.sqlite3").resolve())
    assert backend_for(default_url()).path == (tmp_path / "runs" / "classroom.sqlite3").resolve()
    monkeypatch.setenv("TINYLM_CLASSROOM_DB", "postgresql://u@db:5432/classes")
    assert default_url() == "postgresql://u@db:5432/classes"
    assert backend_for("sqlite:////abs/x.db").path == Path("/abs/x.db")
    assert backend_for("sqlite:relative/x.db").path == Path("relative/x.db")
    for bad in ["mysql://u@h/db", "sqlite://host/x.db", "sqlite:///:memory:", "sqlite://"]:
        with pytest.raises(ValueError):
            backend_for(bad)
    assert redacted("postgresql://u:hunter2@h:5/db") == "postgresql://u:***@h:5/db"
    with ClassroomStore(sqlite_url(tmp_path / "r.sqlite3")) as store:
        assert "r.sqlite3" in repr(store)


def test_every_error_code_is_listed_and_translated():
    from ui.i18n import STRINGS

    raised = set()
    for path in (ROOT / "ui" / "classroom").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "TinyLMError":
                raised.add(node.args[0].value)
    assert raised == set(ERROR_CODES)
    for code in ERROR_CODES:
        assert f"error.{code}" in STRINGS["en"] and f"error.{code}" in STRINGS["zh"], code
