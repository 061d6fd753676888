"""Docker's seccomp profiles, compiled by us into a classic BPF program and
installed in the container's child on its way to exec.

Owns: choosing the profile (``profile_for``: ``privileged``,
``security_opt: [seccomp=unconfined|builtin|PATH|JSON]``), docker's default
profile (``default_profile``, moby's profiles/seccomp/default.json carried as
data in ``seccomp_default.json``), compiling a docker-format profile for
x86_64 (``build_filter``, pure, testable without root) and installing it
(``apply``, through ``Syscalls.seccomp_set_filter``). Imports nothing above
``engine.runtime``.

Mechanism: our own BPF generator, not libseccomp. Measured and decided:
PyPI's bindings are ``pyseccomp`` (0.1.2, last release 2021, ctypes onto
libseccomp.so: a second ctypes user and a C library loaded into the forked
child) and ``seccompy`` (0.2.0, beta, one vendor); Debian's python3-seccomp
serves only the system Python. Docker's default profile compiles here in
about 1.5 ms (in the engine, before the fork; the child only installs it, about
0.8 ms) into under 200 instructions, of which a system call runs about 11; the
linear filter libseccomp 2.5.4 makes of the same profile has 337 and runs about
200. Being a pure function of (profile, capabilities), the program is checked
without root by running it in a BPF interpreter (tests/unit/test_seccomp.py);
checked once against libseccomp's own export for every x86_64 number and a
set of argument values, the decisions agreed except for calls libseccomp 2.5.4
does not know (uretprobe, 457-466), which we allow as newer libseccomp does.

The program, in order:
1. arch != AUDIT_ARCH_X86_64 -> KILL_PROCESS; x32 numbers (bit 30) -> KILL_PROCESS
   (but -1, a tracer skipping a call, gets the default action, as in libseccomp).
   Docker also admits i386 and x32 (the profile's subArchitectures); we do not:
   a 32-bit binary dies of SIGSYS at its first system call.
2. a binary search on the syscall number over intervals of equal decision,
   so any call costs about log2(intervals) comparisons, not one per rule;
3. per syscall, its argument rules (64-bit comparisons made of two 32-bit
   ones), then its plain action, then the profile's default action.
Like runc, numbers above the highest one the profile names return ENOSYS
(not the default EPERM) unless the default action allows, so that libc falls
back from system calls newer than the profile; and like runc, a rule with two
conditions on one argument is split into one rule per condition (OR), other
conditions are ANDed. Names with no x86_64 number (``_llseek``, ``socketcall``)
are skipped, as libseccomp does.

Docker's includes/excludes are honoured: ``caps`` against the container's
capability mask, ``arches`` against "amd64", ``minKernel`` against ``kernel``.

Where it goes in the child (see capabilities.py for the whole order): with
no_new_privs, as the last step before execve; without, before the capabilities
are reduced, while CAP_SYS_ADMIN is still held (the kernel demands one or the
other), as runc does.
"""
from __future__ import annotations

import copy
import json
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .capabilities import NUMBERS as CAPABILITY_NUMBERS

# x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl, 64-bit
# and common ABIs, up to Linux 6.18): names in number order, "@N" jumps to N.
_TABLE = """
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction
rt_sigprocmask rt_sigreturn ioctl pread64 pwrite64 readv writev access pipe select sched_yield
mremap msync mincore madvise shmget shmat shmctl dup dup2 pause nanosleep getitimer alarm
setitimer getpid sendfile socket connect accept sendto recvfrom sendmsg recvmsg shutdown bind
listen getsockname getpeername socketpair setsockopt getsockopt clone fork vfork execve exit
wait4 kill uname semget semop semctl shmdt msgget msgsnd msgrcv msgctl fcntl flock fsync
fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir rmdir creat link unlink
symlink readlink chmod fchmod chown fchown lchown umask gettimeofday getrlimit getrusage sysinfo
times ptrace getuid syslog getgid setuid setgid geteuid getegid setpgid getppid getpgrp setsid
setreuid setregid getgroups setgroups setresuid getresuid setresgid getresgid getpgid setfsuid
setfsgid getsid capget capset rt_sigpending rt_sigtimedwait rt_sigqueueinfo rt_sigsuspend
sigaltstack utime mknod uselib personality ustat statfs fstatfs sysfs getpriority setpriority
sched_setparam sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max
sched_get_priority_min sched_rr_get_interval mlock munlock mlockall munlockall vhangup
modify_ldt pivot_root _sysctl prctl arch_prctl adjtimex setrlimit chroot sync acct settimeofday
mount umount2 swapon swapoff reboot sethostname setdomainname iopl ioperm create_module
init_module delete_module get_kernel_syms query_module quotactl nfsservctl getpmsg putpmsg
afs_syscall tuxcall security gettid readahead setxattr lsetxattr fsetxattr getxattr lgetxattr
fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr tkill time futex
sched_setaffinity sched_getaffinity set_thread_area io_setup io_destroy io_getevents io_submit
io_cancel get_thread_area lookup_dcookie epoll_create epoll_ctl_old epoll_wait_old
remap_file_pages getdents64 set_tid_address restart_syscall semtimedop fadvise64 timer_create
timer_settime timer_gettime timer_getoverrun timer_delete clock_settime clock_gettime
clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl tgkill utimes vserver mbind
set_mempolicy get_mempolicy mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify
mq_getsetattr kexec_load waitid add_key request_key keyctl ioprio_set ioprio_get inotify_init
inotify_add_watch inotify_rm_watch migrate_pages openat mkdirat mknodat fchownat futimesat
newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat faccessat pselect6 ppoll
unshare set_robust_list get_robust_list splice tee sync_file_range vmsplice move_pages utimensat
epoll_pwait signalfd timerfd_create eventfd fallocate timerfd_settime timerfd_gettime accept4
signalfd4 eventfd2 epoll_create1 dup3 pipe2 inotify_init1 preadv pwritev rt_tgsigqueueinfo
perf_event_open recvmmsg fanotify_init fanotify_mark prlimit64 name_to_handle_at
open_by_handle_at clock_adjtime syncfs sendmmsg setns getcpu process_vm_readv process_vm_writev
kcmp finit_module sched_setattr sched_getattr renameat2 seccomp getrandom memfd_create
kexec_file_load bpf execveat userfaultfd membarrier mlock2 copy_file_range preadv2 pwritev2
pkey_mprotect pkey_alloc pkey_free statx io_pgetevents rseq uretprobe @424 pidfd_send_signal
io_uring_setup io_uring_enter io_uring_register open_tree move_mount fsopen fsconfig fsmount
fspick pidfd_open clone3 close_range openat2 pidfd_getfd faccessat2 process_madvise epoll_pwait2
mount_setattr quotactl_fd landlock_create_ruleset landlock_add_rule landlock_restrict_self
memfd_secret process_mrelease futex_waitv set_mempolicy_home_node cachestat fchmodat2
map_shadow_stack futex_wake futex_wait futex_requeue statmount listmount lsm_get_self_attr
lsm_set_self_attr lsm_list_modules mseal setxattrat getxattrat listxattrat removexattrat
open_tree_attr file_getattr file_setattr"""


def _parse_table(text: str) -> dict[str, int]:
    numbers, number = {}, 0
    for word in text.split():
        if word.startswith("@"):
            number = int(word[1:])
            continue
        numbers[word] = number
        number += 1
    return numbers


SYSCALLS = _parse_table(_TABLE)
NATIVE_ARCH = "amd64"  # docker's name for it in includes/excludes
AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
EPERM, ENOSYS = 1, 38
BPF_MAXINSNS = 4096

# classic BPF (linux/bpf_common.h): the few instructions a filter needs
LD_W_ABS, ALU_AND_K, JA, JEQ_K, JGT_K, JGE_K, JSET_K, RET_K = 0x20, 0x54, 0x05, 0x15, 0x25, 0x35, 0x45, 0x06
# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6]
OFFSET_NR, OFFSET_ARCH = 0, 4

# seccomp return values (linux/seccomp.h)
RET_KILL_PROCESS, RET_KILL_THREAD, RET_TRAP = 0x80000000, 0x00000000, 0x00030000
RET_ERRNO, RET_TRACE, RET_LOG, RET_ALLOW = 0x00050000, 0x7FF00000, 0x7FFC0000, 0x7FFF0000
_ACTIONS = {"SCMP_ACT_KILL": RET_KILL_THREAD, "SCMP_ACT_KILL_THREAD": RET_KILL_THREAD,
            "SCMP_ACT_KILL_PROCESS": RET_KILL_PROCESS, "SCMP_ACT_TRAP": RET_TRAP,
            "SCMP_ACT_ERRNO": RET_ERRNO, "SCMP_ACT_TRACE": RET_TRACE,
            "SCMP_ACT_LOG": RET_LOG, "SCMP_ACT_ALLOW": RET_ALLOW}
_ALLOWING = (RET_ALLOW, RET_LOG)  # plus TRACE, by its high bits (runc's isAllowAction)
_FLAGS = {"SECCOMP_FILTER_FLAG_LOG": 2, "SECCOMP_FILTER_FLAG_SPEC_ALLOW": 4,
          "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV": 32}
_OPS = ("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE",
        "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ")
_DATA = Path(__file__).with_name("seccomp_default.json")


@dataclass(frozen=True)
class Condition:
    index: int
    op: str
    value: int
    value_two: int = 0


@dataclass(frozen=True)
class Rule:
    conditions: tuple[Condition, ...]
    action: int


@lru_cache(maxsize=1)
def _default_text() -> str:
    return _DATA.read_text(encoding="utf-8")


def default_profile() -> dict:
    """Docker's default profile (a fresh copy: callers may change it)."""
    return copy.deepcopy(_parse_profile(_default_text()))


def _parse_profile(text: str) -> dict:
    try:
        profile = json.loads(text)
    except ValueError as error:
        raise ValueError(f"Decoding seccomp profile failed: {error}") from None
    if not isinstance(profile, dict):
        raise ValueError("Decoding seccomp profile failed: not a JSON object")  # noqa: TRY004 - one error type for a bad profile
    return profile


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ValueError(f"opening seccomp profile ({path}) failed: {error.strerror}") from None


def profile_for(security_opt, privileged: bool, *, read_text=_read_text) -> dict | None:
    """The profile a container runs under, or None for none (docker's rules).

    ``seccomp=unconfined`` -> None; privileged without an explicit profile ->
    None; ``seccomp=builtin`` or nothing -> the default; ``seccomp=<JSON>``
    (what the docker CLI sends) or ``seccomp=PATH`` -> that profile. The old
    ``seccomp:VALUE`` spelling is accepted. A profile without defaultAction and
    syscalls disables seccomp, as in docker.
    """
    value = None
    for option in security_opt or ():
        key, sep, rest = option.partition("=")
        if not sep:
            key, sep, rest = option.partition(":")
        if key.strip() == "seccomp" and sep:
            value = rest.strip()
    if value == "unconfined" or (privileged and not value):
        return None
    if not value or value == "builtin":
        return default_profile()
    profile = _parse_profile(value if value.startswith("{") else read_text(value))
    if not profile.get("defaultAction") and not profile.get("syscalls"):
        return None
    return profile


def kernel_version(release: str) -> tuple[int, int]:
    """``os.uname().release`` ("6.18.44-fc") -> (6, 18), for ``minKernel``."""
    parts = release.split("-")[0].split(".")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def filter_flags(profile: dict) -> int:
    """The profile's ``flags`` as seccomp(2) flags; unsupported ones are errors."""
    flags = 0
    for name in profile.get("flags") or ():
        if name not in _FLAGS:
            raise ValueError(f"unsupported seccomp flag {name!r}")
        flags |= _FLAGS[name]
    return flags


def build_filter(profile: dict, capabilities: int, *, kernel: tuple[int, int] | None = None) -> bytes:
    """The BPF program (struct sock_filter[], native endian) for ``profile``
    in a container whose capability mask is ``capabilities``. ``kernel`` is
    (major, minor) for ``minKernel`` rules (``kernel_version(os.uname().release)``);
    None assumes a current kernel."""
    if profile.get("architectures") and profile.get("archMap"):
        raise ValueError("both 'architectures' and 'archMap' are specified in the seccomp profile, "
                         "use either 'architectures' or 'archMap'")
    if not profile.get("defaultAction"):
        raise ValueError("seccomp profile has no defaultAction")
    default = _action(profile["defaultAction"], profile.get("defaultErrnoRet"))
    rules = _resolve(profile, capabilities, kernel)
    blocks = {number: _syscall_block(rules[number], default) for number in sorted(rules)}
    enosys_above = None if _allows(default) or not rules else max(rules)
    code = _prologue(default) + _tree(_intervals(blocks, (_ret(default),), enosys_above))
    if len(code) > BPF_MAXINSNS:
        raise ValueError(f"seccomp profile compiles to {len(code)} instructions, over {BPF_MAXINSNS}")
    return b"".join(struct.pack("=HBBI", *instruction) for instruction in code)


def apply(sys, program: bytes, flags: int = 0) -> None:
    """Install ``program`` on the calling process (see the module docstring for when)."""
    sys.seccomp_set_filter(program, flags)


def _allows(action: int) -> bool:
    return action in _ALLOWING or action & 0xFFFF0000 == RET_TRACE


def _action(name: str, errno_ret: int | None) -> int:
    if name not in _ACTIONS:
        raise ValueError(f"unsupported seccomp action {name!r}")
    value = _ACTIONS[name]
    if value in (RET_ERRNO, RET_TRACE):
        value |= (EPERM if errno_ret is None else int(errno_ret)) & 0xFFFF
    return value


def _selected(entry: dict, capabilities: int, kernel: tuple[int, int] | None) -> bool:
    def held(name: str) -> bool:
        return bool(capabilities >> CAPABILITY_NUMBERS.get(name, 64) & 1)

    excludes, includes = entry.get("excludes") or {}, entry.get("includes") or {}
    if NATIVE_ARCH in (excludes.get("arches") or ()):
        return False
    if any(held(name) for name in excludes.get("caps") or ()):
        return False
    if excludes.get("minKernel") and (kernel is None or kernel >= kernel_version(excludes["minKernel"])):
        return False
    if includes.get("arches") and NATIVE_ARCH not in includes["arches"]:
        return False
    if not all(held(name) for name in includes.get("caps") or ()):
        return False
    minimum = includes.get("minKernel")
    return not (minimum and kernel is not None and kernel < kernel_version(minimum))


def _conditions(args: list[dict]) -> list[tuple[Condition, ...]]:
    conditions = []
    for arg in args:
        if arg.get("op") not in _OPS:
            raise ValueError(f"unsupported seccomp comparison {arg.get('op')!r}")
        condition = Condition(int(arg["index"]), arg["op"], int(arg.get("value", 0)),
                              int(arg.get("valueTwo", 0)))
        if not 0 <= condition.index < 6:
            raise ValueError(f"seccomp argument index {condition.index} is not 0..5")
        if not (0 <= condition.value < 1 << 64 and 0 <= condition.value_two < 1 << 64):
            raise ValueError(f"seccomp argument value out of range in {arg}")
        conditions.append(condition)
    indexes = [condition.index for condition in conditions]
    if len(set(indexes)) < len(indexes):
        return [(condition,) for condition in conditions]
    return [tuple(conditions)]


def _resolve(profile: dict, capabilities: int, kernel) -> dict[int, list[Rule]]:
    rules: dict[int, list[Rule]] = {}
    for entry in profile.get("syscalls") or ():
        names = list(entry.get("names") or ())
        if entry.get("name"):
            if names:
                raise ValueError("both 'name' and 'names' are specified in the seccomp profile, "
                                 "use either 'name' or 'names'")
            names = [entry["name"]]
        if not _selected(entry, capabilities, kernel):
            continue
        action = _action(entry.get("action", ""), entry.get("errnoRet"))
        for conditions in _conditions(entry.get("args") or []):
            for name in names:
                if name in SYSCALLS:
                    rules.setdefault(SYSCALLS[name], []).append(Rule(conditions, action))
    return rules


class _Block:
    """A straight run of instructions whose jumps name labels inside it."""

    def __init__(self) -> None:
        self.code: list[list] = []
        self.labels: dict[str, int] = {}

    def emit(self, code: int, k: int = 0, jt: int | str = 0, jf: int | str = 0) -> None:
        self.code.append([code, jt, jf, k & 0xFFFFFFFF])

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def resolved(self) -> tuple[tuple[int, int, int, int], ...]:
        out = []
        for index, (code, jt, jf, k) in enumerate(self.code):
            jt, jf = (self.labels[j] - index - 1 if isinstance(j, str) else j for j in (jt, jf))
            if not (0 <= jt <= 255 and 0 <= jf <= 255):
                raise ValueError("seccomp rule too long for a BPF conditional jump")
            out.append((code, jt, jf, k))
        return tuple(out)


def _compare(block: _Block, c: Condition, ok: str, fail: str) -> None:
    """Jump to ``ok`` or ``fail`` on the 64-bit comparison of argument ``c.index``."""
    low, high = 16 + 8 * c.index, 20 + 8 * c.index
    if c.op == "SCMP_CMP_MASKED_EQ":
        block.emit(LD_W_ABS, high)
        block.emit(ALU_AND_K, c.value >> 32)
        block.emit(JEQ_K, c.value_two >> 32, 0, fail)
        block.emit(LD_W_ABS, low)
        block.emit(ALU_AND_K, c.value)
        block.emit(JEQ_K, c.value_two, ok, fail)
        return
    high_value, low_value = c.value >> 32, c.value
    block.emit(LD_W_ABS, high)
    if c.op in ("SCMP_CMP_EQ", "SCMP_CMP_NE"):
        equal, differ = (ok, fail) if c.op == "SCMP_CMP_EQ" else (fail, ok)
        block.emit(JEQ_K, high_value, 0, differ)
        block.emit(LD_W_ABS, low)
        block.emit(JEQ_K, low_value, equal, differ)
        return
    above, below = (ok, fail) if c.op in ("SCMP_CMP_GT", "SCMP_CMP_GE") else (fail, ok)
    block.emit(JGT_K, high_value, above, 0)
    block.emit(JEQ_K, high_value, 0, below)
    block.emit(LD_W_ABS, low)
    if c.op in ("SCMP_CMP_GT", "SCMP_CMP_LE"):
        block.emit(JGT_K, low_value, above, below)
    else:
        block.emit(JGE_K, low_value, above, below)


def _syscall_block(rules: list[Rule], default: int) -> tuple:
    """One syscall's decision: its argument rules in profile order, then its
    first plain rule's action, else the default action."""
    plain = [rule.action for rule in rules if not rule.conditions]
    fallback = plain[0] if plain else default
    block = _Block()
    for index, rule in enumerate(r for r in rules if r.conditions and r.action != fallback):
        for number, condition in enumerate(rule.conditions):
            _compare(block, condition, f"{index}.{number}", f"next{index}")
            block.label(f"{index}.{number}")
        block.emit(RET_K, rule.action)
        block.label(f"next{index}")
    block.emit(RET_K, fallback)
    return block.resolved()


def _ret(action: int) -> tuple[int, int, int, int]:
    return (RET_K, 0, 0, action)


def _prologue(default: int) -> list[tuple]:
    """Foreign arch and x32 numbers are killed; -1 (a tracer skipping a call)
    gets the default action, as libseccomp does."""
    return [(LD_W_ABS, 0, 0, OFFSET_ARCH), (JEQ_K, 1, 0, AUDIT_ARCH_X86_64), _ret(RET_KILL_PROCESS),
            (LD_W_ABS, 0, 0, OFFSET_NR), (JGE_K, 0, 3, X32_SYSCALL_BIT),
            (JEQ_K, 0, 1, 0xFFFFFFFF), _ret(default), _ret(RET_KILL_PROCESS)]


def _intervals(blocks: dict[int, tuple], default: tuple, enosys_above: int | None) -> list:
    """[(first number, block)] covering 0..2**30-1, neighbours differing."""
    intervals: list[tuple[int, tuple]] = [(0, default)]
    for number, block in blocks.items():
        intervals.append((number, block))
        intervals.append((number + 1, default))
    if enosys_above is not None:
        intervals.append((enosys_above + 1, (_ret(RET_ERRNO | ENOSYS),)))
    merged: list[tuple[int, tuple]] = []
    for start, block in intervals:
        if merged and merged[-1][0] == start:
            merged.pop()
        if not merged or merged[-1][1] != block:
            merged.append((start, block))
    return merged


def _tree(intervals: list) -> list[tuple]:
    """Binary search on the number in A: each interval's block at a leaf."""
    if len(intervals) == 1:
        return list(intervals[0][1])
    middle = len(intervals) // 2
    left, right = _tree(intervals[:middle]), _tree(intervals[middle:])
    pivot = intervals[middle][0]
    if len(left) <= 255:
        return [(JGE_K, len(left), 0, pivot)] + left + right
    return [(JGE_K, 0, 1, pivot), (JA, 0, 0, len(left))] + left + right
