"""The supervisor: one small process that starts every container, stays
their parent (child subreaper), records their exit codes and writes their
logs. It outlives the commands and the API daemon that talk to it, so
containers never depend on the process that started them (like containerd
beside dockerd, but one for all containers).

A container's PID 1 is made in two steps, as ``runc create`` and ``runc
start`` do: at create it is forked and builds the container around itself
(namespaces, cgroups, root filesystem) while the caller goes on, then waits;
start only lets it exec. Between requests the supervisor forks the next
PID 1 ahead of need (``process.Spare``), so neither step waits for a fork.

Protocol: JSON lines on ``RUN/supervisor.sock``:
``{"op": "prepare", "id", "key", "spec", "limits", "stdin_open"}`` ->
``{"ok": true}`` at once (the work follows the answer);
``{"op": "start", "id", "key", "log", "log_options", "limits", "stdin_open",
"stdin_once"}`` -> ``{"pid": N, "start_time": T}`` when a PID 1 prepared
under that ``key`` waits, else ``{"unprepared": true}``; the same with
``"spec"`` prepares first when needed; ``{"op": "netns", ...}`` (the fields
of start) -> the network namespace of the prepared PID 1, an fd passed with
the answer, so that its network is attached before it runs (``{"dead":
true}`` if it failed: start says why); ``{"op": "resize", "id", "height",
"width"}`` sizes its terminal; ``{"op": "stdin", "id"}`` -> an fd
writing to its stdin, passed with the answer (SCM_RIGHTS); ``{"op":
"discard", "id"}`` (a prepared container is removed); ``{"op": "ping"}``;
``{"op": "shutdown"}`` (only when no container runs). Errors: ``{"error":
"..."}``. It owns the runtime records of the state store: ``runs/<id>``
(pid, its start time, started_at) before it answers a start, ``exits/<id>``
once it reaped one. Single-threaded: a selectors loop, SIGCHLD through a
wakeup pipe, so forking is safe.

Imports the runtime, the state store and the log writer only (it must stay
small: its memory is the engine's per-container cost).
"""
from __future__ import annotations

import argparse
import errno
import fcntl
import json
import os
import selectors
import signal
import socket
import struct
import sys as pysys
import termios
import time
from dataclasses import dataclass
from pathlib import Path

from engine.runtime import process
from engine.runtime import sys as s
from engine.runtime.cgroups import Limits
from engine.runtime.errors import RuntimeFailure
from engine.runtime.spec import Spec
from engine.state.store import StateStore

from .logs import LogWriter

SOCKET = "supervisor.sock"
# A prepared PID 1 is a forked Python process (about 3 MB PSS) until start:
# beyond this many, created containers are prepared when they start.
MAX_PREPARED = 16
LOCK = "supervisor.lock"


@dataclass
class _Prepared:
    """A container's PID 1 between create and start: set up, waiting to exec."""
    pending: process.Pending
    key: str  # names the spec it was made from (the caller's)
    spec: Spec
    streams: list[tuple[int, str]]  # read ends of its stdout and stderr (none with a tty)
    start_time: int | None
    dead: bool = False  # it failed during set-up (its error waits in the pipe)
    cgroup_limits: dict | None = None  # its cgroups are still to be made, with these limits
    cgroup_error: str = ""  # making them failed (start reports it)
    stdin: int = -1  # write end of its stdin pipe (OpenStdin without a tty)
    stdin_open: bool = False

    def cancel(self) -> None:
        if self.dead:
            self.pending.abandon()
        else:
            self.pending.cancel()
        self.close_ends()

    def close_ends(self) -> None:
        """Our ends of its stdio pipes."""
        for fd, _ in self.streams:
            os.close(fd)
        self.streams = []
        if self.stdin >= 0:
            os.close(self.stdin)
            self.stdin = -1


class Supervisor:
    def __init__(self, root: Path, run: Path, cgroups=None) -> None:
        self.root, self.run = root, run
        self.store = StateStore(root)
        self.cgroups = cgroups
        self.sys = s.Syscalls()
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, str] = {}  # pid -> container id
        self.writers: dict[int, LogWriter] = {}  # pipe fd -> writer
        self.open_pipes: dict[str, set[int]] = {}
        self.stopping = False
        self.spare: process.Spare | None = None  # the next container's PID 1, forked ahead
        self.prepared: dict[str, _Prepared] = {}  # container id -> its PID 1, before start
        self.prepared_pids: dict[int, str] = {}
        self.after: list = []  # work that follows the answer to the current request
        self.mount_namespaces: dict[str, int] = {}  # container id -> fd (see _hold_mounts)
        self.inputs: dict[str, tuple[int, bool]] = {}  # container id -> (stdin to write, once)
        self.terminals: dict[str, int] = {}  # container id -> its pty master (for resize)

    # -- requests ---------------------------------------------------------------
    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "pid": os.getpid()}
        if op == "prepare":  # answered at once: the caller goes on while it is made
            if len(self.prepared) >= MAX_PREPARED:
                return {"ok": True, "deferred": True}  # start will prepare it
            self.after.append(lambda: self._prepare_quietly(request))
            return {"ok": True}
        if op == "start":
            return self._start(request)
        if op == "netns":
            return self._netns(request)
        if op == "resize":
            return self._resize(request["id"], int(request["height"]), int(request["width"]))
        if op == "stdin":
            return self._stdin(request["id"])
        if op == "discard":
            return {"ok": True, "discarded": self._discard(request["id"])}
        if op == "shutdown":
            if self.children:
                return {"error": f"{len(self.children)} containers are still running"}
            self.stopping = True
            return {"ok": True}
        return {"error": f"unknown request {op!r}"}

    def _prepare_quietly(self, request: dict) -> None:
        try:
            self._prepare(Spec.from_json(request["spec"]), request["key"],
                          request.get("limits") or {}, bool(request.get("stdin_open")), defer=True)
        except Exception as exc:  # noqa: BLE001 - start prepares again and reports it
            print(f"supervisor: preparing {request['spec'].get('id')}: {exc}", file=pysys.stderr,
                  flush=True)

    def _prepare(self, spec: Spec, key: str, limits: dict, stdin_open: bool = False,
                 defer: bool = False) -> _Prepared:
        """Fork (or take the spare as) the container's PID 1, which builds the
        container around itself and waits for start; meanwhile make its
        cgroups (on another core), or, when ``defer``, when we are idle (or
        at start, whichever comes first)."""
        self._discard(spec.id)
        stdin_w = -1
        if spec.tty:  # a terminal of the container's devpts; its output is "stdout"
            stdio, child_ends, streams = None, [], []
        else:
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            if stdin_open:  # a pipe we keep open: the process reads until an attach closes it
                stdin_r, stdin_w = os.pipe2(os.O_CLOEXEC)
            else:
                stdin_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            stdio, child_ends = (stdin_r, out_w, err_w), [out_w, err_w, stdin_r]
            streams = [(out_r, "stdout"), (err_r, "stderr")]
        started: dict = {}
        # The PID 1 opens the parent groups at once: the first container of
        # a parent makes them before it starts, all others in parallel.
        early = any(not os.path.isdir(os.path.dirname(os.path.dirname(path)))
                    for path in spec.cgroup_tasks)
        try:
            if early:
                self._fresh_cgroups(spec.id, limits)
            elif self.cgroups is not None:  # the last run's: the new PID 1 joins what it finds
                self.cgroups.destroy(spec.id)
            pending = self._pending(spec, stdio, lambda pid: started.update(time=process.start_time(pid)))
        except BaseException:
            for fd in [fd for fd, _ in streams] + ([stdin_w] if stdin_w >= 0 else []):
                os.close(fd)
            raise
        finally:
            for fd in child_ends:
                os.close(fd)
        prepared = _Prepared(pending, key, spec, streams, started["time"],
                             cgroup_limits=None if early else limits, stdin=stdin_w,
                             stdin_open=stdin_open)
        if not defer:
            try:
                self._make_cgroups(spec.id, prepared)
            except BaseException:
                prepared.cancel()
                raise
        self.prepared[spec.id] = prepared
        self.prepared_pids[pending.pid] = spec.id
        return prepared

    def _make_cgroups(self, container: str, prepared: _Prepared) -> None:
        """Its PID 1 may be joining them as they appear: nothing is destroyed
        here (a failure is kept for start, which discards the container)."""
        limits, prepared.cgroup_limits = prepared.cgroup_limits, None
        if limits is not None and self.cgroups is not None:
            try:
                self.cgroups.create(container)
                self.cgroups.apply(container, Limits(**limits))
            except RuntimeFailure as exc:
                prepared.cgroup_error = str(exc)

    def _fresh_cgroups(self, container: str, limits: dict) -> None:
        """Before its PID 1 exists: the last run's groups go, new ones come."""
        if self.cgroups is None:
            return
        self.cgroups.destroy(container)
        self.cgroups.create(container)
        try:
            self.cgroups.apply(container, Limits(**limits))
        except BaseException:
            self.cgroups.destroy(container)
            raise

    def _pending(self, spec: Spec, stdio, add_to_cgroup) -> process.Pending:
        spare, self.spare = self.spare, None
        if spare is not None and "pid" in spec.namespaces:
            try:
                return spare.hand(spec, stdio, add_to_cgroup)
            except process.SpareGone:
                pass
        elif spare is not None:
            spare.discard()
        return process.prepare(self.sys, spec, stdio, add_to_cgroup)

    def _discard(self, container: str) -> bool:
        """Kill a prepared PID 1 and remove the cgroups made for it."""
        prepared = self.prepared.pop(container, None)
        if prepared is None:
            return False
        self.prepared_pids.pop(prepared.pending.pid, None)
        prepared.cancel()
        if self.cgroups is not None:
            self.cgroups.destroy(container)
        return True

    def _prepared_for(self, request: dict) -> _Prepared | None:
        """The PID 1 prepared under the request's key, prepared now if there
        is none (or one of another spec) and the request has the spec."""
        prepared = self.prepared.get(request["id"])
        if prepared is None or prepared.key != request["key"]:
            if "spec" not in request:
                return None
            prepared = self._prepare(Spec.from_json(request["spec"]), request["key"],
                                     request.get("limits") or {}, bool(request.get("stdin_open")))
        return prepared

    def _netns(self, request: dict) -> dict:
        try:
            prepared = self._prepared_for(request)
        except RuntimeFailure as exc:
            self._discard(request["id"])
            return {"error": str(exc)}
        if prepared is None:
            return {"unprepared": True}
        fd = process.own_namespace(prepared.pending.pid, "net")
        if fd is None:
            return {"dead": True}
        return {"ok": True, "pid": prepared.pending.pid, "_fds": [fd], "_close": [fd]}

    def _start(self, request: dict) -> dict:
        """Let the prepared PID 1 exec (preparing it first if there is none,
        or if it was made from another spec: without a spec in the request,
        that answers ``{"unprepared": true}``)."""
        container = request["id"]
        try:
            prepared = self._prepared_for(request)
            if prepared is None:
                return {"unprepared": True}
            if prepared.cgroup_limits is not None:
                self._make_cgroups(container, prepared)
            if prepared.cgroup_error:
                raise RuntimeFailure(prepared.cgroup_error)
            if self.cgroups is not None and not self.cgroups.exists(container):
                raise RuntimeFailure(f"the cgroup of container {container} is gone")
        except RuntimeFailure as exc:
            self._discard(container)
            return {"error": str(exc)}
        spec = prepared.spec
        del self.prepared[spec.id]
        self.prepared_pids.pop(prepared.pending.pid, None)
        self.store.delete("exits", spec.id)  # of the last run
        try:
            launched = prepared.pending.go(self._cgroup_adder(spec))
        except RuntimeFailure as exc:
            if self.cgroups is not None and spec.cgroup:
                self.cgroups.destroy(spec.cgroup)
            prepared.close_ends()  # go has reaped it
            return {"error": str(exc)}
        if prepared.stdin_open:  # with a tty, input goes to the terminal
            stdin = os.dup(launched.master_fd) if spec.tty else prepared.stdin
            self.inputs[spec.id] = (stdin, bool(request.get("stdin_once")))
            prepared.stdin = -1
        streams = [(launched.master_fd, "stdout")] if spec.tty else prepared.streams
        if spec.tty:  # a copy of our own: resize must never reach a reused fd number
            self.terminals[spec.id] = os.dup(launched.master_fd)
        writer = LogWriter(Path(request["log"]), **request.get("log_options", {}))
        for fd, stream in streams:
            os.set_blocking(fd, False)
            self.writers[fd] = writer
            self.selector.register(fd, selectors.EVENT_READ, ("log", stream))
        self.open_pipes[spec.id] = {fd for fd, _ in streams}
        self.children[launched.pid] = spec.id
        self._hold_mounts(spec.id, launched.pid)
        self.store.write("runs", spec.id, {"pid": launched.pid, "pid_start_time": prepared.start_time,
                                           "started_at": time.time()})
        return {"pid": launched.pid, "start_time": prepared.start_time}

    def _resize(self, container: str, height: int, width: int) -> dict:
        master = self.terminals.get(container)
        if master is None:
            return {"error": f"container {container} is not running with a tty"}
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        return {"ok": True}

    def _stdin(self, container: str) -> dict:
        """An fd that writes to the container's stdin (attach). StdinOnce: the
        only one, ours is closed, so the process sees EOF when the caller
        closes it; else a copy."""
        if container not in self.inputs:
            return {"error": f"container {container} is not running with an open stdin"}
        fd, once = self.inputs[container]
        if once:
            del self.inputs[container]
            return {"ok": True, "_fds": [fd], "_close": [fd]}
        copy = os.dup(fd)
        return {"ok": True, "_fds": [copy], "_close": [copy]}

    def _hold_mounts(self, container: str, pid: int) -> None:
        """Keep the container's mount namespace alive past its PID 1: tearing
        it down waits for an RCU grace period, which would come between the
        exit and its exit record. Let go after the record is written."""
        try:
            self.mount_namespaces[container] = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            pass  # gone already

    def _idle_work(self) -> bool:
        """One piece of what waits for a moment without requests: the cgroups
        of a prepared container, a spare process. False if there was none."""
        for container, prepared in self.prepared.items():
            if prepared.cgroup_limits is not None:
                self._make_cgroups(container, prepared)
                return True
        if self.spare is None and not self.stopping:
            try:
                self.spare = process.Spare(self.sys)
            except (OSError, RuntimeFailure) as exc:  # prepare then forks as it needs to
                print(f"supervisor: cannot fork a spare process: {exc}", file=pysys.stderr, flush=True)
            return True
        return False

    def _cgroup_adder(self, spec: Spec):
        """cgroup v2: we put the process in its group; on v1 it moves itself."""
        def add(pid: int) -> None:
            if self.cgroups is not None and spec.cgroup and not spec.cgroup_tasks:
                self.cgroups.add(spec.cgroup, pid)
        return add

    # -- events -------------------------------------------------------------------
    def _on_log(self, fd: int, stream: str) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # a terminal whose last process is gone answers EIO
            data = b""
        writer = self.writers[fd]
        if data:
            writer.write(stream, data)
            return
        writer.flush(stream)
        self.selector.unregister(fd)
        os.close(fd)
        del self.writers[fd]
        for pipes in self.open_pipes.values():
            pipes.discard(fd)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            container = self.children.pop(pid, None)
            if container is None:
                failed = self.prepared_pids.pop(pid, None)
                if failed is not None:  # died setting up: start reports why
                    self.prepared[failed].dead = True
                continue  # or an orphan of a container, adopted by us as subreaper
            self._drain(container)
            code = os.waitstatus_to_exitcode(status)
            if code < 0:  # killed by a signal: docker reports 128 + signal
                code = 128 - code
            oom = bool(self.cgroups and self.cgroups.oom_killed(container)) if code == 137 else False
            self.store.write("exits", container, {
                "pid": pid, "exit_code": code, "oom_killed": oom,
                "finished_at": time.time()})
            held = self.mount_namespaces.pop(container, None)
            if held is not None:
                os.close(held)
            stdin, _ = self.inputs.pop(container, (-1, False))
            for fd in (stdin, self.terminals.pop(container, -1)):
                if fd >= 0:
                    os.close(fd)

    def _drain(self, container: str) -> None:
        for fd in sorted(self.open_pipes.pop(container, ())):
            stream = self.selector.get_key(fd).data[1]
            while fd in self.writers:
                self._on_log(fd, stream)

    # -- loop ---------------------------------------------------------------------
    def serve(self, listener: socket.socket) -> None:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        self.selector.register(listener, selectors.EVENT_READ, ("listen", None))
        self.selector.register(wake_r, selectors.EVENT_READ, ("wake", None))
        idle = True  # there may be idle work
        while not (self.stopping and not self.children):
            events = self.selector.select(timeout=0 if idle else 1.0)
            if not events and idle:
                idle = self._idle_work()
            for key, _ in events:
                kind, stream = key.data
                if kind == "listen":
                    self._serve_one(listener)
                    idle = True
                elif kind == "wake":
                    try:
                        os.read(wake_r, 4096)
                    except BlockingIOError:
                        pass
                    self._reap()
                elif key.fd in self.writers:  # (a reap in this batch may have drained and closed it)
                    self._on_log(key.fd, stream)
            self._reap()
        # No requests from here on: a client that comes now finds no socket
        # and starts the next supervisor (which waits for our lock) instead of
        # being reset by a listener about to close.
        try:
            os.unlink(listener.getsockname())
        except OSError:
            pass
        self.selector.unregister(listener)
        listener.close()
        if self.spare is not None:
            self.spare.discard()
            process.reap(self.spare.pid)
            self.spare = None
        for container in list(self.prepared):
            self._discard(container)

    def _serve_one(self, listener: socket.socket) -> None:
        connection, _ = listener.accept()
        with connection:
            connection.settimeout(30)
            data = _read_line(connection)
            if not data:
                return
            try:
                reply = self.handle(json.loads(data))
            except Exception as exc:  # noqa: BLE001 - a bad request must not stop us
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            fds, closing = reply.pop("_fds", []), reply.pop("_close", [])
            try:
                line = json.dumps(reply).encode() + b"\n"
                if fds:  # passed with the first byte (SCM_RIGHTS)
                    socket.send_fds(connection, [line[:1]], fds)
                    line = line[1:]
                connection.sendall(line)
            finally:
                for fd in closing:
                    os.close(fd)
        while self.after:
            self.after.pop(0)()


def request(run: Path, message: dict, timeout: float = 30) -> dict:
    """Send one request to the supervisor of ``run``; raises OSError if none listens."""
    with _connect(run, timeout) as connection:
        reply, fds = _exchange(connection, run, message)
    for fd in fds:
        os.close(fd)
    return reply


def request_fd(run: Path, message: dict, timeout: float = 30) -> tuple[dict, int | None]:
    """``request`` for a reply that may carry a file descriptor (the caller's)."""
    with _connect(run, timeout) as connection:
        reply, fds = _exchange(connection, run, message)
    for extra in fds[1:]:
        os.close(extra)
    return reply, (fds[0] if fds else None)


def call(root: Path, run: Path, message: dict, cgroup_parent: str = "dockyard",
         timeout: float = 30) -> dict:
    """``request``, starting the supervisor first when none listens. Only a
    failed connect starts it: a request that was sent is never sent again."""
    reply, fd = call_fd(root, run, message, cgroup_parent, timeout)
    if fd is not None:
        os.close(fd)
    return reply


def call_fd(root: Path, run: Path, message: dict, cgroup_parent: str = "dockyard",
            timeout: float = 30) -> tuple[dict, int | None]:
    """``call`` for a reply that may carry a file descriptor (the caller's)."""
    try:
        connection = _connect(run, timeout)
    except (FileNotFoundError, ConnectionRefusedError):
        ensure_running(root, run, cgroup_parent)
        connection = _connect(run, timeout)
    with connection:
        reply, fds = _exchange(connection, run, message)
    for extra in fds[1:]:
        os.close(extra)
    return reply, (fds[0] if fds else None)


def _connect(run: Path, timeout: float) -> socket.socket:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(timeout)
        connection.connect(str(run / SOCKET))
    except BaseException:
        connection.close()
        raise
    return connection


def _exchange(connection: socket.socket, run: Path, message: dict) -> tuple[dict, list[int]]:
    connection.sendall(json.dumps(message).encode() + b"\n")
    data, fds, _, _ = socket.recv_fds(connection, 65536, 4)
    if data and not data.endswith(b"\n"):
        rest = _read_line(connection)
        data = data + rest if rest else b""
    if not data:
        for fd in fds:
            os.close(fd)
        raise ConnectionError(f"the supervisor of {run} closed the connection without an answer")
    return json.loads(data), fds


def _read_line(connection: socket.socket) -> bytes:
    """One JSON line of the protocol (b"" if the peer closed first)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = connection.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


def ensure_running(root: Path, run: Path, cgroup_parent: str = "dockyard",
                   timeout: float = 10) -> None:
    """Start the supervisor for (root, run) unless one answers."""
    try:
        request(run, {"op": "ping"}, timeout=2)
        return
    except OSError:
        pass
    run.mkdir(parents=True, exist_ok=True)
    log = open(run / "supervisor.log", "ab")
    import subprocess
    subprocess.Popen([pysys.executable, "-m", "engine.containers.supervisor",
                      "--root", str(root), "--run", str(run), "--cgroup-parent", cgroup_parent],
                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                     close_fds=True)
    log.close()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request(run, {"op": "ping"}, timeout=2)
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeFailure(f"the supervisor did not start; see {run / 'supervisor.log'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dockyard-supervisor")
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--run", required=True, type=Path)
    parser.add_argument("--cgroup-parent", default="dockyard")
    args = parser.parse_args(argv)
    args.run.mkdir(parents=True, exist_ok=True)
    lock = open(args.run / LOCK, "w")
    deadline = time.monotonic() + 10
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if (args.run / SOCKET).exists() or time.monotonic() > deadline:
            return 0  # another supervisor serves this run dir
        time.sleep(0.01)  # the last one is on its way out (it let go of the socket): wait for it
    s.Syscalls().prctl(s.PR_SET_CHILD_SUBREAPER, 1)
    from engine.runtime import cgroups
    driver = cgroups.detect(parent=args.cgroup_parent)
    path = args.run / SOCKET
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    os.chmod(path, 0o600)
    listener.listen(64)
    try:
        Supervisor(args.root, args.run, driver).serve(listener)
    finally:
        path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    pysys.exit(main())
