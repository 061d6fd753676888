"""Benchmark: the container engine's life cycle, next to the floor, crun and runc.

With a temporary state root, run dir and cgroup parent, imports the test
busybox image (tests/fixtures/images.py, cached under
/var/cache/dockyard/test-images) and prints medians (with p10-p90) of:

- ``ContainerService.create``; ``start`` (returns once the process has
  exec'd); run-to-exit of ``/bin/true`` (create + start + wait); ``remove``
  of the exited container; ``stop`` with timeout 1 of
  ``sh -c 'trap "exit 0" TERM; sleep 100 & wait'`` (timed from the moment
  the shell's TERM handler is installed);
- in the same iterations (interleaved, so load on the machine hits all
  alike): ``unshare -p -m -n -u -i --fork chroot ROOTFS /bin/true`` on an
  unpacked copy of the same rootfs (the floor), and ``crun run`` and
  ``runc run`` of an OCI bundle of it (``runc spec``; args ``/bin/true``,
  no terminal; unique container ids);
- then sequential create-start-wait-remove cycles: the median of the first
  and the last 50, and a check that nothing is left (records under the state
  root, mounts under the temp dir, cgroups under the bench parent).

The engine is called in-process (its Python API); the other tools are
processes started with ``subprocess.run``. It prints numbers next to the
goals (run-to-exit at most 3x the floor and no slower than crun) and always
exits 0. crun and runc are installed with apt-get when missing and running as
root. crun 1.8 refuses this machine's hybrid cgroup layout ("cgroups in
hybrid mode not supported"); it is then timed from a helper process in a
private mount namespace where /sys/fs/cgroup/unified is unmounted (the host
is not changed), which is also how such a host would run it.

    .venv/bin/python bench/containers.py [--runs 50] [--cycles 200] [--profile]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import traceback
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

GOAL_FLOOR_RATIO = 3.0
STOP_SCRIPT = 'trap "exit 0" TERM; sleep 100 & wait'
CGROUP_ROOT = Path("/sys/fs/cgroup")

# Runs in a helper process (argv: the command; stdin: one line per run, the
# container id to substitute for {id}); prints the elapsed ms of each run.
# First unmounts the cgroup2 tree of a hybrid host if asked (private mount
# namespace: `unshare -m --propagation private`).
HELPER = r"""
import subprocess, sys, time, json
argv, unmount = json.loads(sys.argv[1]), sys.argv[2]
if unmount:
    subprocess.run(["umount", unmount], check=True)
for line in sys.stdin:
    command = [part.replace("{id}", line.strip()) for part in argv]
    start = time.perf_counter()
    done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - start) * 1000
    print(json.dumps({"ms": elapsed, "rc": done.returncode,
                      "err": done.stderr.decode(errors="replace").strip()[-300:]}), flush=True)
"""


def ms(seconds: float) -> float:
    return seconds * 1000


# --- reference tools -----------------------------------------------------------

def _apt_install(*packages: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-q", *packages]
    if subprocess.run(command, check=False, capture_output=True, env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True, env=env)
        return subprocess.run(command, check=False, capture_output=True, env=env).returncode == 0
    return True


def ensure_tool(name: str) -> str | None:
    """The path of ``name`` (Debian's package of that name), installing it if we may;
    None when it is missing and cannot be installed."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if found or os.geteuid() != 0:
        return found
    print(f"installing {name} (apt-get install -y {name}) ...", file=sys.stderr)
    _apt_install(name)
    return shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], check=False, capture_output=True, text=True)
    return (done.stdout.splitlines() or ["?"])[0]


class Helper:
    """A process that runs one command per request and times it."""

    def __init__(self, argv: list[str], *, private_unmount: str = "") -> None:
        command = [sys.executable, "-c", HELPER, json.dumps(argv), private_unmount]
        if private_unmount:
            command = ["unshare", "-m", "--propagation", "private", "--", *command]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True, bufsize=1)
        self.failure = ""

    def run(self, container_id: str = "") -> float | None:
        if self.failure:
            return None
        self.process.stdin.write(container_id + "\n")
        line = self.process.stdout.readline()
        if not line:
            self.failure = "the helper process died"
            return None
        reply = json.loads(line)
        if reply["rc"] != 0:
            self.failure = f"exit {reply['rc']}: {reply['err']}"
            return None
        return reply["ms"]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)


def make_bundle(tmp: Path, rootfs: Path, runc: str) -> Path:
    bundle = tmp / "bundle"
    bundle.mkdir()
    subprocess.run([runc, "spec"], cwd=bundle, check=True, capture_output=True)
    config = json.loads((bundle / "config.json").read_text())
    config["root"]["path"] = str(rootfs)
    config["process"]["args"] = ["/bin/true"]
    config["process"]["terminal"] = False
    (bundle / "config.json").write_text(json.dumps(config, indent=1))
    return bundle


def hybrid_cgroup2() -> str:
    """The cgroup2 mount of a hybrid host ('' on a pure v1 or v2 host)."""
    if (CGROUP_ROOT / "cgroup.controllers").exists():
        return ""
    unified = CGROUP_ROOT / "unified"
    return str(unified) if (unified / "cgroup.controllers").exists() else ""


# --- engine helpers ------------------------------------------------------------

def term_handled(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


def mounts_under(tmp: Path) -> list[str]:
    return [line for line in Path("/proc/self/mounts").read_text().splitlines() if str(tmp) in line]


def records_left(root: Path) -> list[str]:
    found = [str(p) for p in root.glob("containers/*.json")]
    found += [str(p) for p in root.glob("exits/*.json")]
    found += [str(p) for p in root.glob("containers/*/")]
    found += [str(p) for p in root.rglob(".*.tmp")]
    return found


def supervisors(tmp: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(tmp).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def parent_groups(parent: str) -> list[str]:
    found = [str(p) for p in CGROUP_ROOT.glob(f"*/{parent}")]
    return found + ([str(CGROUP_ROOT / parent)] if (CGROUP_ROOT / parent).exists() else [])


# --- report --------------------------------------------------------------------

def summary(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) < 5:
        return f"{statistics.median(values):8.1f}"
    deciles = statistics.quantiles(values, n=10)
    return f"{statistics.median(values):8.1f}   ({deciles[0]:.1f}-{deciles[-1]:.1f})"


def row(label: str, values: list[float] | None, note: str = "") -> None:
    text = summary(values) if values else f"{'-':>8}"
    print(f"  {label:<44}{text:<24}{note}")


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# --- the benchmark ---------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="runs per measure (default 50)")
    parser.add_argument("--cycles", type=int, default=200,
                        help="sequential create-start-wait-remove cycles (default 200)")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of ContainerService.start (client side)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/containers.py needs root (namespaces, mounts, cgroups); nothing measured")
        return 0

    from engine.containers.errors import Conflict
    from engine.containers.service import ContainerService
    from engine.images.service import ImageService
    from engine.runtime import cgroups
    from tests.fixtures.images import CACHE_DIR, busybox_rootfs_tar

    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    parent = f"dockyard-bench-{secrets.token_hex(4)}"
    driver = cgroups.detect(parent=parent)
    service = ContainerService(tmp / "root", tmp / "run", ImageService(tmp / "images"), driver)
    helpers: list[Helper] = []
    problems: list[str] = []
    try:
        tar = busybox_rootfs_tar(CACHE_DIR)
        service.images.import_image(tar, "busybox:latest", changes=['CMD ["sh"]'])
        rootfs = tmp / "rootfs"
        rootfs.mkdir()
        with tarfile.open(tar) as archive:
            archive.extractall(rootfs, filter="fully_trusted")

        # Reference tools (installed first, so installing is not timed).
        tools: dict[str, tuple[Helper | None, str]] = {}
        unshare = shutil.which("unshare")
        tools["floor"] = (Helper([unshare, "-p", "-m", "-n", "-u", "-i", "--fork", "chroot",
                                  str(rootfs), "/bin/true"]), "") if unshare else (None, "no unshare")
        runc = ensure_tool("runc")
        crun = ensure_tool("crun")
        bundle = make_bundle(tmp, rootfs, runc) if runc else None
        if runc:
            tools["runc"] = (Helper([runc, "--root", str(tmp / "runc-state"), "run", "--bundle",
                                     str(bundle), "{id}"]), version(runc))
        else:
            tools["runc"] = (None, "not installed (apt-get install runc failed or not root)")
        if crun and bundle:
            tools["crun"] = (Helper([crun, "--root", str(tmp / "crun-state"), "run", "--bundle",
                                     str(bundle), "{id}"], private_unmount=hybrid_cgroup2()),
                             version(crun) + (" (private mount ns without the hybrid cgroup2 tree)"
                                              if hybrid_cgroup2() else ""))
        else:
            tools["crun"] = (None, "not installed (apt-get install crun failed, or no runc for `runc spec`)")
        helpers += [h for h, _ in tools.values() if h]

        def container(*cmd: str) -> str:
            return service.create({"Image": "busybox", "Cmd": list(cmd), "HostConfig": {}})

        stuck: list[str] = []

        def removed(cid: str) -> bool:
            """Remove an exited container. False for one the engine cannot remove
            because it exited before the supervisor read its start time (the
            record then has none, and the state reads "running" for ever)."""
            try:
                service.remove(cid)
                return True
            except Conflict:
                record = service.store.read("runs", cid) or {}
                if record.get("pid_start_time") is None and service.store.read("exits", cid):
                    stuck.append(cid)
                    return False
                raise

        # Warm-up: the first start spawns the supervisor; every tool once.
        t0 = time.perf_counter()
        cid = container("/bin/true")
        service.start(cid)
        service.wait(cid, timeout=30)
        removed(cid)
        first_cycle = ms(time.perf_counter() - t0)
        run_tag = secrets.token_hex(4)
        for name, (helper, _) in tools.items():
            if helper:
                helper.run(f"bench-{run_tag}-{name}-warm")

        # The life cycle of /bin/true, interleaved with the references.
        create, start, to_exit, remove = [], [], [], []
        reference: dict[str, list[float]] = {name: [] for name in tools}
        for i in range(args.runs):
            t0 = time.perf_counter()
            cid = container("/bin/true")
            t1 = time.perf_counter()
            service.start(cid)
            t2 = time.perf_counter()
            code = service.wait(cid, timeout=30)["StatusCode"]
            t3 = time.perf_counter()
            gone = removed(cid)
            t4 = time.perf_counter()
            if code != 0:
                problems.append(f"/bin/true exited {code}")
            create.append(ms(t1 - t0))
            start.append(ms(t2 - t1))
            to_exit.append(ms(t3 - t0))
            if gone:
                remove.append(ms(t4 - t3))
            for name, (helper, _) in tools.items():
                if helper:
                    value = helper.run(f"bench-{run_tag}-{name}-{i}")
                    if value is not None:
                        reference[name].append(value)

        # stop: TERM trapped by the shell, docker's stop with a grace of 1 s.
        stop, stop_timeouts = [], 0
        for _ in range(args.runs):
            cid = container("sh", "-c", STOP_SCRIPT)
            service.start(cid)
            pid = service.inspect(cid)["State"]["Pid"]
            deadline = time.monotonic() + 5
            while not term_handled(pid) and time.monotonic() < deadline:
                time.sleep(0.001)
            t0 = time.perf_counter()
            service.stop(cid, timeout=1)
            elapsed = ms(time.perf_counter() - t0)
            stop.append(elapsed)
            stop_timeouts += elapsed >= 1000
            removed(cid)

        # Sequential cycles: does it slow down, does it leak?
        cycles = []
        for _ in range(args.cycles):
            t0 = time.perf_counter()
            cid = container("/bin/true")
            service.start(cid)
            service.wait(cid, timeout=30)
            if removed(cid):
                cycles.append(ms(time.perf_counter() - t0))

        def known(found: list[str]) -> list[str]:  # leftovers other than the stuck ones
            return [item for item in found if not any(cid in item for cid in stuck)]
        left = {"records under the state root": known(records_left(tmp / "root")),
                "mounts under the temp dir": known(mounts_under(tmp)),
                "cgroups under the bench parent": known(driver.list())}

        profile_text = ""
        if args.profile:
            profiler = cProfile.Profile()
            for _ in range(args.runs):
                cid = container("/bin/true")
                profiler.enable()
                service.start(cid)
                profiler.disable()
                service.wait(cid, timeout=30)
                removed(cid)
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
            profile_text = out.getvalue()

        # -- report ----------------------------------------------------------------
        floor, crun_ms = median(reference.get("floor", [])), median(reference.get("crun", []))
        exit_ms = median(to_exit)
        print(f"dockyard container engine, busybox image; medians of {args.runs} runs in ms"
              " (p10-p90 in brackets)")
        print(f"  {'':<44}{'median':>8}")
        row("create", create)
        row("start (returns after exec)", start)
        goals = []
        if floor:
            limit = GOAL_FLOOR_RATIO * floor
            goals.append(f"<= {GOAL_FLOOR_RATIO:g}x floor = {limit:.1f}: "
                         f"{'ok' if exit_ms <= limit else 'MISSED'} ({exit_ms / floor:.1f}x)")
        if crun_ms:
            goals.append(f"<= crun {crun_ms:.1f}: {'ok' if exit_ms <= crun_ms else 'MISSED'}")
        row("run-to-exit /bin/true (create+start+wait)", to_exit, "; ".join(goals) or "no reference")
        row("remove (exited)", remove)
        row("stop, timeout 1 (TERM trapped)", stop,
            f"{stop_timeouts} of {len(stop)} hit the timeout" if stop_timeouts else "")
        print("references, same iterations (`run` of /bin/true as a process)")
        labels = {"floor": "unshare -pmnui --fork chroot (floor)", "crun": "crun run", "runc": "runc run"}
        for name, (helper, note) in tools.items():
            if helper and helper.failure and not reference[name]:
                note = f"failed: {helper.failure}"
            row(labels[name], reference[name], note)
        print(f"first cycle, spawning the supervisor: {first_cycle:.1f} ms")
        window = max(1, min(50, len(cycles) // 2))
        first, last = median(cycles[:window]), median(cycles[-window:])
        if first and last:
            print(f"{args.cycles} create-start-wait-remove cycles: median of the first {window} "
                  f"{first:.1f} ms, of the last {window} {last:.1f} ms ({last / first:.2f}x)"
                  + (f"; {args.cycles - len(cycles)} not removable, left out" if len(cycles) < args.cycles else ""))
        for what, found in left.items():
            print(f"  left after the cycles, {what}: {len(found)}"
                  + (f"  {found[:3]}" if found else ""))
        if stuck:
            print(f"  not removable: {len(stuck)} container(s) exited before the supervisor read"
                  " their start time; the record has none, so the engine reads them as running"
                  " for ever (left out of the times and the leak check; cleaned up below)")
        for problem in sorted(set(problems)):
            print(f"  problem: {problem}")
        if profile_text:
            print("cProfile of ContainerService.start (this process only; the supervisor "
                  "does the forks and mounts):")
            print(profile_text.rstrip())
    except Exception:  # noqa: BLE001 - a benchmark reports, it does not fail
        traceback.print_exc()
        print("benchmark aborted (see the traceback above); numbers so far are not printed")
    finally:
        for helper in helpers:
            helper.close()
        cleanup = finish(service, driver, tmp, parent)
        print(f"cleanup: {cleanup}; total {time.monotonic() - began:.0f} s")
    return 0


def finish(service, driver, tmp: Path, parent: str) -> str:
    """Remove every container, stop the supervisor, remove the cgroup parent and tmp."""
    notes = []
    try:
        for item in service.list(all=True):
            try:
                service.remove(item["Id"], force=True)
            except Exception as exc:  # noqa: BLE001 - clean up as much as we can
                notes.append(f"removing {item['Id'][:12]}: {exc}")
    except Exception as exc:  # noqa: BLE001
        notes.append(f"listing containers: {exc}")
    try:
        service.shutdown()
    except Exception as exc:  # noqa: BLE001
        notes.append(f"shutdown: {exc}")
    deadline = time.monotonic() + 5
    while supervisors(tmp) and time.monotonic() < deadline:
        time.sleep(0.05)
    if supervisors(tmp):
        notes.append(f"supervisor still running: {supervisors(tmp)}")
    try:
        for name in driver.list():  # left by a container the engine could not remove
            driver.destroy(name)
        driver.remove_parent()
    except Exception as exc:  # noqa: BLE001
        notes.append(f"cgroup parent: {exc}")
    if parent_groups(parent):
        notes.append(f"cgroup parent left: {parent_groups(parent)}")
    if mounts_under(tmp):
        notes.append(f"mounts left: {mounts_under(tmp)}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    if tmp.exists():
        notes.append(f"{tmp} left")
    return "; ".join(notes) or "supervisor stopped, cgroup parent and temp dir removed"


if __name__ == "__main__":
    sys.exit(main())
