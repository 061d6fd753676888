"""Capabilities and seccomp on the real kernel: forked children apply them in
the order capabilities.py documents, try what a container must not do, and
report through a pipe. Every child runs in a private mount namespace and
_exits; the parent asserts and checks that nothing is left mounted."""
from __future__ import annotations

import ctypes
import errno
import json
import os
import resource
import signal
import threading
import time

import pytest

from engine.runtime import capabilities as caps
from engine.runtime import seccomp
from engine.runtime.errors import RuntimeFailure
from engine.runtime.sys import (
    CLONE_NEWNS,
    CLONE_NEWUSER,
    MS_PRIVATE,
    MS_REC,
    PR_SET_NO_NEW_PRIVS,
    Syscalls,
)

pytestmark = [pytest.mark.root,
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root")]

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_INIT_MODULE, SYS_FINIT_MODULE, SYS_PERSONALITY, SYS_GETPID = 175, 313, 135, 39
KERNEL = seccomp.kernel_version(os.uname().release)


def raw(number: int, *args) -> int:
    """errno of a raw system call, 0 on success."""
    ctypes.set_errno(0)
    result = _libc.syscall(number, *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    return ctypes.get_errno() if result == -1 else 0


def attempt(call) -> int:
    try:
        call()
    except RuntimeFailure as failure:
        return failure.errno
    except OSError as error:
        return error.errno
    return 0


def status_caps() -> dict[str, int]:
    with open("/proc/self/status") as status:
        return {line.split(":")[0]: int(line.split()[1], 16)
                for line in status if line.startswith("Cap")}


def in_child(body, *, exec_status: bool = False):
    """Run ``body()`` in a forked child with its own mount namespace; return
    (what it reported, wait status). With ``exec_status`` the child execs
    cat /proc/self/status after ``body`` and the report is the caps it shows."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_end)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            real = Syscalls()
            real.unshare(CLONE_NEWNS)
            real.mount(None, "/", None, MS_REC | MS_PRIVATE)
            report = body(real)
            if exec_status:
                os.dup2(write_end, 1)
                os.execv("/bin/cat", ["cat", "/proc/self/status"])
            os.write(write_end, json.dumps(report).encode())
        except BaseException as error:  # noqa: BLE001 - nothing may escape a forked child
            try:
                os.write(write_end, json.dumps({"child error": repr(error)}).encode())
            finally:
                code = 1
        finally:
            os._exit(code)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode()
    if exec_status and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return {line.split(":")[0]: int(line.split()[1], 16)
                for line in text.splitlines() if line.startswith("Cap")}, status
    report = json.loads(text) if text else None
    assert not (isinstance(report, dict) and "child error" in report), report
    return report, status


def confine(real, mask: int, program: bytes | None, uid: int = 0, no_new_privs: bool = False):
    """The documented order: prepare, [nnp], seccomp early without nnp,
    user switch, finish, seccomp late with nnp."""
    caps.prepare(real, mask)
    if no_new_privs:
        real.prctl(PR_SET_NO_NEW_PRIVS, 1)
    if program and not no_new_privs:
        seccomp.apply(real, program)
    if uid:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    caps.finish(real, mask, uid)
    if program and no_new_privs:
        seccomp.apply(real, program)


@pytest.fixture(scope="module")
def held() -> int:
    return caps.held_capabilities(Syscalls())


@pytest.fixture(scope="module")
def default_mask(held) -> int:
    return caps.effective_set([], [], False, held=held)


@pytest.fixture(scope="module")
def default_program(default_mask) -> bytes:
    return seccomp.build_filter(seccomp.default_profile(), default_mask, kernel=KERNEL)


def forbidden_attempts(real, target: str) -> dict:
    return {
        "mount": attempt(lambda: real.mount("tmpfs", target, "tmpfs")),
        "unshare_ns": attempt(lambda: real.unshare(CLONE_NEWNS)),
        "unshare_user": attempt(lambda: real.unshare(CLONE_NEWUSER)),
        "init_module": raw(SYS_INIT_MODULE, None, 0, b""),
        "finit_module": raw(SYS_FINIT_MODULE, -1, b"", 0),
    }


def test_default_container_cannot_mount_or_load_modules_but_can_chown(tmp_path, default_mask,
                                                                      default_program):
    target = tmp_path / "mnt"
    target.mkdir()
    owned = tmp_path / "owned"
    owned.write_text("x")

    def body(real):
        confine(real, default_mask, default_program)
        report = forbidden_attempts(real, str(target))
        report["chown"] = attempt(lambda: os.chown(owned, 1234, 1234))
        report["personality_query"] = raw(SYS_PERSONALITY, 0xFFFFFFFF)
        report["personality_no_aslr"] = raw(SYS_PERSONALITY, 0x0040000)
        report["newer_than_profile"] = raw(1000)
        report["caps"] = status_caps()
        return report

    report, status = in_child(body)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    for name in ("mount", "unshare_ns", "unshare_user", "init_module", "finit_module"):
        assert report[name] == errno.EPERM, name
    assert report["chown"] == 0 and os.stat(owned).st_uid == 1234
    assert report["personality_query"] == 0
    assert report["personality_no_aslr"] == errno.EPERM
    assert report["newer_than_profile"] == errno.ENOSYS
    assert report["caps"] == {"CapInh": 0, "CapPrm": default_mask, "CapEff": default_mask,
                              "CapBnd": default_mask, "CapAmb": 0}
    assert not os.path.ismount(target)


def test_seccomp_alone_refuses_mount_even_with_every_capability(tmp_path, held, default_program):
    """The program for docker's default caps, in a child that keeps all of the
    engine's capabilities: only seccomp stands between it and mount."""
    target = tmp_path / "mnt"
    target.mkdir()
    report, _ = in_child(lambda real: (confine(real, held, default_program),
                                       forbidden_attempts(real, str(target)))[1])
    assert set(report.values()) == {errno.EPERM}, report
    assert not os.path.ismount(target)


def test_capabilities_alone_refuse_mount_without_seccomp(tmp_path, default_mask):
    target = tmp_path / "mnt"
    target.mkdir()
    report, _ = in_child(lambda real: (confine(real, default_mask, None),
                                       forbidden_attempts(real, str(target)))[1])
    assert report["mount"] == errno.EPERM and report["unshare_ns"] == errno.EPERM
    assert not os.path.ismount(target)


def test_cap_drop_chown_refuses_chown(tmp_path, held, default_program):
    owned = tmp_path / "owned"
    owned.write_text("x")
    mask = caps.effective_set([], ["CHOWN"], False, held=held)
    report, _ = in_child(lambda real: (confine(real, mask, default_program),
                                       attempt(lambda: os.chown(owned, 1234, 1234)))[1])
    assert report == errno.EPERM and os.stat(owned).st_uid == 0


def test_privileged_without_seccomp_mounts_tmpfs_in_a_private_namespace(tmp_path, held):
    target = tmp_path / "mnt"
    target.mkdir()
    mask = caps.effective_set([], [], True, held=held)
    assert mask == held
    assert seccomp.profile_for([], privileged=True) is None

    def body(real):
        confine(real, mask, None)
        real.unshare(CLONE_NEWNS)
        real.mount(None, "/", None, MS_REC | MS_PRIVATE)
        real.mount("tmpfs", str(target), "tmpfs", 0, "size=1m")
        (target / "inside").write_text("y")
        return {"mounted": os.path.ismount(target), "caps": status_caps()}

    report, status = in_child(body)
    assert os.WEXITSTATUS(status) == 0
    assert report["mounted"] is True
    assert report["caps"]["CapEff"] == held and report["caps"]["CapBnd"] == held
    assert not os.path.ismount(target) and not (target / "inside").exists()


def test_threads_and_fork_work_under_the_default_profile(default_mask, default_program):
    """clone3 gets ENOSYS, so glibc falls back to clone, whose flags pass."""
    def body(real):
        confine(real, default_mask, default_program)
        box = []
        thread = threading.Thread(target=lambda: box.append(os.getpid()))
        thread.start()
        thread.join()
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        _, status = os.waitpid(pid, 0)
        return {"thread": box == [os.getpid()], "fork": os.WEXITSTATUS(status)}

    report, _ = in_child(body)
    assert report == {"thread": True, "fork": 7}


def test_x32_system_calls_kill_the_process(default_mask, default_program):
    def body(real):
        confine(real, default_mask, default_program)
        raw(0x40000000 | SYS_GETPID)
        return {"survived": True}

    _, status = in_child(body)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSYS


def test_exec_as_root_keeps_the_mask(default_mask, default_program):
    shown, status = in_child(lambda real: confine(real, default_mask, default_program),
                             exec_status=True)
    assert os.WEXITSTATUS(status) == 0
    assert shown == {"CapInh": 0, "CapPrm": default_mask, "CapEff": default_mask,
                     "CapBnd": default_mask, "CapAmb": 0}


@pytest.mark.parametrize("no_new_privs", [False, True])
def test_exec_as_a_user_has_no_capabilities_but_the_bounding_set(default_mask, default_program,
                                                                 no_new_privs):
    shown, status = in_child(lambda real: confine(real, default_mask, default_program,
                                                  uid=1000, no_new_privs=no_new_privs),
                             exec_status=True)
    assert os.WEXITSTATUS(status) == 0
    assert shown == {"CapInh": 0, "CapPrm": 0, "CapEff": 0, "CapBnd": default_mask, "CapAmb": 0}


def test_a_custom_profile_from_a_file(tmp_path, default_mask):
    profile = tmp_path / "deny-mkdir.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}))
    chosen = seccomp.profile_for([f"seccomp={profile}"], privileged=False)
    program = seccomp.build_filter(chosen, default_mask, kernel=KERNEL)

    def body(real):
        confine(real, default_mask, program)
        return {"mkdir": attempt(lambda: os.mkdir(tmp_path / "d")),
                "write": attempt(lambda: (tmp_path / "f").write_text("z"))}

    report, _ = in_child(body)
    assert report == {"mkdir": errno.EACCES, "write": 0}
    assert not (tmp_path / "d").exists()


def test_loading_the_filter_is_cheap(default_mask, default_program):
    def body(real):
        started = time.perf_counter()
        seccomp.apply(real, default_program)
        return time.perf_counter() - started

    seconds, _ = in_child(body)
    assert seconds < 0.05
