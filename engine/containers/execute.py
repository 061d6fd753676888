"""``exec``: a process run in a running container with its namespaces,
cgroup, root, environment, user and security (engine.runtime.nsexec), its
output collected and its exit code returned. The calling process is the
exec'd process's parent and reaps it."""
from __future__ import annotations

import os
import threading

from engine.runtime import nsexec, sys as syscalls

from . import config as merge, lifecycle
from .errors import InvalidRequest


def exec_run(service, ref: str, cmd: list[str], *, user: str | None = None,
             env: list[str] | None = None, workdir: str | None = None,
             stdin: bytes | None = None, timeout: float | None = None) -> tuple[int, bytes, bytes]:
    """Run ``cmd`` in the running container, with its namespaces, cgroup,
    root, environment, user and security; waits and returns (exit code,
    stdout, stderr). The caller's process is the exec'd one's parent."""
    record = service._find(ref)
    lifecycle.check("exec", service.state(record), record["name"])
    spec = service._spec(record)
    uid, gid, groups = merge.user(user, service._read_image_file(record)) if user else (
        spec.uid, spec.gid, spec.groups)
    pipes = [os.pipe() for _ in range(3)]
    stdio = (pipes[0][0], pipes[1][1], pipes[2][1])
    try:
        child = nsexec.spawn_in(
            syscalls.Syscalls(), record["pid"], list(cmd), spec.env + list(env or []),
            workdir or spec.cwd, uid, gid, groups, spec.capabilities,
            bytes.fromhex(spec.seccomp_filter), spec.no_new_privileges, stdio,
            lambda pid: service.cgroups.add(record["id"], pid), seccomp_flags=spec.seccomp_flags)
    except Exception as exc:
        for read, write in pipes:
            os.close(read)
            os.close(write)
        raise InvalidRequest(str(exc)) from None
    for fd in stdio:
        os.close(fd)
    out: dict[int, bytes] = {}

    def drain(fd: int) -> None:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        out[fd] = b"".join(chunks)
        os.close(fd)
    readers = [threading.Thread(target=drain, args=(pipes[i][0],)) for i in (1, 2)]
    for reader in readers:
        reader.start()
    if stdin:
        os.write(pipes[0][1], stdin)
    os.close(pipes[0][1])
    _, status = os.waitpid(child.pid, 0)
    for reader in readers:
        reader.join(timeout)
    code = os.waitstatus_to_exitcode(status)
    return (128 - code if code < 0 else code), out.get(pipes[1][0], b""), out.get(pipes[2][0], b"")
