"""Real containers on this machine's kernel, through the container service:
isolation, limits, lifecycle, logs, and that nothing is left behind.

Root only. Images come from the session's busybox image (tests/engine/conftest.py).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.containers.errors import Conflict, InvalidRequest
from engine.containers.service import ContainerService
from tests.fixtures.containers import run_container

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[2]


def run(engine: ContainerService, *args: str, **config) -> tuple[int, str, str]:
    return run_container(engine, "busybox", *args, **config)


def test_a_container_runs_and_its_output_and_exit_code_are_recorded(engine):
    assert run(engine, "sh", "-c", "echo out; echo err >&2; exit 3") == (3, "out\n", "err\n")


def test_namespaces_isolate_processes_hostname_and_network(engine):
    code, out, _ = run(engine, "sh", "-c",
                       "hostname; ls /proc | grep -c '^[0-9]'; cat /proc/1/comm; ls /sys/class/net",
                       Hostname="box")
    hostname, count, pid1, interfaces = out.split("\n", 3)
    assert (code, hostname, pid1) == (0, "box", "sh")
    assert int(count) <= 3  # sh, ls, grep: no host process is visible
    assert interfaces.split() == ["lo"]


def test_the_root_is_an_overlay_and_writes_stay_in_the_container(engine, busybox_image, image_service):
    code, out, _ = run(engine, "sh", "-c", "echo x > /bin/new && cat /bin/new && grep ' / ' /proc/mounts")
    assert code == 0 and out.startswith("x\noverlay / overlay")
    for layer in image_service.layers("busybox"):
        assert not (layer / "bin" / "new").exists()


def test_default_security_forbids_mount_proc_sys_and_modules(engine):
    script = ("mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?; "
              "echo 1 > /proc/sys/kernel/domainname 2>/dev/null; echo sys=$?; "
              "cat /proc/kcore | wc -c; "
              "insmod /nonexistent.ko 2>/dev/null; echo insmod=$?")
    code, out, _ = run(engine, "sh", "-c", script)
    lines = out.split()
    assert lines[0] == "mount=1" and lines[1] == "sys=1" and lines[2] == "0"
    assert lines[3] != "insmod=0"


def test_privileged_may_mount(engine):
    code, out, _ = run(engine, "sh", "-c", "mount -t tmpfs none /mnt && echo mounted",
                       HostConfig={"Privileged": True})
    assert (code, out) == (0, "mounted\n")


def test_cap_drop_removes_a_capability(engine):
    code, _, _ = run(engine, "chown", "1000", "/tmp", HostConfig={"CapDrop": ["CHOWN"]})
    assert code != 0
    assert run(engine, "chown", "1000", "/tmp")[0] == 0


def test_user_and_groups_come_from_the_image(engine):
    code, out, _ = run(engine, "id", User="app")
    assert code == 0 and "uid=1000(app)" in out and "gid=1000(app)" in out and "2000" in out


def test_read_only_root_with_a_tmpfs_and_a_read_only_bind(engine, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "f").write_text("host file\n")
    script = ("touch /x 2>/dev/null; echo root=$?; touch /scratch/x && echo tmpfs=0; "
              "cat /data/f; touch /data/g 2>/dev/null; echo bind=$?")
    code, out, _ = run(engine, "sh", "-c", script, HostConfig={
        "ReadonlyRootfs": True, "Tmpfs": {"/scratch": "size=1m"}, "Binds": [f"{shared}:/data:ro"]})
    assert out.split("\n")[:4] == ["root=1", "tmpfs=0", "host file", "bind=1"]


def test_memory_limit_kills_with_oom(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a)"],
                         "HostConfig": {"Memory": 32 * 2 ** 20, "MemorySwap": 32 * 2 ** 20}})
    engine.start(cid)
    assert engine.wait(cid, timeout=60)["StatusCode"] == 137
    assert engine.inspect(cid)["State"]["OOMKilled"] is True


def test_pids_limit_stops_fork_bombs(engine):
    script = "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo done"
    code, out, err = run(engine, "sh", "-c", script, HostConfig={"PidsLimit": 4})
    assert "fork" in err.lower()  # busybox sh: "can't fork"
    code, out, err = run(engine, "sh", "-c", script)
    assert (out, err) == ("done\n", "")  # without the limit all eight sleeps start


def test_stop_sends_the_signal_then_kills_after_the_grace_period(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"]})
    engine.start(cid)
    started = time.monotonic()
    engine.stop(cid, timeout=0.5)
    assert time.monotonic() - started < 5
    assert engine.wait(cid)["StatusCode"] == 137  # PID 1 ignores SIGTERM without a handler
    trap = engine.create({"Image": "busybox",
                          "Cmd": ["sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done"]})
    engine.start(trap)
    time.sleep(0.3)
    engine.stop(trap, timeout=5)
    assert engine.wait(trap)["StatusCode"] == 7


def test_pause_freezes_and_unpause_thaws(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"]})
    engine.start(cid)
    engine.pause(cid)
    assert engine.inspect(cid)["State"]["Status"] == "paused"
    with pytest.raises(Conflict, match="already paused"):
        engine.pause(cid)
    engine.unpause(cid)
    assert engine.inspect(cid)["State"]["Status"] == "running"


def test_illegal_operations_answer_like_docker(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"]})
    engine.start(cid)
    with pytest.raises(Conflict, match="cannot remove container"):
        engine.remove(cid)
    engine.remove(cid, force=True)
    with pytest.raises(InvalidRequest, match="Devices"):
        engine.create({"Image": "busybox", "HostConfig": {"Devices": [{"PathOnHost": "/dev/kvm"}]}})


def test_a_container_outlives_the_process_that_started_it(engine, tmp_path):
    cid = engine.create({"Image": "busybox", "Cmd": ["sh", "-c", "sleep 1; echo done; exit 4"]})
    code = (f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
            "from pathlib import Path\nfrom engine.containers.service import ContainerService\n"
            "from engine.runtime import cgroups\n"
            f"svc = ContainerService(Path({str(engine.root)!r}), Path({str(engine.run)!r}), None, "
            f"cgroups.detect(parent={engine.cgroups.parent!r}))\n"
            "svc.images = __import__('pickle').loads(bytes.fromhex(sys.argv[1]))\n"
            f"svc.start({cid!r})\n")
    import pickle
    subprocess.run([sys.executable, "-c", code, pickle.dumps(engine.images).hex()], check=True,
                   timeout=60)
    assert engine.inspect(cid)["State"]["Status"] == "running"
    assert engine.wait(cid, timeout=30)["StatusCode"] == 4
    assert [e.data for e in engine.logs(cid)] == [b"done\n"]


def test_many_cycles_leave_nothing_behind(engine):
    for _ in range(20):
        assert run(engine, "true")[0] == 0


def test_namespaced_sysctls_are_set_and_others_refused(engine):
    code, out, _ = run(engine, "cat", "/proc/sys/kernel/shmmni", HostConfig={"Sysctls": {"kernel.shmmni": "1234"}})
    assert (code, out) == (0, "1234\n")
    with pytest.raises(InvalidRequest, match="kernel.panic"):
        engine.create({"Image": "busybox", "HostConfig": {"Sysctls": {"kernel.panic": "1"}}})


def test_restart_stats_and_top_of_a_running_container(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"], "HostConfig": {"Memory": 64 * 2 ** 20}})
    engine.start(cid)
    first = engine.inspect(cid)["State"]["Pid"]
    processes = engine.top(cid)["Processes"]
    assert [p[3] for p in processes] == ["sleep 100"] and processes[0][1] == str(first)
    stats = engine.stats(cid)
    assert stats["pids_stats"]["current"] == 1 and stats["memory_stats"]["limit"] == 64 * 2 ** 20
    engine.restart(cid, timeout=0)
    assert engine.inspect(cid)["State"]["Status"] == "running"
    assert engine.inspect(cid)["State"]["Pid"] != first


def test_reconcile_removes_what_a_crash_left_half_made(engine):
    keep = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"]})
    engine.start(keep)
    stray_dir = engine.root / "containers" / ("f" * 64)
    (stray_dir / "upper").mkdir(parents=True)
    (engine.root / "containers" / ".x.tmp").write_text("{")
    engine.cgroups.create("stray")
    removed = engine.reconcile()
    assert str(stray_dir) in removed and "cgroup stray" in removed
    assert not stray_dir.exists() and not engine.cgroups.exists("stray")
    assert engine.cgroups.exists(keep) and engine.inspect(keep)["State"]["Running"]


def test_named_volumes_get_the_images_content_persist_and_are_protected(engine):
    code, out, _ = run(engine, "sh", "-c", "ls /etc; echo kept > /etc/mine",
                       HostConfig={"Binds": ["etcdata:/etc"]})
    assert code == 0 and "passwd" in out.split()  # copied up from the image
    code, out, _ = run(engine, "cat", "/etc/mine", HostConfig={"Binds": ["etcdata:/etc:ro"]})
    assert (code, out) == (0, "kept\n")
    cid = engine.create({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"Binds": ["etcdata:/etc"]}})
    with pytest.raises(Conflict, match="volume is in use"):
        engine.volumes.remove("etcdata")
    engine.remove(cid)
    engine.volumes.remove("etcdata")
    code, out, _ = run(engine, "ls", "/etc", HostConfig={"Binds": ["empty:/etc:nocopy"]})
    assert (code, out) == (0, "")
    engine.volumes.remove("empty")


def test_anonymous_volumes_go_with_rm_v(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sh", "-c", "echo x > /data/f"],
                         "HostConfig": {"Mounts": [{"Type": "volume", "Target": "/data"}]}})
    engine.start(cid)
    assert engine.wait(cid)["StatusCode"] == 0
    [volume] = engine.volumes.list()
    assert (Path(volume["Mountpoint"]) / "f").read_text() == "x\n"
    engine.remove(cid, volumes=True)
    assert engine.volumes.list() == []


def test_tty_mode_gives_a_terminal_and_logs_its_output(engine):
    code, out, err = run(engine, "sh", "-c", "tty; echo to-stderr >&2", Tty=True)
    assert code == 0 and err == ""  # one terminal: stderr arrives as stdout, as in docker
    assert out.replace("\r\n", "\n") == "/dev/pts/0\nto-stderr\n"


def test_ulimits_apply_and_impossible_ones_are_refused(engine):
    code, out, _ = run(engine, "sh", "-c", "ulimit -n", HostConfig={
        "Ulimits": [{"Name": "nofile", "Soft": 1234, "Hard": 1234}]})
    assert (code, out) == (0, "1234\n")
    with pytest.raises(InvalidRequest, match="above the engine's own hard limit"):
        engine.create({"Image": "busybox", "HostConfig": {
            "Ulimits": [{"Name": "nofile", "Soft": 10 ** 9, "Hard": 10 ** 9}]}})


def test_exec_runs_in_the_container_as_its_user_with_its_environment(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"], "Hostname": "box", "Env": ["A=1"]})
    engine.start(cid)
    code, out, err = engine.exec_run(cid, ["sh", "-c", "hostname; echo $A $B; cat; exit 6"],
                                     env=["B=2"], stdin=b"from stdin\n")
    assert (code, out, err) == (6, b"box\n1 2\nfrom stdin\n", b"")
    assert engine.exec_run(cid, ["id", "-u"], user="app")[1] == b"1000\n"
    engine.stop(cid, timeout=0)
    with pytest.raises(Conflict, match="is not running"):
        engine.exec_run(cid, ["true"])


def test_init_true_runs_a_reaper_as_pid_1_that_forwards_signals(engine):
    code, out, _ = run(engine, "sh", "-c", "cat /proc/1/comm; sleep 0.1 & wait", HostConfig={"Init": True})
    assert (code, out) == (0, "docker-init\n")
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"], "HostConfig": {"Init": True}})
    engine.start(cid)
    # until tini runs sleep (a SIGTERM before that finds PID 1 without a handler)
    assert engine.exec_run(cid, ["sh", "-c", "until pidof sleep; do usleep 10000; done"])[0] == 0
    started = time.monotonic()
    engine.stop(cid, timeout=10)  # tini passes SIGTERM on to sleep, which dies of it
    assert time.monotonic() - started < 5
    assert engine.wait(cid)["StatusCode"] == 143


def test_logs_follow_streams_until_the_container_stops(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sh", "-c", "echo a; sleep 0.3; echo b; sleep 0.3; echo c"]})
    engine.start(cid)
    started = time.monotonic()
    seen = [(e.data, round(time.monotonic() - started, 1)) for e in engine.follow_logs(cid)]
    assert [data for data, _ in seen] == [b"a\n", b"b\n", b"c\n"]
    assert seen[-1][1] >= 0.5  # followed live, not read at the end


def test_wait_next_exit_waits_for_the_next_exit(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sh", "-c", "sleep 0.2; exit 9"]})
    engine.start(cid)
    assert engine.wait(cid)["StatusCode"] == 9
    with pytest.raises(TimeoutError):
        engine.wait(cid, condition="next-exit", timeout=0.3)
    engine.start(cid)
    assert engine.wait(cid, condition="next-exit", timeout=10)["StatusCode"] == 9


def test_a_private_cgroup_namespace_hides_the_hosts_cgroup_paths(engine):
    code, out, _ = run(engine, "cat", "/proc/self/cgroup")
    assert code == 0 and out
    assert all(line.endswith(":/") for line in out.splitlines()), out


def test_a_symlink_in_the_image_cannot_send_a_mount_onto_the_host(engine, image_service, tmp_path):
    import io
    import tarfile
    victim = tmp_path / "victim"  # a host directory the image's symlink points at
    victim.mkdir()
    base = image_service.inspect("busybox")["Id"]
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for name, target in (("data", str(victim)), ("etc/evil", "/etc")):
            entry = tarfile.TarInfo(name)
            entry.type, entry.linkname = tarfile.SYMTYPE, target
            tar.addfile(entry)
    # the busybox files plus the hostile links, as one image
    rootfs = io.BytesIO()
    with tarfile.open(fileobj=rootfs, mode="w") as out:
        for directory in reversed(image_service.layers(base)):
            out.add(directory, arcname=".")
        layer.seek(0)
        with tarfile.open(fileobj=layer) as extra:
            for member in extra.getmembers():
                out.addfile(member)
    rootfs.seek(0)
    image_service.import_image(rootfs, "hostile:latest", changes=['CMD ["sh"]'])
    try:
        source = tmp_path / "src"
        source.mkdir()
        (source / "f").write_text("mounted\n")
        cid = engine.create({"Image": "hostile", "Cmd": ["cat", f"{victim}/f"],
                             "HostConfig": {"Binds": [f"{source}:/data"]}})
        engine.start(cid)
        assert engine.wait(cid)["StatusCode"] == 0
        assert b"".join(e.data for e in engine.logs(cid)) == b"mounted\n"  # inside the container
        assert list(victim.iterdir()) == []  # and nothing on the host
        engine.remove(cid)
    finally:
        image_service.remove("hostile:latest", force=True)


def test_exec_with_a_tty(engine):
    cid = engine.create({"Image": "busybox", "Cmd": ["sleep", "100"]})
    engine.start(cid)
    code, out, err = engine.exec_run(cid, ["sh", "-c", "tty; echo e >&2; exit 2"], tty=True)
    assert (code, err) == (2, b"")
    assert out.replace(b"\r\n", b"\n") == b"/dev/pts/0\ne\n"


def test_a_network_namespace_of_its_own_has_only_lo_and_lo_is_up(engine):
    for mode in (None, "none"):
        host = {"NetworkMode": mode} if mode else {}
        code, out, _ = run(engine, "sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags",
                           HostConfig=host)
        assert code == 0 and out.split() == ["lo", "0x9"]  # IFF_UP | IFF_LOOPBACK


def test_network_mode_host_shares_the_hosts_network_namespace(engine):
    code, out, _ = run(engine, "readlink", "/proc/self/ns/net", HostConfig={"NetworkMode": "host"})
    assert (code, out.strip()) == (0, os.readlink("/proc/self/ns/net"))
    code, out, _ = run(engine, "readlink", "/proc/self/ns/net")
    assert code == 0 and out.strip() != os.readlink("/proc/self/ns/net")


def test_default_devices_cgroup_allows_only_dockers_devices(engine):
    # /dev/kmsg (c 1:11): any node may be made, only docker's few be opened
    script = "mknod /tmp/kmsg c 1 11 && echo dockyard-test > /tmp/kmsg; echo kmsg=$?; echo x > /dev/null; echo null=$?"
    code, out, _ = run(engine, "sh", "-c", script)
    assert (code, out.split()) == (0, ["kmsg=1", "null=0"])
    code, out, _ = run(engine, "sh", "-c", script, HostConfig={"Privileged": True})
    assert (code, out.split()) == (0, ["kmsg=0", "null=0"])
