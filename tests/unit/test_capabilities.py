"""Capabilities: the name table, docker's cap_add/cap_drop rules, and the
order of the capability calls, on the recording fake (no root)."""
from __future__ import annotations

import pytest

from engine.runtime import capabilities as caps
from engine.runtime.fake import FakeSyscalls
from engine.runtime.sys import PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAPBSET_DROP

N = caps.NUMBERS
# root on the build machines: every capability but CAP_SYS_RESOURCE (MACHINE.md)
HELD = caps.ALL_KNOWN & ~(1 << N["CAP_SYS_RESOURCE"])


def names(mask: int) -> set[str]:
    return set(caps.names_of(mask))


def test_table_matches_linux_capability_h():
    assert len(caps.NAMES) == 41 and caps.CAP_LAST_CAP == 40
    assert [N[name] for name in ("CAP_CHOWN", "CAP_KILL", "CAP_SETPCAP", "CAP_NET_RAW",
                                 "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE", "CAP_MKNOD",
                                 "CAP_AUDIT_WRITE", "CAP_SETFCAP", "CAP_SYSLOG", "CAP_BPF",
                                 "CAP_CHECKPOINT_RESTORE")] == [0, 5, 8, 13, 21, 24, 27, 29, 31, 34, 39, 40]


def test_docker_defaults():
    assert names(caps.DEFAULT_MASK) == {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
    assert caps.DEFAULT_MASK == 0xA80425FB  # what docker containers show as CapEff


def test_names_of_round_trips_and_names_unknown_bits():
    assert caps.names_of(caps.mask_of(["CAP_KILL", "CAP_CHOWN"])) == ["CAP_CHOWN", "CAP_KILL"]
    assert caps.names_of(1 << 42) == ["CAP_42"]
    assert caps.names_of(0) == []


@pytest.mark.parametrize("spelling", ["NET_ADMIN", "net_admin", "CAP_NET_ADMIN", "cap_net_admin",
                                      "Cap_Net_Admin", " NET_ADMIN "])
def test_spellings(spelling):
    assert caps.normalize([spelling]) == ["CAP_NET_ADMIN"]


def test_all_is_kept_in_any_case():
    assert caps.normalize(["all", "ALL", "All"]) == ["ALL", "ALL", "ALL"]


@pytest.mark.parametrize("bad", ["NET_ADMINN", "CAP_FOO", "", "CAP_"])
def test_unknown_name_is_an_error_naming_it(bad):
    with pytest.raises(ValueError, match="unknown capability") as caught:
        caps.effective_set([bad], [], False, held=HELD)
    assert repr(bad) in str(caught.value)
    with pytest.raises(ValueError, match="unknown capability"):
        caps.effective_set([], [bad], False, held=HELD)


def added(*extra: str) -> set[str]:
    return names(caps.DEFAULT_MASK) | set(extra)


@pytest.mark.parametrize("cap_add, cap_drop, expected", [
    ([], [], added()),
    (None, None, added()),
    (["NET_ADMIN"], [], added("CAP_NET_ADMIN")),
    (["sys_ptrace", "CAP_SYS_ADMIN"], [], added("CAP_SYS_PTRACE", "CAP_SYS_ADMIN")),
    ([], ["NET_RAW", "mknod"], added() - {"CAP_NET_RAW", "CAP_MKNOD"}),
    (["NET_ADMIN"], ["NET_RAW"], added("CAP_NET_ADMIN") - {"CAP_NET_RAW"}),
    ([], ["ALL"], set()),
    (["NET_BIND_SERVICE"], ["ALL"], {"CAP_NET_BIND_SERVICE"}),
    (["chown", "SETUID"], ["all"], {"CAP_CHOWN", "CAP_SETUID"}),
    (["ALL"], [], names(HELD)),
    (["ALL"], ["SYS_ADMIN", "NET_ADMIN"], names(HELD) - {"CAP_SYS_ADMIN", "CAP_NET_ADMIN"}),
    (["ALL"], ["ALL"], names(HELD)),            # docker: add ALL wins over drop ALL
    (["CHOWN"], ["CHOWN"], added()),            # docker: drops first, then adds
])
def test_docker_combinations(cap_add, cap_drop, expected):
    assert names(caps.effective_set(cap_add, cap_drop, False, held=HELD)) == expected


def test_privileged_is_what_the_engine_holds_never_more():
    assert caps.effective_set([], [], True, held=HELD) == HELD
    assert not caps.effective_set([], [], True, held=HELD) >> N["CAP_SYS_RESOURCE"] & 1
    # privileged ignores cap_add/cap_drop, as docker does
    assert caps.effective_set(["NET_ADMIN"], ["ALL"], True, held=HELD) == HELD
    # but names are still checked
    with pytest.raises(ValueError):
        caps.effective_set(["NOPE"], [], True, held=HELD)


def test_adding_a_capability_the_engine_lacks_is_an_error():
    with pytest.raises(ValueError, match="CAP_SYS_RESOURCE"):
        caps.effective_set(["SYS_RESOURCE"], [], False, held=HELD)


def test_defaults_are_limited_to_what_the_engine_holds():
    held = caps.DEFAULT_MASK & ~(1 << N["CAP_MKNOD"])
    assert names(caps.effective_set([], [], False, held=held)) == added() - {"CAP_MKNOD"}


def test_without_held_the_engine_reads_its_own_capabilities_once(monkeypatch):
    monkeypatch.setattr(caps, "_engine_capabilities", lambda: caps.DEFAULT_MASK)
    assert caps.effective_set([], [], True) == caps.DEFAULT_MASK


def test_held_capabilities_reads_the_permitted_set():
    fake = FakeSyscalls()
    fake.caps = (0x1, HELD, 0x4)
    assert caps.held_capabilities(fake) == HELD
    assert fake.calls == [("capget", ())]


def bounding_drops(calls) -> list[int]:
    return [args[1] for name, args in calls if name == "prctl" and args[0] == PR_CAPBSET_DROP]


def test_apply_as_root_order_and_sets():
    fake = FakeSyscalls()
    caps.apply(fake, caps.DEFAULT_MASK)
    drops = bounding_drops(fake.calls)
    assert drops == [n for n in range(41) if not caps.DEFAULT_MASK >> n & 1]
    assert len(drops) == 41 - 14
    ambient = ("prctl", (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
    assert fake.calls[len(drops)] == ambient
    assert fake.calls[len(drops) + 1:] == [("capset", (caps.DEFAULT_MASK, caps.DEFAULT_MASK, 0))]
    assert fake.caps == (caps.DEFAULT_MASK, caps.DEFAULT_MASK, 0)


def test_apply_for_a_non_root_user_keeps_only_the_bounding_set():
    fake = FakeSyscalls()
    caps.apply_for_user(fake, caps.DEFAULT_MASK, 1000)
    assert bounding_drops(fake.calls) == [n for n in range(41) if not caps.DEFAULT_MASK >> n & 1]
    assert fake.calls[-1] == ("capset", (0, 0, 0))


def test_prepare_then_finish_is_the_split_for_a_user_switch():
    fake = FakeSyscalls()
    caps.prepare(fake, 0)
    assert bounding_drops(fake.calls) == list(range(41))
    assert [name for name, _ in fake.calls] == ["prctl"] * 42   # nothing but prctl before setuid
    caps.finish(fake, 0, 0)
    assert fake.calls[-1] == ("capset", (0, 0, 0))


def test_privileged_mask_drops_nothing_but_what_the_engine_lacks():
    fake = FakeSyscalls()
    caps.apply(fake, HELD)
    assert bounding_drops(fake.calls) == [N["CAP_SYS_RESOURCE"]]
    assert fake.calls[-1] == ("capset", (HELD, HELD, 0))


def test_last_cap_follows_the_kernel():
    fake = FakeSyscalls()
    caps.prepare(fake, 0, last_cap=37)
    assert bounding_drops(fake.calls) == list(range(38))


def test_a_failing_call_stops_apply():
    fake = FakeSyscalls(fail={"capset": 1})
    with pytest.raises(Exception, match="capset"):
        caps.apply(fake, caps.DEFAULT_MASK)
