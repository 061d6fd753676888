"""Linux capabilities of a container: docker's defaults, compose's
``cap_add``/``cap_drop``/``privileged``, and applying the result in the child.

Owns the name <-> number table (linux/capability.h), docker's combination rules
(moby ``oci/caps``: ``TweakCapabilities``) and the order of the capability
system calls. Receives a ``Syscalls`` object; imports nothing above
``engine.runtime``.

Masks are ints, bit N set = capability N held.

The order the runtime must follow in the child (uid 0, the engine's own
capabilities, after namespaces, mounts, pivot_root and hostname):

1. ``prepare(sys, mask)``: drop from the bounding set every capability not in
   ``mask`` (PR_CAPBSET_DROP needs CAP_SETPCAP, so this comes before any
   capset) and clear the ambient set.
2. ``prctl(PR_SET_NO_NEW_PRIVS, 1)`` if the container asked for it.
3. Without no_new_privs: ``seccomp.apply`` now, while CAP_SYS_ADMIN is still
   held (the kernel refuses a filter from a process that has neither). The
   filter then also judges steps 4-6; docker's profile allows them.
4. setgroups, setgid, setuid. No PR_SET_KEEPCAPS: when the uid leaves 0 the
   kernel empties the permitted and effective sets, which is what docker gives
   a non-root user (the bounding set still limits setuid-root binaries).
5. ``finish(sys, mask, uid)``: uid 0 gets capset(effective=mask,
   permitted=mask, inheritable=0); any other uid capset(0, 0, 0), so the
   result does not depend on step 4's saved-uid details.
6. With no_new_privs: ``seccomp.apply`` here, as late as possible.
7. execve.

Inheritable is empty for every container, as docker does since 20.10.14
(CVE-2022-24769): a mask in the inheritable set would let a program with
inheritable file capabilities get them on exec.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from .sys import PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAPBSET_DROP

# linux/capability.h, CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40
NAMES = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
    "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)
NUMBERS = {name: number for number, name in enumerate(NAMES)}
CAP_LAST_CAP = len(NAMES) - 1
ALL_KNOWN = (1 << len(NAMES)) - 1

# moby oci/caps/defaults.go, in its order
DOCKER_DEFAULTS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
)


def mask_of(names: Iterable[str]) -> int:
    """The mask of canonical names (``CAP_CHOWN``); see ``normalize`` for user input."""
    mask = 0
    for name in names:
        mask |= 1 << NUMBERS[name]
    return mask


DEFAULT_MASK = mask_of(DOCKER_DEFAULTS)


def names_of(mask: int) -> list[str]:
    """Canonical names of the bits of ``mask``, by number; unnamed bits as ``CAP_<n>``."""
    names, number = [], 0
    while mask >> number:
        if mask >> number & 1:
            names.append(NAMES[number] if number < len(NAMES) else f"CAP_{number}")
        number += 1
    return names


def normalize(names: Iterable[str]) -> list[str]:
    """Compose/docker spellings -> canonical: case-insensitive, ``CAP_`` optional,
    ``ALL`` kept as is. Raises ValueError naming an unknown capability."""
    result = []
    for raw in names:
        name = str(raw).strip().upper()
        if name == "ALL":
            result.append(name)
            continue
        if not name.startswith("CAP_"):
            name = "CAP_" + name
        if name not in NUMBERS:
            raise ValueError(f"unknown capability: {name!r} (from {raw!r})")
        result.append(name)
    return result


def held_capabilities(sys) -> int:
    """The engine's own permitted set: all that a container can ever get."""
    _effective, permitted, _inheritable = sys.capget()
    return permitted


@lru_cache(maxsize=1)
def _engine_capabilities() -> int:
    from .sys import Syscalls
    return held_capabilities(Syscalls())


def effective_set(cap_add: Iterable[str] | None, cap_drop: Iterable[str] | None,
                  privileged: bool, *, held: int | None = None) -> int:
    """The container's capability mask, by docker's rules.

    ``held`` is the engine's own permitted set (``held_capabilities``; when
    None, read once from this process): privileged means exactly that, never
    more, so an engine without CAP_SYS_RESOURCE still starts privileged
    containers. Unit tests pass ``held``. An explicit
    ``cap_add`` of a capability the engine lacks is an error, as in docker;
    docker's defaults are silently limited to ``held``.

    - add ALL: everything held, minus ``cap_drop``;
    - drop ALL: only ``cap_add``;
    - otherwise: defaults minus ``cap_drop``, plus ``cap_add``.
    """
    adds, drops = normalize(cap_add or ()), normalize(cap_drop or ())
    if held is None:
        held = _engine_capabilities()
    if privileged:
        return held
    missing = [name for name in adds if name != "ALL" and not held >> NUMBERS[name] & 1]
    if missing:
        raise ValueError(f"capability not available to the engine: {', '.join(missing)}")
    add_mask = mask_of(name for name in adds if name != "ALL")
    drop_mask = mask_of(name for name in drops if name != "ALL")
    if "ALL" in adds:
        return held & ~drop_mask
    if "ALL" in drops:
        return add_mask
    return ((DEFAULT_MASK & ~drop_mask) | add_mask) & held


def prepare(sys, mask: int, last_cap: int = CAP_LAST_CAP) -> None:
    """Step 1: drop every capability outside ``mask`` from the bounding set
    (0..``last_cap``, the kernel's /proc/sys/kernel/cap_last_cap), clear ambient."""
    for number in range(last_cap + 1):
        if not mask >> number & 1:
            sys.prctl(PR_CAPBSET_DROP, number)
    sys.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)


def finish(sys, mask: int, uid: int) -> None:
    """Step 5, after the user switch: root keeps ``mask`` as effective and
    permitted; any other uid gets nothing (docker's behaviour)."""
    if uid == 0:
        sys.capset(effective=mask, permitted=mask, inheritable=0)
    else:
        sys.capset(effective=0, permitted=0, inheritable=0)


def apply(sys, mask: int, uid: int = 0, last_cap: int = CAP_LAST_CAP) -> None:
    """``prepare`` then ``finish``, for a child that switches no user in between
    (it must then still be uid 0: a non-root ``uid`` only selects the empty sets)."""
    prepare(sys, mask, last_cap)
    finish(sys, mask, uid)


apply_for_user = apply
