"""``exec``: a process run in a running container with its namespaces,
cgroup, root, environment, user and security (engine.runtime.nsexec), its
output collected and its exit code returned. The calling process is the
exec'd process's parent and reaps it."""
from __future__ import annotations

import os
import threading

from engine.runtime import nsexec, sys as syscalls

from . import lifecycle
from .errors import InvalidRequest


def exec_run(service, ref: str, cmd: list[str], *, user: str | None = None,
             env: list[str] | None = None, workdir: str | None = None,
             stdin: bytes | None = None, tty: bool = False,
             timeout: float | None = None) -> tuple[int, bytes, bytes]:
    """Run ``cmd`` in the running container, with its namespaces, cgroup,
    root, environment, user and security; waits and returns (exit code,
    stdout, stderr). With ``tty`` the process has a terminal of the
    container's devpts and all its output is stdout, as in docker. The
    caller's process is the exec'd one's parent."""
    record = service._find(ref)
    lifecycle.check("exec", service.state(record), record["name"])
    spec = service._spec(record)
    uid, gid, groups = service._user(record, user) if user else (
        spec.uid, spec.gid, spec.groups)
    pipes = [] if tty else [os.pipe() for _ in range(3)]
    stdio = None if tty else (pipes[0][0], pipes[1][1], pipes[2][1])
    try:
        child = nsexec.spawn_in(
            syscalls.Syscalls(), record["pid"], list(cmd), spec.env + list(env or []),
            workdir or spec.cwd, uid, gid, groups, spec.capabilities,
            bytes.fromhex(spec.seccomp_filter), spec.no_new_privileges, stdio,
            lambda pid: service.cgroups.add(record["id"], pid), tty,
            seccomp_flags=spec.seccomp_flags)
    except Exception as exc:
        for fd in [fd for pair in pipes for fd in pair]:
            os.close(fd)
        raise InvalidRequest(str(exc)) from None
    if tty:
        outputs, readers = _collect([child.master_fd])
        inputs = child.master_fd
    else:
        for fd in stdio:
            os.close(fd)
        outputs, readers = _collect([pipes[1][0], pipes[2][0]])
        inputs = pipes[0][1]
    if stdin:
        os.write(inputs, stdin)
    if not tty:
        os.close(inputs)
    _, status = os.waitpid(child.pid, 0)
    for reader in readers:
        reader.join(timeout)
    code = os.waitstatus_to_exitcode(status)
    return (128 - code if code < 0 else code), outputs[0], (outputs[1] if len(outputs) > 1 else b"")


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
