"""Dockyard's own engine, as a client sees it: where it lives (state root,
runtime dir, socket, pid file, log), whether it answers, and starting it in
the background when it does not ("the embedded default: no set-up step").

Two starters at once never start two daemons: they take a lock around the
check and the start, and the daemon itself holds RUN/engine.pid locked.
"""
from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import DockerException

START_TIMEOUT = 20.0


class EngineStartError(DockerException):
    """The engine daemon did not start; the message names its log."""


@dataclass(frozen=True)
class Engine:
    root: Path
    run: Path
    cgroup_parent: str = "dockyard"

    @classmethod
    def from_env(cls, environment: Mapping[str, str] | None = None) -> Engine:
        environment = os.environ if environment is None else environment
        return cls(Path(environment.get("DOCKYARD_ROOT") or "/var/lib/dockyard"),
                   Path(environment.get("DOCKYARD_RUN") or "/run/dockyard"),
                   environment.get("DOCKYARD_CGROUP_PARENT") or "dockyard")

    @property
    def socket(self) -> Path:
        return self.run / "engine.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log(self) -> Path:
        return self.root / "engine.log"

    def pid(self) -> int | None:
        """The daemon's pid while one holds the runtime dir, else None."""
        try:
            with open(self.run / "engine.pid") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    text = handle.read().strip()
                    return int(text) if text.isdigit() else None
                fcntl.flock(handle, fcntl.LOCK_UN)  # nobody holds it: no daemon
                return None
        except FileNotFoundError:
            return None

    def answers(self, timeout: float = 2.0) -> bool:
        """Whether something answers ``/_ping`` on the socket."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.settimeout(timeout)
                connection.connect(str(self.socket))
                connection.sendall(b"GET /_ping HTTP/1.1\r\nHost: dockyard\r\nConnection: close\r\n\r\n")
                return connection.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def ensure_running(self, timeout: float = START_TIMEOUT) -> None:
        """Start the daemon in the background unless one answers."""
        if self.answers():
            return
        self.run.mkdir(parents=True, exist_ok=True)
        with open(self.run / "engine.start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.answers():  # another starter won
                return
            self._start(timeout)

    def _start(self, timeout: float) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            log = open(self.log, "ab")
        except OSError as error:
            raise EngineStartError(f"cannot start the Dockyard engine: its state root {self.root}: "
                                   f"{error.strerror}") from None
        with log:
            process = subprocess.Popen(
                [sys.executable, "-m", "engine.daemon", "--root", str(self.root), "--run", str(self.run),
                 "--cgroup-parent", self.cgroup_parent],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.answers():
                return
            if process.poll() is not None:
                raise EngineStartError(f"the Dockyard engine did not start (it exited with status "
                                       f"{process.returncode}); see its log: {self.log}")
            time.sleep(0.02)
        process.terminate()
        raise EngineStartError(f"the Dockyard engine did not answer within {timeout:g} s; "
                               f"see its log: {self.log}")
