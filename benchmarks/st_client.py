"""A small Python client of Streamlit's browser protocol: one simulated browser tab on a running app.

It drives the same server code paths as the browser does (Streamlit 1.67, the frontend bundled with it):

* **Loading the page.** ``GET /<Page>?query`` (the HTML), ``GET /_stcore/health`` (which sets the
  ``_streamlit_xsrf`` cookie), then a websocket to ``/_stcore/stream`` with the subprotocols
  ``["streamlit", <xsrf token>]``, an ``Origin`` header and the cookies (the app's ``tinylm_student``
  cookie included: one random 22-character id per simulated student, as a returning browser sends it).
* **Script runs.** The server runs nothing until asked: the first ``BackMsg(rerun_script=ClientState(
  query_string, page_name=<URL path>, page_script_hash="", context_info))`` runs the page; later runs
  name the page by its ``page_script_hash`` from the ``navigation`` message a multipage app sends in
  each run (its ``app_pages`` list every page; going to another page is a rerun with that page's hash
  and an empty query, as a sidebar link does).
  Every run starts with a ``new_session`` ForwardMsg (``metadata.run``: the run id and, for a fragment
  run, its fragment ids) and ends with ``script_finished``. Page latency is the time from sending the
  rerun request to the ``script_finished`` of a full run that started after it.
* **The element tree.** ``delta`` messages put an element (``new_element``) or a container
  (``add_block``) at ``metadata.delta_path`` (its first number: 0 main area, 1 sidebar); each element
  is stamped with the run that drew it, and when a run finishes the elements it did not redraw go, as
  in the frontend (a fragment run only clears its own fragment's elements). Large elements come once
  and are then referred to by hash (``ref_hash``): the client keeps them, and tells the server which
  ones it holds in ``cached_message_hashes``, as the browser does. ``page_info_changed`` carries the
  URL's query string the page wrote; the client sends it back with every rerun.
* **Widgets.** A widget's id is ``$$ID-<hash>-<user key>``, so ``widget("train.start")`` finds the
  Start button by its key. A click is a rerun carrying ``WidgetState(id, trigger_value=True)`` (sent
  once; a trigger resets after the run), with the widget's ``fragment_id`` when it sits in a fragment.
  The client sends the values it has set itself; widgets it never touched keep their server-side
  value, which is what the browser would send back for them anyway.
* **Fragments.** ``auto_rerun(fragment_id, interval)`` starts a timer, as ``setInterval`` does in the
  browser: every interval, ``rerun_script(fragment_id=…, is_auto_rerun=True)``; a full run's
  ``new_session`` cancels all timers (the fragments it draws send theirs again), ``stop_auto_rerun``
  cancels some. So a watching student makes the server do the Train page's live-view work.
* **Files.** Upload: ``file_urls_request`` → ``file_urls_response`` (an upload URL), ``PUT`` the file
  (multipart, with the ``X-Xsrftoken`` header), then a rerun with the uploader's
  ``file_uploader_state_value``. Download of a button whose data is made on click (``deferred_file_id``):
  ``backend_operation_request(deferred_file)`` → ``backend_operation_response`` (a media URL) → ``GET``.
* **Problems.** Every exception element, error alert (``st.error``: the app's error guard draws one),
  compile error, ``page_not_found`` and unexpected disconnect a session ever saw is kept in
  ``problems``.

Keep-alive is the websocket's own ping/pong (answered by the ``websockets`` library), as in a browser;
``heartbeat()`` sends Streamlit's app heartbeat (the frontend sends it only when a host page asks).
"""

from __future__ import annotations

import http.cookies
import secrets
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Common_pb2 import FileUploaderState, FileURLs, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

MAIN, SIDEBAR = 0, 1  # delta_path[0]
FULL_RUN_DONE = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)
MAX_CACHED = 2000  # cached large messages kept per session
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def student_token() -> str:
    """A random student id as the app makes one: 22 characters of [A-Za-z0-9_-]."""
    return secrets.token_urlsafe(16)


def user_key(element_id: str) -> str | None:
    """The user key inside a widget id ``$$ID-<hash>-<key>`` (streamlit.runtime.state.common)."""
    if not element_id.startswith("$$ID-"):
        return None
    key = element_id.split("-", maxsplit=2)[-1]
    return None if key == "None" else key


@dataclass
class Node:
    """One element (or container) of the page, as the frontend holds it."""

    path: tuple[int, ...]
    kind: str  # the Element's type ("button", "markdown", "heading", ...) or "block"
    proto: Any  # that element's own message (Button, Markdown, ...) or the Block
    run_id: str  # the script run that drew it
    fragment_id: str  # the fragment it belongs to ("" outside fragments)

    @property
    def widget_id(self) -> str:
        return self.proto.id if "id" in self.proto.DESCRIPTOR.fields_by_name else ""

    @property
    def key(self) -> str | None:
        return user_key(self.widget_id)

    @property
    def text(self) -> str:
        """The visible text of a text-like element (markdown, heading, alert, text, code, caption)."""
        for name in ("body", "text", "code_text", "label"):
            if name in self.proto.DESCRIPTOR.fields_by_name:
                return str(getattr(self.proto, name))
        return ""


@dataclass
class Run:
    """One script run of the session (a full run or a fragment run)."""

    run_id: str
    fragment_ids: tuple[str, ...]
    started: float  # time.monotonic() when its new_session arrived
    finished: float | None = None
    status: int | None = None


@dataclass
class Timer:
    interval: float
    due: float
    pending_since: float | None = None  # the oldest auto rerun sent and not yet answered by a run


class StreamlitError(RuntimeError):
    pass


@dataclass
class Session:
    """One browser tab on a Streamlit app at ``base_url`` (``http://127.0.0.1:8501``)."""

    base_url: str
    student: str = field(default_factory=student_token)
    cookie_name: str = "tinylm_student"
    timeout: float = 120.0
    locale: str = "en-US"
    # what the session saw
    problems: list[str] = field(default_factory=list)
    # each answered fragment timer: (wall-clock time of its rerun request, seconds until its run ended)
    fragment_latencies: list[tuple[float, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cookies: dict[str, str] = {self.cookie_name: self.student} if self.cookie_name else {}
        self.session_id = ""
        self.pages: dict[str, str] = {}  # URL path ("Train", "" for the main page) -> page script hash
        self.page_hash = ""
        self.page_path = ""
        self.query_string = ""
        self.nodes: dict[tuple[int, ...], Node] = {}
        self.runs: list[Run] = []
        self._widgets: dict[str, WidgetState] = {}
        self._cache: OrderedDict[str, ForwardMsg] = OrderedDict()
        self._timers: dict[str, Timer] = {}
        self._responses: dict[str, ForwardMsg] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._ws: Any = None
        self._closing = False
        self._threads: list[threading.Thread] = []

    # ---------------------------------------------------------------------------------- connection
    def open(self, path: str = "", query: str = "") -> float:
        """Load the page at ``/<path>?<query>`` as a browser does and wait for its first run to finish.
        Returns the seconds from the page request to the end of that run (the page-open latency)."""
        started = time.monotonic()
        self.page_path, self.query_string = path, query
        self._http("GET", f"/{path}" + (f"?{query}" if query else ""))
        self._http("GET", "/_stcore/health")
        host = urllib.parse.urlsplit(self.base_url).netloc
        self._ws = ws_connect(
            f"ws://{host}/_stcore/stream",
            origin=self.base_url,
            subprotocols=["streamlit", self.cookies.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN")],
            additional_headers={"Cookie": self._cookie_header()},
            max_size=None,
            proxy=None,
            open_timeout=self.timeout,
            legacy=True,  # the connection itself (its threads outlive this call)
        )
        for target, name in ((self._read_loop, "reader"), (self._timer_loop, "timers")):
            thread = threading.Thread(target=target, name=f"st-{name}-{self.student[:6]}", daemon=True)
            thread.start()
            self._threads.append(thread)
        sent = time.monotonic()
        self._send_rerun(page_name=path)
        self.wait_run(sent)
        return time.monotonic() - started

    def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            self._ws.close()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return bool(self._threads) and not self._closing and self._threads[0].is_alive()

    # ---------------------------------------------------------------------------------- script runs
    def rerun(self, fragment_id: str = "", extra: list[WidgetState] | None = None) -> float:
        """Ask for a rerun (a fragment's, with ``fragment_id``) and wait for it; returns its seconds."""
        sent = time.monotonic()
        self._send_rerun(fragment_id=fragment_id, extra=extra)
        self.wait_run(sent, fragment_id)
        return time.monotonic() - sent

    def navigate(self, path: str) -> float:
        """Go to another page of the app as a sidebar link does (same session, empty query); returns the
        seconds until its run has finished."""
        if path not in self.pages:
            raise StreamlitError(f"no page {path!r} (pages: {sorted(self.pages)})")
        sent = time.monotonic()
        with self._lock:
            self._timers.clear()  # the frontend cancels the old page's timers
            self.query_string, self.page_path = "", path
            outside_main = {n.widget_id for n in self.nodes.values() if n.path[0] != MAIN and n.widget_id}
            self._widgets = {i: s for i, s in self._widgets.items() if i in outside_main}
        self._send_rerun(page_hash=self.pages[path])
        self.wait_run(sent)
        return time.monotonic() - sent

    def wait_run(self, since: float, fragment_id: str = "", timeout: float | None = None) -> Run:
        """Wait for the end of a run that started at or after ``since`` (a full run; with ``fragment_id``,
        a run of that fragment or a full run)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._changed:
            while True:
                for run in reversed(self.runs):
                    if run.started < since:
                        break
                    full = not run.fragment_ids
                    if run.finished is not None and (
                        (full and run.status in FULL_RUN_DONE)
                        or (fragment_id and fragment_id in run.fragment_ids)
                    ):
                        return run
                if not self._threads[0].is_alive():
                    raise StreamlitError("the connection closed while waiting for a run")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no run finished within {timeout or self.timeout:.0f} s")
                self._changed.wait(min(left, 1.0))

    def wait_for(self, predicate: Any, timeout: float | None = None, what: str = "a condition") -> Any:
        """Wait until ``predicate(session)`` returns something truthy (checked after every message)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        with self._changed:
            while True:
                found = predicate(self)
                if found:
                    return found
                if not self._threads[0].is_alive():
                    raise StreamlitError(f"the connection closed while waiting for {what}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{what}: not within {timeout or self.timeout:.0f} s")
                self._changed.wait(min(left, 1.0))

    # ---------------------------------------------------------------------------------- the page
    def elements(self, kind: str | None = None, root: int | None = None) -> list[Node]:
        with self._lock:
            nodes = sorted(self.nodes.values(), key=lambda n: n.path)
        return [n for n in nodes if (kind is None or n.kind == kind) and (root is None or n.path[0] == root)]

    def widget(self, key: str) -> Node | None:
        return next((n for n in self.elements() if n.key == key), None)

    def title(self) -> str | None:
        """The page's first h1 in the main area (st.title)."""
        for node in self.elements("heading", MAIN):
            if node.proto.tag == "h1":
                return node.proto.body
        return None

    def texts(self, kind: str | None = None, root: int | None = MAIN) -> list[str]:
        return [n.text for n in self.elements(kind, root) if n.kind != "block" and n.text]

    def alerts(self, level: str = "") -> list[str]:
        """Texts of st.error / st.warning / st.info / st.success boxes (level: error, warning, ...)."""
        from streamlit.proto.Alert_pb2 import Alert

        wanted = getattr(Alert, level.upper()) if level else None
        return [n.proto.body for n in self.elements("alert") if wanted is None or n.proto.format == wanted]

    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.query_string))

    def fragment_timers(self) -> dict[str, float]:
        with self._lock:
            return {fragment: timer.interval for fragment, timer in self._timers.items()}

    # ---------------------------------------------------------------------------------- actions
    def click(self, key: str) -> float:
        """Click a button by its key and wait for the run it causes; returns its seconds."""
        node = self._require(key)
        if getattr(node.proto, "disabled", False):
            raise StreamlitError(f"button {key!r} is disabled")
        return self.rerun(node.fragment_id, extra=[WidgetState(id=node.widget_id, trigger_value=True)])

    def upload(self, key: str, name: str, data: bytes, mime: str = "application/octet-stream") -> float:
        """Put a file into a file uploader (by key) as the browser does; returns the seconds until the run
        the upload causes has finished."""
        node = self._require(key)
        request_id = str(uuid.uuid4())
        message = BackMsg()
        message.file_urls_request.request_id = request_id
        message.file_urls_request.session_id = self.session_id
        message.file_urls_request.file_names.append(name)
        sent = time.monotonic()
        self._send(message)
        answer = self.wait_for(lambda s: s._responses.pop(request_id, None), what="file_urls_response")
        urls = answer.file_urls_response
        if urls.error_msg or not urls.file_urls:
            raise StreamlitError(f"upload refused: {urls.error_msg}")
        info = urls.file_urls[0]
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                f"Content-Type: {mime}\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Xsrftoken": self.cookies.get("_streamlit_xsrf", ""),
        }
        self._http("PUT", info.upload_url, body, headers)
        state = FileUploaderState()
        state.uploaded_file_info.append(
            UploadedFileInfo(
                file_id=info.file_id,
                name=name,
                size=len(data),
                file_urls=FileURLs(
                    file_id=info.file_id, upload_url=info.upload_url, delete_url=info.delete_url
                ),
            )
        )
        widget = WidgetState(id=node.widget_id)
        widget.file_uploader_state_value.CopyFrom(state)
        with self._lock:
            self._widgets[node.widget_id] = widget
        self._send_rerun(fragment_id=node.fragment_id)
        self.wait_run(sent, node.fragment_id)
        return time.monotonic() - sent

    def download(self, key: str) -> bytes:
        """Click a download button by key and fetch its file (made on the server when clicked, if the
        button's data is a function)."""
        node = self._require(key)
        url = node.proto.url
        if node.proto.deferred_file_id:
            request_id = str(uuid.uuid4())
            message = BackMsg()
            message.backend_operation_request.request_id = request_id
            message.backend_operation_request.session_id = self.session_id
            message.backend_operation_request.deferred_file.file_id = node.proto.deferred_file_id
            self._send(message)
            answer = self.wait_for(lambda s: s._responses.pop(request_id, None), what="the download")
            response = answer.backend_operation_response
            if response.error_msg:
                raise StreamlitError(f"download failed: {response.error_msg}")
            url = response.deferred_file.url
        data = self._http("GET", url)
        if not node.proto.ignore_rerun:
            self.rerun(node.fragment_id, extra=[WidgetState(id=node.widget_id, trigger_value=True)])
        return data

    def heartbeat(self) -> None:
        message = BackMsg()
        message.app_heartbeat = True
        self._send(message)

    # ---------------------------------------------------------------------------------- internals
    def _require(self, key: str) -> Node:
        node = self.widget(key)
        if node is None:
            raise StreamlitError(f"no widget with key {key!r} on the page")
        return node

    def _cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def _http(self, method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> bytes:
        full = url if url.startswith("http") else self.base_url + url
        request = urllib.request.Request(full, data=body, method=method, headers=dict(headers or {}))
        request.add_header("Cookie", self._cookie_header())
        request.add_header("Origin", self.base_url)
        with NO_PROXY.open(request, timeout=self.timeout) as response:
            for header in response.headers.get_all("Set-Cookie") or []:
                parsed = http.cookies.SimpleCookie()
                parsed.load(header)
                for name, morsel in parsed.items():
                    self.cookies[name] = morsel.value
            return response.read()

    def _send(self, message: BackMsg) -> None:
        if self._ws is None or self._closing:
            raise StreamlitError("not connected")
        self._ws.send(message.SerializeToString())

    def _send_rerun(
        self,
        page_name: str = "",
        page_hash: str | None = None,
        fragment_id: str = "",
        auto: bool = False,
        extra: list[WidgetState] | None = None,
    ) -> None:
        with self._lock:
            states = {**self._widgets, **{s.id: s for s in extra or []}}
            state = ClientState(
                query_string=self.query_string,
                widget_states=WidgetStates(widgets=list(states.values())),
                page_script_hash=self.page_hash if page_hash is None else page_hash,
                page_name=page_name,
                fragment_id=fragment_id,
                is_auto_rerun=auto,
                cached_message_hashes=list(self._cache),
                context_info=ContextInfo(
                    timezone="UTC",
                    timezone_offset=0,
                    locale=self.locale,
                    url=f"{self.base_url}/{self.page_path}"
                    + (f"?{self.query_string}" if self.query_string else ""),
                    is_embedded=False,
                    color_scheme="light",
                ),
            )
        message = BackMsg()
        message.rerun_script.CopyFrom(state)
        self._send(message)

    def _timer_loop(self) -> None:
        """The browser's setInterval for each fragment with run_every."""
        while not self._closing and self._threads[0].is_alive():
            now = time.monotonic()
            due, wake = [], now + 0.2  # a timer registered meanwhile is noticed within 0.2 s
            with self._lock:
                for fragment_id, timer in self._timers.items():
                    if now >= timer.due:
                        timer.due += timer.interval * max(1, int((now - timer.due) // timer.interval) + 1)
                        timer.pending_since = timer.pending_since or now
                        due.append(fragment_id)
                    wake = min(wake, timer.due)
            for fragment_id in due:
                try:
                    self._send_rerun(fragment_id=fragment_id, auto=True)
                except (StreamlitError, ConnectionClosed):
                    return
            time.sleep(max(0.005, wake - time.monotonic()))

    def _read_loop(self) -> None:
        try:
            for raw in self._ws:
                message = ForwardMsg()
                message.ParseFromString(raw)
                with self._changed:
                    self._handle(message)
                    self._changed.notify_all()
            if not self._closing:
                self._problem("the server closed the connection")
        except ConnectionClosed as exc:
            if not self._closing:
                self._problem(f"connection lost: {exc}")
        except Exception as exc:  # a bug in this client: say so rather than hang the waiters
            self._problem(f"client error: {exc!r}")
        finally:
            with self._changed:
                self._changed.notify_all()

    def _handle(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(message.ref_hash)
            if cached is None:
                self._problem(f"cached message missing: {message.ref_hash}")
                return
            self._cache.move_to_end(message.ref_hash)
            resolved = ForwardMsg()
            resolved.CopyFrom(cached)
            resolved.metadata.CopyFrom(message.metadata)
            message, kind = resolved, resolved.WhichOneof("type")
        elif message.metadata.cacheable and message.hash:
            self._cache[message.hash] = message
            while len(self._cache) > MAX_CACHED:
                self._cache.popitem(last=False)
        now = time.monotonic()
        if kind == "new_session":
            session = message.new_session
            if session.initialize.session_id:
                self.session_id = session.initialize.session_id
            if not self.pages:  # a multipage app lists its pages in "navigation" during the run
                self.pages = {p.url_pathname: p.page_script_hash for p in session.app_pages}
                self.page_hash = session.page_script_hash
            fragments = tuple(message.metadata.run.fragment_ids)
            self.runs.append(Run(message.metadata.run.script_run_id, fragments, now))
            del self.runs[:-200]
            if not fragments:
                self._timers.clear()  # the frontend's cleanupAutoReruns
        elif kind == "delta":
            self._apply_delta(message)
        elif kind == "script_finished":
            self._finish_run(message, now)
        elif kind == "navigation":  # the app's pages, and which one this run shows
            self.pages = {p.url_pathname: p.page_script_hash for p in message.navigation.app_pages}
            self.page_hash = message.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "auto_rerun":
            rerun = message.auto_rerun
            timer = self._timers.get(rerun.fragment_id)
            if timer is None or timer.interval != rerun.interval:
                self._timers[rerun.fragment_id] = Timer(rerun.interval, now + rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self._timers.pop(fragment_id, None)
        elif kind == "file_urls_response":
            self._responses[message.file_urls_response.response_id] = message
        elif kind == "backend_operation_response":
            self._responses[message.backend_operation_response.request_id] = message
        elif kind == "page_not_found":
            self._problem(f"page not found: {message.page_not_found.page_name!r}")
        elif kind == "session_event" and message.session_event.HasField("script_compilation_exception"):
            self._problem(f"compile error: {message.session_event.script_compilation_exception}")

    def _apply_delta(self, message: ForwardMsg) -> None:
        delta = message.delta
        path = tuple(message.metadata.delta_path)
        run_id = self.runs[-1].run_id if self.runs else ""
        which = delta.WhichOneof("type")
        if which == "new_element":
            element = delta.new_element
            kind = element.WhichOneof("type") or "empty"
            proto = getattr(element, kind)
            for other in [p for p in self.nodes if len(p) > len(path) and p[: len(path)] == path]:
                del self.nodes[other]  # an element replaces a container and everything in it
            self.nodes[path] = Node(path, kind, proto, run_id, delta.fragment_id)
            self._note_problem(kind, proto)
        elif which == "add_block":
            self.nodes[path] = Node(path, "block", delta.add_block, run_id, delta.fragment_id)

    def _problem(self, text: str) -> None:
        if text not in self.problems:  # a fragment redraws the same alert every second
            self.problems.append(text)

    def _note_problem(self, kind: str, proto: Any) -> None:
        from streamlit.proto.Alert_pb2 import Alert

        if kind == "exception":
            self._problem(f"exception on {self.page_path or 'home'}: {proto.type}: {proto.message}")
        elif kind == "alert" and proto.format == Alert.ERROR:
            self._problem(f"error on {self.page_path or 'home'}: {proto.body}")

    def _finish_run(self, message: ForwardMsg, now: float) -> None:
        status = message.script_finished
        run_id = message.metadata.run.script_run_id
        run = next(
            (r for r in reversed(self.runs) if r.run_id == run_id), self.runs[-1] if self.runs else None
        )
        if run is None:
            return
        run.finished, run.status = now, status
        if status == ForwardMsg.FINISHED_SUCCESSFULLY:
            self.nodes = {p: n for p, n in self.nodes.items() if n.run_id == run.run_id}
        elif status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
            self.nodes = {
                p: n
                for p, n in self.nodes.items()
                if n.run_id == run.run_id or n.fragment_id not in run.fragment_ids
            }
        for fragment_id in run.fragment_ids:
            timer = self._timers.get(fragment_id)
            if timer is not None and timer.pending_since is not None:
                waited = now - timer.pending_since
                self.fragment_latencies.append((time.time() - waited, waited))
                timer.pending_since = None
