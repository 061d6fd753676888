"""seccomp: profile selection and the generated BPF program, checked by
running it in a small classic-BPF interpreter over seccomp_data (no root)."""
from __future__ import annotations

import json
import struct

import pytest

from engine.runtime import capabilities as caps
from engine.runtime import seccomp
from engine.runtime.fake import FakeSyscalls

ARCH_X86_64 = 0xC000003E
ARCH_I386 = 0x40000003
ALLOW, KILL_PROCESS = 0x7FFF0000, 0x80000000
EPERM, ENOSYS = 0x50000 | 1, 0x50000 | 38
NR = seccomp.SYSCALLS
ALL_CAPS = caps.ALL_KNOWN


# --- a classic BPF interpreter, the subset the kernel accepts for seccomp -------------------

def instructions(program: bytes) -> list[tuple[int, int, int, int]]:
    assert program and len(program) % 8 == 0
    return [struct.unpack_from("=HBBI", program, offset) for offset in range(0, len(program), 8)]


def check_program(program: bytes) -> None:
    """What the kernel's seccomp_check_filter and bpf_check_classic demand that
    matters here: forward jumps inside the program, a RET last, aligned loads."""
    code = instructions(program)
    assert len(code) <= 4096
    for pc, (op, jt, jf, k) in enumerate(code):
        if op == 0x05:
            assert pc + 1 + k < len(code), f"ja out of range at {pc}"
        elif op & 0x07 == 0x05:
            assert pc + 1 + max(jt, jf) < len(code), f"jump out of range at {pc}"
        elif op == 0x20:
            assert k % 4 == 0 and k + 4 <= 64, f"bad load offset at {pc}"
    assert code[-1][0] == 0x06


def run(program: bytes, nr: int, args=(0, 0, 0, 0, 0, 0), arch: int = ARCH_X86_64) -> int:
    data = struct.pack("=iIQ6Q", nr, arch, 0x401000, *args)
    code = instructions(program)
    a = x = pc = 0
    memory = [0] * 16
    while True:
        op, jt, jf, k = code[pc]
        pc += 1
        kind, source = op & 0x07, (x if op & 0x08 else k)
        if op == 0x20:                          # ld [k]
            a = struct.unpack_from("=I", data, k)[0]
        elif op in (0x00, 0x01):                # ld #k / ldx #k
            a, x = (k, x) if op == 0x00 else (a, k)
        elif op in (0x60, 0x61):                # ld M[k] / ldx M[k]
            a, x = (memory[k], x) if op == 0x60 else (a, memory[k])
        elif op in (0x02, 0x03):                # st / stx
            memory[k] = a if op == 0x02 else x
        elif op == 0x07:                        # tax
            x = a
        elif op == 0x87:                        # txa
            a = x
        elif kind == 0x04:                      # alu
            a = _alu(op & 0xF0, a, source) & 0xFFFFFFFF
        elif op == 0x05:                        # ja
            pc += k
        elif kind == 0x05:                      # jeq / jgt / jge / jset
            taken = {0x10: a == source, 0x20: a > source, 0x30: a >= source,
                     0x40: bool(a & source)}[op & 0xF0]
            pc += jt if taken else jf
        elif op == 0x06:
            return k
        elif op == 0x16:
            return a
        else:
            raise AssertionError(f"instruction {op:#x} at {pc - 1} not handled")


def _alu(op: int, a: int, value: int) -> int:
    return {0x00: lambda: a + value, 0x10: lambda: a - value, 0x20: lambda: a * value,
            0x30: lambda: a // value, 0x40: lambda: a | value, 0x50: lambda: a & value,
            0x60: lambda: a << value, 0x70: lambda: a >> value, 0x80: lambda: -a,
            0x90: lambda: a % value, 0xA0: lambda: a ^ value}[op]()


# --- the default profile ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def default_program() -> bytes:
    return seccomp.build_filter(seccomp.default_profile(), caps.DEFAULT_MASK, kernel=(6, 18))


@pytest.fixture(scope="module")
def admin_program() -> bytes:
    return seccomp.build_filter(seccomp.default_profile(), caps.DEFAULT_MASK | 1 << 21, kernel=(6, 18))


def test_program_is_well_formed_and_small(default_program, admin_program):
    check_program(default_program)
    check_program(admin_program)
    assert len(default_program) // 8 < 400


def test_arch_is_checked_first(default_program):
    first = instructions(default_program)[:3]
    assert first[0] == (0x20, 0, 0, 4)                       # ld arch
    assert first[1][0] == 0x15 and first[1][3] == ARCH_X86_64
    assert first[2] == (0x06, 0, 0, KILL_PROCESS)
    assert run(default_program, NR["read"], arch=ARCH_I386) == KILL_PROCESS


def test_x32_numbers_are_killed(default_program):
    assert run(default_program, 0x40000000 | NR["getpid"]) == KILL_PROCESS
    assert run(default_program, 0x40000000 | 512) == KILL_PROCESS


def test_minus_one_gets_the_default_action_as_in_libseccomp(default_program):
    assert run(default_program, -1) == EPERM


@pytest.mark.parametrize("name", ["read", "write", "openat", "execve", "futex", "epoll_wait",
                                  "clone", "capset", "setuid", "setgroups", "prctl", "chown",
                                  "arch_prctl", "modify_ldt", "chroot",
                                  "ptrace", "process_vm_readv", "removexattrat", "rseq"])
def test_allowed_syscalls(default_program, name):
    assert run(default_program, NR[name]) == ALLOW


@pytest.mark.parametrize("name", ["mount", "umount2", "unshare", "setns", "pivot_root",
                                  "init_module", "finit_module", "delete_module", "reboot",
                                  "kexec_load", "bpf", "perf_event_open", "settimeofday",
                                  "open_by_handle_at", "swapon", "acct", "iopl", "syslog",
                                  "fsopen", "move_mount", "add_key", "keyctl", "io_uring_setup",
                                  "uselib", "userfaultfd"])
def test_denied_syscalls_get_eperm(default_program, name):
    assert run(default_program, NR[name]) == EPERM


def test_unknown_numbers(default_program):
    assert run(default_program, 400) == EPERM        # a hole in the table
    assert run(default_program, 1000) == ENOSYS      # newer than the profile: libc falls back
    assert run(default_program, NR["file_setattr"]) == ENOSYS


@pytest.mark.parametrize("persona, verdict", [(0, ALLOW), (8, ALLOW), (0x20000, ALLOW),
                                              (0x20008, ALLOW), (0xFFFFFFFF, ALLOW),
                                              (0x0040000, EPERM), (1, EPERM),
                                              (0x1_0000_0000, EPERM)])
def test_personality_by_argument(default_program, persona, verdict):
    assert run(default_program, NR["personality"], (persona, 0, 0, 0, 0, 0)) == verdict


@pytest.mark.parametrize("domain, verdict", [(1, ALLOW), (2, ALLOW), (16, ALLOW), (37, ALLOW),
                                             (38, EPERM), (39, ALLOW), (40, EPERM), (41, ALLOW),
                                             (1 << 32, ALLOW)])
def test_socket_families(default_program, domain, verdict):
    # AF_ALG (38) and AF_VSOCK (40) are refused; 64-bit compares, as libseccomp
    assert run(default_program, NR["socket"], (domain, 1, 0, 0, 0, 0)) == verdict


NAMESPACE_FLAGS = {"newns": 0x20000, "newuts": 0x04000000, "newipc": 0x08000000,
                   "newuser": 0x10000000, "newpid": 0x20000000, "newnet": 0x40000000,
                   "newcgroup": 0x02000000}


def test_clone_without_sys_admin_refuses_namespace_flags(default_program):
    fork_flags = 0x01200011  # CLONE_CHILD_SETTID|CLONE_CHILD_CLEARTID|SIGCHLD, as fork()
    thread_flags = 0x003D0F00
    assert run(default_program, NR["clone"], (fork_flags, 0, 0, 0, 0, 0)) == ALLOW
    assert run(default_program, NR["clone"], (thread_flags, 0, 0, 0, 0, 0)) == ALLOW
    for flag in NAMESPACE_FLAGS.values():
        assert run(default_program, NR["clone"], (fork_flags | flag, 0, 0, 0, 0, 0)) == EPERM


def test_clone3_is_enosys_without_sys_admin(default_program, admin_program):
    assert run(default_program, NR["clone3"]) == ENOSYS
    assert run(admin_program, NR["clone3"]) == ALLOW


def test_capabilities_open_syscalls(admin_program):
    for name in ("mount", "umount2", "unshare", "setns", "sethostname", "fsopen", "bpf"):
        assert run(admin_program, NR[name]) == ALLOW
    assert run(admin_program, NR["pivot_root"]) == EPERM     # docker never allows it
    assert run(admin_program, NR["clone"], (NAMESPACE_FLAGS["newuser"], 0, 0, 0, 0, 0)) == ALLOW
    assert run(admin_program, NR["init_module"]) == EPERM
    module = seccomp.build_filter(seccomp.default_profile(), 1 << caps.NUMBERS["CAP_SYS_MODULE"])
    for name in ("init_module", "finit_module", "delete_module"):
        assert run(module, NR[name]) == ALLOW
    ptrace = seccomp.build_filter(seccomp.default_profile(), 1 << caps.NUMBERS["CAP_SYS_PTRACE"])
    assert run(ptrace, NR["kcmp"]) == ALLOW and run(ptrace, NR["pidfd_getfd"]) == ALLOW


def test_min_kernel(default_program):
    old = seccomp.build_filter(seccomp.default_profile(), caps.DEFAULT_MASK, kernel=(4, 4))
    assert run(old, NR["ptrace"]) == EPERM            # docker allows ptrace from 4.8 on
    assert run(default_program, NR["ptrace"]) == ALLOW


def test_every_decision_matches_a_reference_reading_of_the_profile(default_program):
    """Whole-table check of plain (argument-free) rules against a direct
    evaluation of the profile, for every x86_64 number."""
    profile = seccomp.default_profile()
    allowed, named = set(), set()
    for entry in profile["syscalls"]:
        named.update(entry["names"])
        if entry.get("args") or entry["action"] != "SCMP_ACT_ALLOW":
            continue
        if seccomp._selected(entry, caps.DEFAULT_MASK, (6, 18)):
            allowed.update(entry["names"])
    last = max(NR[name] for name in named if name in NR)
    for name, number in NR.items():
        if name in ("personality", "socket", "clone", "clone3"):
            continue
        expected = ALLOW if name in allowed else ENOSYS if number > last else EPERM
        assert run(default_program, number, (0xFFFF, 1, 2, 3, 4, 5)) == expected, name


# --- custom profiles -------------------------------------------------------------------------

def custom(*syscalls, default="SCMP_ACT_ERRNO", **extra) -> dict:
    return {"defaultAction": default, "syscalls": list(syscalls), **extra}


def test_comparisons_are_64_bit():
    ops = {"SCMP_CMP_NE": lambda a, v: a != v, "SCMP_CMP_LT": lambda a, v: a < v,
           "SCMP_CMP_LE": lambda a, v: a <= v, "SCMP_CMP_EQ": lambda a, v: a == v,
           "SCMP_CMP_GE": lambda a, v: a >= v, "SCMP_CMP_GT": lambda a, v: a > v}
    samples = [0, 1, 5, 0xFFFFFFFF, 1 << 32, (1 << 32) + 5, 0xFFFFFFFF_FFFFFFFF, 7 << 40]
    for op, truth in ops.items():
        for value in (5, 1 << 32, (1 << 32) + 5):
            program = seccomp.build_filter(custom(
                {"names": ["read"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 2, "value": value, "op": op}]}), 0)
            for arg in samples:
                verdict = run(program, NR["read"], (0, 0, arg, 0, 0, 0))
                assert verdict == (ALLOW if truth(arg, value) else EPERM), (op, value, arg)


def test_masked_eq_and_and_of_conditions():
    program = seccomp.build_filter(custom(
        {"names": ["ioctl"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 1, "value": 0xFF00_0000_00FF, "valueTwo": 0x4200_0000_0001,
                   "op": "SCMP_CMP_MASKED_EQ"},
                  {"index": 0, "value": 3, "op": "SCMP_CMP_EQ"}]}), 0)
    assert run(program, NR["ioctl"], (3, 0x4277_0000_1201, 0, 0, 0, 0)) == ALLOW
    assert run(program, NR["ioctl"], (4, 0x4277_0000_1201, 0, 0, 0, 0)) == EPERM
    assert run(program, NR["ioctl"], (3, 0x4377_0000_1201, 0, 0, 0, 0)) == EPERM
    assert run(program, NR["ioctl"], (3, 0x4277_0000_1202, 0, 0, 0, 0)) == EPERM


def test_two_conditions_on_one_argument_are_or_as_in_runc():
    program = seccomp.build_filter(custom(
        {"names": ["kill"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]}), 0)
    assert [run(program, NR["kill"], (1, sig, 0, 0, 0, 0)) for sig in (9, 15, 2)] == \
        [ALLOW, ALLOW, EPERM]


def test_actions_and_errno():
    program = seccomp.build_filter(custom(
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
        {"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"},
        {"names": ["tkill"], "action": "SCMP_ACT_TRAP"},
        {"names": ["rmdir"], "action": "SCMP_ACT_LOG"},
        default="SCMP_ACT_ERRNO", defaultErrnoRet=38), 0)
    assert run(program, NR["mkdir"]) == 0x50000 | 13
    assert run(program, NR["getpid"]) == ALLOW
    assert run(program, NR["kill"]) == KILL_PROCESS
    assert run(program, NR["tkill"]) == 0x30000
    assert run(program, NR["rmdir"]) == 0x7FFC0000
    assert run(program, NR["read"]) == 0x50000 | 38


def test_default_allow_profile_denies_listed_and_has_no_enosys_stub():
    program = seccomp.build_filter(custom({"names": ["mount", "syslog"], "action": "SCMP_ACT_ERRNO"},
                                          default="SCMP_ACT_ALLOW"), 0)
    assert run(program, NR["mount"]) == EPERM and run(program, NR["syslog"]) == EPERM
    assert run(program, NR["read"]) == ALLOW and run(program, 1000) == ALLOW
    assert run(program, 0x40000000 | NR["mount"]) == KILL_PROCESS


def test_names_of_other_architectures_are_skipped_and_name_works():
    program = seccomp.build_filter(custom({"names": ["socketcall", "_llseek"], "action": "SCMP_ACT_ALLOW"},
                                          {"name": "getppid", "action": "SCMP_ACT_ALLOW"}), 0)
    assert run(program, NR["getppid"]) == ALLOW


@pytest.mark.parametrize("profile, message", [
    (custom({"names": ["read"], "action": "SCMP_ACT_NOTIFY"}), "unsupported seccomp action"),
    (custom({"names": ["read"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}), "index 6"),
    (custom({"names": ["read"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ALMOST"}]}), "comparison"),
    (custom({"name": "read", "names": ["write"], "action": "SCMP_ACT_ALLOW"}), "both 'name'"),
    (custom(architectures=["SCMP_ARCH_X86_64"], archMap=[{"architecture": "SCMP_ARCH_X86_64"}]),
     "both 'architectures'"),
    ({"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}, "defaultAction"),
])
def test_profile_errors(profile, message):
    with pytest.raises(ValueError, match=message):
        seccomp.build_filter(profile, 0)


# --- choosing the profile --------------------------------------------------------------------

def test_profile_for_docker_rules(tmp_path):
    default = seccomp.default_profile()
    assert seccomp.profile_for([], privileged=False) == default
    assert seccomp.profile_for(None, privileged=True) is None
    assert seccomp.profile_for(["seccomp=unconfined"], privileged=False) is None
    assert seccomp.profile_for(["seccomp:unconfined"], privileged=False) is None
    assert seccomp.profile_for(["seccomp=builtin", "no-new-privileges"], privileged=False) == default
    mine = custom({"names": ["read"], "action": "SCMP_ACT_ALLOW"})
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(mine))
    assert seccomp.profile_for([f"seccomp={path}"], privileged=False) == mine
    assert seccomp.profile_for([f"seccomp={path}"], privileged=True) == mine   # explicit wins
    assert seccomp.profile_for([f"seccomp={json.dumps(mine)}"], privileged=False) == mine
    assert seccomp.profile_for(["seccomp={}"], privileged=False) is None


def test_profile_for_errors(tmp_path):
    with pytest.raises(ValueError, match="opening seccomp profile"):
        seccomp.profile_for([f"seccomp={tmp_path / 'missing.json'}"], privileged=False)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="Decoding seccomp profile failed"):
        seccomp.profile_for([f"seccomp={tmp_path / 'bad.json'}"], privileged=False)


def test_default_profile_is_a_copy():
    seccomp.default_profile()["syscalls"].clear()
    assert len(seccomp.default_profile()["syscalls"]) > 10


def test_flags_and_kernel_version():
    assert seccomp.filter_flags({}) == 0
    assert seccomp.filter_flags({"flags": ["SECCOMP_FILTER_FLAG_LOG",
                                           "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]}) == 6
    with pytest.raises(ValueError, match="NEW_LISTENER"):
        seccomp.filter_flags({"flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]})
    assert seccomp.kernel_version("6.18.44-fc-v657") == (6, 18)
    assert seccomp.kernel_version("4.8") == (4, 8)


def test_syscall_table_spot_checks():
    assert (NR["read"], NR["mount"], NR["unshare"], NR["finit_module"], NR["clone3"]) == \
        (0, 165, 272, 313, 435)
    assert (NR["rseq"], NR["uretprobe"], NR["pidfd_send_signal"], NR["mseal"]) == (334, 335, 424, 462)
    assert len(set(NR.values())) == len(NR)


def test_apply_hands_the_program_to_the_kernel(default_program):
    fake = FakeSyscalls()
    seccomp.apply(fake, default_program)
    assert fake.calls == [("seccomp_set_filter", (default_program, 0))]
