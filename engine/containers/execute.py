"""``exec``: a process run in a running container with its namespaces,
cgroup, root, environment, user and security (engine.runtime.nsexec), its
output collected and its exit code returned. The calling process is the
exec'd process's parent and reaps it."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from engine.runtime import nsexec
from engine.runtime import sys as syscalls

from . import lifecycle
from .errors import InvalidRequest


@dataclass
class Exec:
    """A process started in a container: the caller's child. With a tty,
    ``master`` is its terminal (input and output); else ``stdin`` (or -1),
    ``stdout`` and ``stderr`` are the caller's ends of its pipes. The caller
    closes what it was given and reaps ``pid``."""
    pid: int
    stdin: int = -1
    stdout: int = -1
    stderr: int = -1
    master: int = -1

    def wait(self) -> int:
        """Its exit code, docker's way (128 + signal when killed)."""
        _, status = os.waitpid(self.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code


def exec_start(service, ref: str, cmd: list[str], *, user: str | None = None,
               env: list[str] | None = None, workdir: str | None = None, tty: bool = False,
               stdin: bool = True, privileged: bool = False) -> Exec:
    """Start ``cmd`` in the running container, with its namespaces, cgroup,
    root, environment, user and security (all capabilities and no seccomp
    with ``privileged``). Without ``stdin`` its standard input is /dev/null."""
    record = service._find(ref)
    lifecycle.check("exec", service.state(record), record["name"])
    spec = service._spec(record)
    uid, gid, groups = service._user(record, user) if user else (spec.uid, spec.gid, spec.groups)
    pipes = [] if tty else [os.pipe() if stdin else _null_pipe(), os.pipe(), os.pipe()]
    stdio = None if tty else (pipes[0][0], pipes[1][1], pipes[2][1])
    capabilities, seccomp_filter = spec.capabilities, bytes.fromhex(spec.seccomp_filter)
    if privileged:
        capabilities, seccomp_filter = None, b""
    try:
        child = nsexec.spawn_in(
            syscalls.Syscalls(), record["pid"], list(cmd), spec.env + list(env or []),
            workdir or spec.cwd, uid, gid, groups, capabilities, seccomp_filter,
            spec.no_new_privileges, stdio, lambda pid: service.cgroups.add(record["id"], pid), tty,
            seccomp_flags=spec.seccomp_flags)
    except Exception as exc:
        for fd in [fd for pair in pipes for fd in pair if fd >= 0]:
            os.close(fd)
        raise InvalidRequest(str(exc)) from None
    if tty:
        return Exec(child.pid, master=child.master_fd)
    for fd in stdio:
        os.close(fd)
    return Exec(child.pid, stdin=pipes[0][1], stdout=pipes[1][0], stderr=pipes[2][0])


def _null_pipe() -> tuple[int, int]:
    return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC), -1


def exec_run(service, ref: str, cmd: list[str], *, user: str | None = None,
             env: list[str] | None = None, workdir: str | None = None,
             stdin: bytes | None = None, tty: bool = False,
             timeout: float | None = None) -> tuple[int, bytes, bytes]:
    """Run ``cmd`` in the running container (``exec_start``), wait, and
    return (exit code, stdout, stderr). With ``tty`` the process has a
    terminal of the container's devpts and all its output is stdout, as in
    docker."""
    process = exec_start(service, ref, cmd, user=user, env=env, workdir=workdir, tty=tty)
    if tty:
        outputs, readers = _collect([process.master])
        inputs = process.master
    else:
        outputs, readers = _collect([process.stdout, process.stderr])
        inputs = process.stdin
    if stdin:
        os.write(inputs, stdin)
    if not tty:
        os.close(inputs)
    code = process.wait()
    for reader in readers:
        reader.join(timeout)
    return code, outputs[0], (outputs[1] if len(outputs) > 1 else b"")


def _collect(fds: list[int]) -> tuple[list[bytes], list[threading.Thread]]:
    """Read each fd to its end in a thread (a terminal ends with EIO)."""
    outputs = [b""] * len(fds)

    def drain(index: int, fd: int) -> None:
        chunks = []
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal's last process is gone
                break
            if not chunk:
                break
            chunks.append(chunk)
        outputs[index] = b"".join(chunks)
        os.close(fd)
    readers = [threading.Thread(target=drain, args=(i, fd)) for i, fd in enumerate(fds)]
    for reader in readers:
        reader.start()
    return outputs, readers
