"""The container service: create, start, stop, kill, wait, pause, remove,
inspect, list and logs, with docker's semantics and wording.

Owns container records (one per container, written atomically through the
state store) and their directories (``ROOT/containers/<id>/``: upper and
work dirs of the overlay, hostname, hosts, resolv.conf, the json-file log).
Processes are started by the supervisor, so they do not depend on the
process that uses this service; status is re-derived from the kernel at
every read (lifecycle.derive). Receives the image service and the cgroup
driver (STYLE habit 11).
"""
from __future__ import annotations

import dataclasses
import os
import re
import secrets
import shutil
import signal as signals
import time
from pathlib import Path

from engine.runtime import process
from engine.runtime import spec as runtime_spec
from engine.runtime.errors import RuntimeFailure
from engine.state.store import StateStore
from engine.volumes.service import ANONYMOUS, VolumeNotFound

from . import config as merge
from . import health, lifecycle, logs, networking, restart, security, supervisor, views
from .errors import Conflict, Forbidden, InvalidRequest, NotFound

_SIGNALS = {name[3:]: getattr(signals, name) for name in dir(signals)
            if name.startswith("SIG") and not name.startswith("SIG_")}


_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")  # docker's container names
INIT_BINARIES = ("/usr/bin/tini-static", "/usr/bin/docker-init")


def _init_binary() -> str:
    """The static init bound into containers with ``init: true`` (Debian's
    tini-static, as docker ships tini as docker-init)."""
    for path in INIT_BINARIES:
        if os.access(path, os.X_OK):
            return path
    raise InvalidRequest("init: true needs a static init binary: install Debian's tini package "
                         f"(looked for {', '.join(INIT_BINARIES)})")


def parse_signal(value: str | int | None, default: int = signals.SIGKILL) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    name = str(value).upper().removeprefix("SIG")
    if name not in _SIGNALS:
        raise InvalidRequest(f"Invalid signal: {value}")
    return int(_SIGNALS[name])


class ContainerService:
    def __init__(self, root: Path, run: Path, images, cgroups, volumes=None, networks=None) -> None:
        self.root, self.run = Path(root), Path(run)
        self.store = StateStore(self.root)
        self.images = images
        self._image_layers: dict[str, list[str]] = {}
        self._image_users: dict[tuple[str, str], tuple[int, int, list[int]]] = {}
        self.cgroups = cgroups
        self.volumes = volumes
        self.networks = networks  # engine.networks.service.NetworkService, or None: none and host only

    # -- lookup ---------------------------------------------------------------
    def _find(self, ref: str) -> dict:
        """The container's record, with the runtime facts of its last start
        (the supervisor's ``runs`` record: pid, pid_start_time, started_at)."""
        return self._with_run(self._lookup(ref))

    def _with_run(self, record: dict) -> dict:
        record.update(self.store.read("runs", record["id"]) or {})
        if self._checked(record):
            record["health"] = self.store.read("health", record["id"])
        return record

    @staticmethod
    def _checked(record: dict) -> bool:
        return bool(record["config"].get("Healthcheck") or record["image_config"].get("Healthcheck"))

    # -- health ---------------------------------------------------------------------
    def health_check(self, ref: str) -> tuple[health.Check | None, int, float]:
        """The running container's check, with the pid and start of its run."""
        record = self._find(ref)
        return (health.settings(record["image_config"], record["config"]), record.get("pid") or 0,
                record.get("started_at") or time.time())

    def record_probe(self, ref: str, pid: int, result: dict, check: health.Check, started: float) -> str | None:
        """Fold a probe's result into the health of run ``pid``; the new
        status when it changed (None too if that run is over)."""
        record = self._find(ref)
        if record.get("pid") != pid or self.state(record) not in (lifecycle.RUNNING, lifecycle.PAUSED):
            return None
        new, changed = health.after(record.get("health") or health.initial(), check, result, started)
        self.store.write("health", record["id"], new)
        return changed

    def _records(self) -> dict[str, dict]:
        """Every container's record, with its runtime facts (as ``_find``)."""
        return {cid: self._with_run(record) for cid, record in self.store.records("containers")}

    def _lookup(self, ref: str) -> dict:
        """As docker looks a container up: full id, name, then unique id prefix."""
        record = self.store.read("containers", ref) if len(ref) == 64 else None
        if record:
            return record
        name = ref.lstrip("/")
        if _NAME.fullmatch(name):
            record = self._named(name)
            if record:
                return record
        matches = [key for key in self.store.keys("containers") if key.startswith(ref)] if ref else []
        if len(matches) == 1:
            record = self.store.read("containers", matches[0])
            if record:
                return record
        raise NotFound(ref)

    def last_run(self, ref: str) -> tuple[dict, dict | None]:
        """The record (with its runtime facts) and the exit record of its
        current or last run (None while it runs or if it never ran)."""
        record = self._find(ref)
        return record, self._exit_of(record)

    def name_of(self, cid: str) -> str | None:
        """The name of the container with this full id (one read), or None."""
        record = self.store.read("containers", cid)
        return record["name"] if record else None

    def exists(self, cid: str) -> bool:
        """Whether the container with this full id still has its record."""
        return self.store.read("containers", cid) is not None

    def _named(self, name: str) -> dict | None:
        """The container holding ``name`` (the names index: one claimed record per name)."""
        entry = self.store.read("names", name)
        record = self.store.read("containers", entry["id"]) if entry else None
        return record if record and record["name"] == name else None

    def _dir(self, cid: str) -> Path:
        return self.root / "containers" / cid

    def state(self, record: dict, exits: dict | None | bool = True) -> str:
        """``exits``: its exit record if the caller has read it already (or None)."""
        pid = record.get("pid") or 0
        alive = bool(pid) and process.alive(pid, record.get("pid_start_time"))
        frozen = alive and self.cgroups.frozen(record["id"])
        if exits is True:
            exits = self.store.read("exits", record["id"])
        state = lifecycle.derive(record, alive, frozen, exits)
        if state == lifecycle.EXITED and (record["host_config"].get("RestartPolicy") or {}).get("Name") not in (
                None, "", "no") and self.store.read("restarting", record["id"]) is not None:
            return lifecycle.RESTARTING
        return state

    # -- create -------------------------------------------------------------------
    def create(self, config: dict, name: str | None = None) -> str:
        config = dict(config)
        networking_config = config.pop("NetworkingConfig", None)
        host = dict(config.get("HostConfig") or {})
        wrong = merge.unsupported(host)
        if wrong:
            raise InvalidRequest(f"unsupported HostConfig field(s): {', '.join(wrong)}")
        merge.check_sysctls(host.get("Sysctls") or {}, networking.mode(host))
        merge.check_ulimits(host.get("Ulimits") or [])
        restart.check(host.get("RestartPolicy"), bool(host.get("AutoRemove")))
        if networking.joined(host):
            host["NetworkMode"] = f"container:{self._lookup(networking.joined(host))['id']}"
        network = networking.check_create(self.networks, config, host, networking_config)
        image_id = self.images.resolve(config["Image"])
        image_config = self.images.config(image_id).get("config") or {}
        name = (name or self._generated_name()).lstrip("/")
        if not _NAME.fullmatch(name):
            raise InvalidRequest(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        cid = secrets.token_hex(32)
        directory = self._dir(cid)
        for sub in ("upper", "work", "merged"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
        hostname = config.get("Hostname") or cid[:12]
        record = {
            "id": cid, "name": name, "image": image_id, "image_ref": config["Image"],
            "created": time.time(), "config": config, "host_config": host,
            "image_config": image_config, "hostname": hostname, "pid": 0,
            "restart_count": 0, "log_path": str(directory / f"{cid}-json.log"), **network,
            # named at create, as docker does: the same volumes on every start
            "anonymous_volumes": {m["Target"]: secrets.token_hex(32) for m in host.get("Mounts") or []
                                  if m.get("Type", "volume") == "volume" and not m.get("Source")},
        }
        try:
            (directory / "hostname").write_text(hostname + "\n")
            networking.write_hosts(directory, host, hostname, config.get("Domainname") or "")
            networking.write_resolv(directory, host, None)
            self._prepare(record)  # first: it builds while we write the record
            self.store.write("containers", cid, record)
            self._claim_name(name, cid)
        except BaseException:
            self._discard(record)
            self._release_name(record)
            self.store.delete("containers", cid)
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return cid

    def _claim_name(self, name: str, cid: str) -> None:
        """Make ``name`` point to ``cid`` in the names index, or Conflict. A
        claim whose container is gone (removed, or a crash) is taken over."""
        with self.store.locked("names"):
            holder = self._named(name)
            if holder is not None and holder["id"] != cid:
                raise Conflict(f'Conflict. The container name "/{name}" is already in use by '
                               f'container "{holder["id"]}". You have to remove (or rename) that '
                               "container to be able to reuse that name.")
            self.store.write("names", name, {"id": cid})

    def _release_name(self, record: dict) -> None:
        with self.store.locked("names"):
            entry = self.store.read("names", record["name"])
            if entry and entry["id"] == record["id"]:
                self.store.delete("names", record["name"])

    def _generated_name(self) -> str:
        return f"dockyard_{secrets.token_hex(4)}"

    # -- start ----------------------------------------------------------------------
    def _prepare(self, record: dict) -> None:
        """Have the supervisor build the container's PID 1 now (cgroups,
        namespaces, root filesystem) while the caller goes on; start then
        only lets it exec. Not the create's failure if it fails: start
        prepares again and reports it."""
        try:
            supervisor.call(self.root, self.run, self._start_request(record, "prepare"),
                            self.cgroups.parent)
        except (RuntimeFailure, OSError, Conflict):  # Conflict: the namespace to join is not there yet
            pass

    def _start_request(self, record: dict, op: str, with_spec: bool = True) -> dict:
        """What the supervisor needs to prepare or start the container. The
        spec is a function of the record (images, volumes and profiles do not
        change under a container), so ``key`` names it: what changes the
        record's spec must bump its ``revision``."""
        host = record["host_config"]
        log_config = (host.get("LogConfig") or {}).get("Config") or {}
        config = record["config"]
        key = f"{record['id']}:{record.get('revision', 0)}"
        if networking.joined(host):  # another container's namespace: the one it has now
            key += f":{self._joined_pid(record)}"
        request = {"op": op, "id": record["id"], "key": key,
                   "log": record["log_path"], "limits": dataclasses.asdict(self._limits(host)),
                   "stdin_open": bool(config.get("OpenStdin")), "stdin_once": bool(config.get("StdinOnce")),
                   "log_options": {"max_size": log_config.get("max-size"),
                                   "max_file": log_config.get("max-file", 1)}}
        if with_spec:
            request["spec"] = self._spec(record).to_json()
        return request

    def start(self, ref: str, by_policy: bool = False) -> None:
        record = self._find(ref)
        state = self.state(record)
        if state == lifecycle.RUNNING:
            return  # docker: starting a running container is a no-op (304)
        lifecycle.check("start", state, record["name"])
        if not by_policy:  # a user's start: the restart policy starts over
            self._set_policy_state(record, manually_stopped=False, policy_restarts=0, restart_delay=0)
        if self.networks is not None:
            self.networks.release(record["id"])  # a last run's, if its exit went unnoticed
        try:
            if networking.bridged(record):
                self._attach(record)
            # Prepared at create with this very spec, the usual case: no spec needed.
            self.store.delete("health", record["id"])
            reply = self._supervise(record, "start")
            if "error" in reply:
                raise InvalidRequest(f"failed to create task for container: {reply['error']}")
            if health.settings(record["image_config"], record["config"]) is not None:
                self.store.write("health", record["id"], health.initial())
        except BaseException:
            if self.networks is not None:
                self.networks.release(record["id"])
            raise

    def _supervise(self, record: dict, op: str) -> dict:
        """A start or netns request: without the spec first (prepared at
        create, the usual case), with it when the supervisor has none."""
        reply, fd = supervisor.call_fd(self.root, self.run, self._start_request(record, op, False),
                                       self.cgroups.parent)
        if reply.get("unprepared"):
            reply, fd = supervisor.call_fd(self.root, self.run, self._start_request(record, op),
                                           self.cgroups.parent)
        if fd is not None:
            reply["fd"] = fd
        return reply

    def _attach(self, record: dict) -> None:
        """Its networks, in the namespace of its prepared PID 1, before it runs."""
        if self.networks is None:
            raise InvalidRequest(f"container {record['name']} wants networks, but this engine has no "
                                 "networks service")
        reply = self._supervise(record, "netns")
        if "fd" not in reply:
            return  # it died being prepared: the start says why
        try:
            found = self.networks.attach(
                record["id"], record["networks"], reply["fd"], hostname=record["hostname"],
                name=record["name"], ports=networking.requests(record),
                dns=record["host_config"].get("Dns") or [], pid=reply["pid"])
        finally:
            os.close(reply["fd"])
        directory, host = self._dir(record["id"]), record["host_config"]
        endpoints = list(found["networks"].values())
        networking.write_hosts(directory, host, record["hostname"], record["config"].get("Domainname") or "",
                               [e["ip"] for e in endpoints])
        networking.write_resolv(directory, host, endpoints[0]["gateway"] if endpoints else None)

    def stdin(self, ref: str) -> int:
        """A file descriptor writing to the running container's stdin (the
        caller's to close): docker attach's input. The container must have
        been created with OpenStdin; with StdinOnce the first one is the only
        one, and closing it closes the container's stdin (EOF)."""
        record = self._find(ref)
        lifecycle.check("attach", self.state(record), record["name"])
        if not record["config"].get("OpenStdin"):
            raise Conflict(f"container {record['name']} was not created with an open stdin (OpenStdin)")
        reply, fd = supervisor.request_fd(self.run, {"op": "stdin", "id": record["id"]})
        if "error" in reply or fd is None:
            raise Conflict(reply.get("error") or f"container {record['name']}: no stdin was handed over")
        return fd

    def resize(self, ref: str, height: int, width: int) -> None:
        """The size of a running container's terminal (its tty)."""
        record = self._find(ref)
        lifecycle.check("attach", self.state(record), record["name"])
        reply = supervisor.request(self.run, {"op": "resize", "id": record["id"], "height": height,
                                              "width": width})
        if "error" in reply:
            raise Conflict(reply["error"])

    def _discard(self, record: dict) -> None:
        """Let a prepared PID 1 go (no supervisor: none is prepared)."""
        try:
            supervisor.request(self.run, {"op": "discard", "id": record["id"]}, timeout=10)
        except (FileNotFoundError, ConnectionRefusedError):
            pass

    # An image's content never changes under its id: what is read from it is kept.
    def _layers(self, image_id: str) -> list[str]:
        if image_id not in self._image_layers:
            self._image_layers[image_id] = [str(p) for p in self.images.layers(image_id)]
        return self._image_layers[image_id]

    def _user(self, record: dict, user: str) -> tuple[int, int, list[int]]:
        key = (record["image"], user)
        if key not in self._image_users:
            self._image_users[key] = merge.user(user, self._read_image_file(record))
        return self._image_users[key]

    def _read_image_file(self, record: dict):
        layers = self._layers(record["image"])

        def read(path: str) -> str | None:
            for layer in layers:
                candidate = Path(layer) / path.lstrip("/")
                if candidate.is_file():
                    return candidate.read_text(errors="replace")
            return None
        return read

    def _joined_pid(self, record: dict) -> int:
        """The pid of the running container whose network namespace this one joins."""
        ref = networking.joined(record["host_config"])
        try:
            other = self._find(ref)
        except NotFound:
            raise InvalidRequest(f"cannot join network namespace of container {ref}: it was removed") from None
        if self.state(other) not in (lifecycle.RUNNING, lifecycle.PAUSED):
            raise Conflict(f"cannot join network namespace of a non running container: {other['name']}")
        return other["pid"]

    def _spec(self, record: dict) -> runtime_spec.Spec:
        config, host, image = record["config"], record["host_config"], record["image_config"]
        directory = self._dir(record["id"])
        uid, gid, groups = self._user(record, config.get("User") or image.get("User") or "")
        mode = networking.mode(host)
        namespaces = ["mnt", "uts", "ipc", "pid", "cgroup"] + ([] if mode == "host" else ["net"])
        netns = f"/proc/{self._joined_pid(record)}/ns/net" if networking.joined(host) else ""
        mask = security.capabilities_for(host)
        program, flags = security.seccomp_for(host, mask)
        args, mounts = merge.command(image, config), self._mounts(record)
        if host.get("Init"):  # docker's --init: a reaper as PID 1 that forwards signals
            mounts.append(runtime_spec.Mount("/sbin/docker-init", "bind", _init_binary(), True))
            args = ["/sbin/docker-init", "--"] + args
        return runtime_spec.Spec(
            id=record["id"], rootfs_lower=list(self._layers(record["image"])),
            rootfs_upper=str(directory / "upper"), rootfs_work=str(directory / "work"),
            rootfs_merged=str(directory / "merged"),
            args=args, env=merge.environment(image, config),
            cwd=config.get("WorkingDir") or image.get("WorkingDir") or "/",
            uid=uid, gid=gid, groups=groups + [int(g) for g in host.get("GroupAdd") or []],
            hostname=record["hostname"] if mode != "host" else "", netns_path=netns,
            domainname=config.get("Domainname") or "", namespaces=namespaces,
            etc_files={"/etc/hostname": str(directory / "hostname"),
                       "/etc/hosts": str(directory / "hosts"),
                       "/etc/resolv.conf": str(directory / "resolv.conf")},
            mounts=mounts, read_only=bool(host.get("ReadonlyRootfs")),
            shm_size=int(host.get("ShmSize") or 64 * 1024 * 1024),
            capabilities=mask, privileged=bool(host.get("Privileged")),
            seccomp_filter=program, seccomp_flags=flags, no_new_privileges=security.no_new_privileges(host),
            masked_paths=runtime_spec.MASKED_PATHS, readonly_paths=runtime_spec.READONLY_PATHS,
            sysctls=dict(host.get("Sysctls") or {}), tty=bool(config.get("Tty")),
            rlimits={u["Name"]: (u["Soft"], u["Hard"]) for u in host.get("Ulimits") or []},
            cgroup=record["id"],
            cgroup_tasks=[str(d / "tasks") for d in self.cgroups.dirs(record["id"])]
            if self.cgroups.version == 1 else [])

    def _volume(self, name: str, target: str, read_only: bool, nocopy: bool,
                anonymous: bool = False) -> runtime_spec.Mount:
        if self.volumes is None:
            raise InvalidRequest(f"named volume {name!r} needs the volume service")
        # docker creates a named volume on first use; an anonymous one is labelled so
        self.volumes.create(name, labels={ANONYMOUS: ""} if anonymous else None)
        return runtime_spec.Mount(target, "volume", str(self.volumes.path(name)), read_only,
                                  copy_up=not nocopy)

    def _mounts(self, record: dict) -> list[runtime_spec.Mount]:
        host = record["host_config"]
        mounts = []
        for bind in host.get("Binds") or []:
            source, target, *options = bind.split(":")
            flags = options[0].split(",") if options else []
            if not source.startswith("/"):
                mounts.append(self._volume(source, target, "ro" in flags, "nocopy" in flags))
                continue
            if not os.path.lexists(source):  # docker makes a missing bind source a directory
                os.makedirs(source)
            mounts.append(runtime_spec.Mount(target, "bind", source, "ro" in flags,
                                             next((f for f in flags if "private" in f or "shared" in f
                                                   or "slave" in f), "rprivate")))
        for target, options in (host.get("Tmpfs") or {}).items():
            mounts.append(runtime_spec.Mount(target, "tmpfs", options=[o for o in options.split(",") if o]))
        for mount in host.get("Mounts") or []:
            kind = mount.get("Type", "volume")
            if kind == "tmpfs":
                tmpfs = mount.get("TmpfsOptions") or {}
                options = [f"size={tmpfs['SizeBytes']}"] if tmpfs.get("SizeBytes") else []
                options += [f"mode={tmpfs['Mode']:o}"] if tmpfs.get("Mode") else []
                mounts.append(runtime_spec.Mount(mount["Target"], "tmpfs", read_only=bool(mount.get("ReadOnly")),
                                                 options=options))
            elif kind == "bind":
                if (mount.get("BindOptions") or {}).get("CreateMountpoint") and not os.path.lexists(mount["Source"]):
                    os.makedirs(mount["Source"])  # docker's create_host_path for a Mounts entry
                propagation = (mount.get("BindOptions") or {}).get("Propagation") or "rprivate"
                mounts.append(runtime_spec.Mount(mount["Target"], "bind", mount["Source"],
                                                 bool(mount.get("ReadOnly")), propagation))
            elif kind == "volume":
                name = mount.get("Source") or record["anonymous_volumes"][mount["Target"]]
                nocopy = bool((mount.get("VolumeOptions") or {}).get("NoCopy"))
                mounts.append(self._volume(name, mount["Target"], bool(mount.get("ReadOnly")), nocopy,
                                           anonymous=not mount.get("Source")))
            else:
                raise InvalidRequest(f"mount type {kind!r} is not supported yet")
        return mounts

    @staticmethod
    def _limits(host: dict):
        from engine.runtime.cgroups import DEFAULT_DEVICES, Limits
        cpus = (host.get("NanoCpus") or 0) / 1e9 or None
        memory = host.get("Memory") or None
        # docker: memory alone allows as much swap again (memory+swap = 2 x memory)
        swap = host.get("MemorySwap") or (2 * memory if memory else None)
        return Limits(memory=memory, memory_swap=swap,
                      cpu_shares=host.get("CpuShares") or None, cpus=cpus,
                      cpuset_cpus=host.get("CpusetCpus") or None, cpuset_mems=host.get("CpusetMems") or None,
                      pids=host.get("PidsLimit") or None, blkio_weight=host.get("BlkioWeight") or None,
                      devices=None if host.get("Privileged") else DEFAULT_DEVICES)

    # -- stop, kill, wait ---------------------------------------------------------------
    def kill(self, ref: str, signal: str | int | None = None) -> None:
        record = self._find(ref)
        number = parse_signal(signal)
        lifecycle.check("kill", self.state(record), record["name"])
        self._set_policy_state(record, manually_stopped=True)
        if self.state(record) == lifecycle.PAUSED and number == signals.SIGKILL:
            self.cgroups.kill_all(record["id"], number)
            self.cgroups.thaw(record["id"])
            return
        os.kill(record["pid"], number)

    def stop(self, ref: str, timeout: float | None = None) -> None:
        record = self._find(ref)
        state = self.state(record)
        self._set_policy_state(record, manually_stopped=True)
        if state == lifecycle.RESTARTING:  # between two runs: the next one is off
            self.store.delete("restarting", record["id"])
            return
        if state not in (lifecycle.RUNNING, lifecycle.PAUSED):
            return  # docker: stopping a stopped container is a no-op (304)
        config = record["config"]
        grace = timeout if timeout is not None else config.get("StopTimeout", 10)
        number = parse_signal(config.get("StopSignal"), signals.SIGTERM)
        if state == lifecycle.PAUSED:
            self.cgroups.thaw(record["id"])
        os.kill(record["pid"], number)
        if not self._wait_exit(record, grace):
            self.cgroups.kill_all(record["id"], signals.SIGKILL)
            self._wait_exit(record, 10)
        self._released(record)

    # -- restart policies ------------------------------------------------------------
    def _set_policy_state(self, record: dict, **fields) -> None:
        """Fields of the restart policy's bookkeeping, written only when a
        policy is set and something changes (most containers have none)."""
        if ((record["host_config"].get("RestartPolicy") or {}).get("Name") or "no") == "no":
            return
        stored = self.store.read("containers", record["id"])
        if stored is None or all(stored.get(k, 0) == v for k, v in fields.items()):
            return
        stored.update(fields)
        self.store.write("containers", record["id"], stored)

    def after_exit(self, ref: str, pid: int | None) -> float | None:
        """The container's run ``pid`` (None: whichever ran last) ended: the
        seconds to wait before its restart policy starts it again (it is
        ``restarting`` meanwhile), or None."""
        record = self._find(ref)
        state = self.state(record)
        if pid is not None and (record.get("pid") != pid or state != lifecycle.EXITED):
            return None
        if state not in (lifecycle.EXITED, lifecycle.RESTARTING):
            return None
        exit_record = self._exit_of(record) or {}
        if not restart.wanted(record["host_config"].get("RestartPolicy"), exit_record.get("exit_code", 0),
                              record.get("policy_restarts", 0), bool(record.get("manually_stopped"))):
            return None
        now = time.time()
        wait = restart.delay(record.get("restart_delay", 0),
                             exit_record.get("finished_at", now) - record.get("started_at", now))
        self._set_policy_state(record, restart_delay=wait)
        self.store.write("restarting", record["id"], {"at": now + wait})
        return wait

    def policy_restart(self, ref: str) -> bool:
        """Start it again for its restart policy, unless a user stopped or
        started it meanwhile. Whether it started."""
        record = self._find(ref)
        if not self.store.delete("restarting", record["id"]) or record.get("manually_stopped"):
            return False
        if self.state(record) in (lifecycle.RUNNING, lifecycle.PAUSED):
            return False
        stored = self.store.read("containers", record["id"])
        stored["restart_count"] = stored.get("restart_count", 0) + 1
        stored["policy_restarts"] = stored.get("policy_restarts", 0) + 1
        self.store.write("containers", record["id"], stored)
        self.start(record["id"], by_policy=True)
        return True

    def _released(self, record: dict) -> None:
        """It stopped: its addresses, names and published ports go at once."""
        if self.networks is not None:
            self.networks.release(record["id"], record.get("pid"))

    def _wait_exit(self, record: dict, timeout: float) -> bool:
        deadline = time.monotonic() + max(timeout, 0)
        while time.monotonic() <= deadline:
            if self._exit_of(record) is not None:
                return True
            time.sleep(0.005)
        return self._exit_of(record) is not None

    def _exit_of(self, record: dict) -> dict | None:
        """The exit record, once the supervisor has reaped the process."""
        found = self.store.read("exits", record["id"])
        if found and found.get("pid") == record.get("pid"):
            return found
        return None

    def wait(self, ref: str, condition: str = "not-running", timeout: float | None = None) -> dict:
        """Until ``condition``; TimeoutError after ``timeout``."""
        record = self._find(ref)
        if condition == "removed":  # its next exit (or the last), then its removal
            state = self.state(record)
            if state in (lifecycle.CREATED, lifecycle.RUNNING, lifecycle.PAUSED):
                result = self.wait(ref, "next-exit" if state == lifecycle.CREATED else "not-running",
                                   timeout)
            else:
                result = {"StatusCode": (self._exit_of(record) or {}).get("exit_code", 0), "Error": None}
            while self.store.read("containers", record["id"]) is not None:
                time.sleep(0.01)
            return result
        called = time.time()

        def exited(found: dict | None) -> bool:
            # next-exit: an exit after this call, not one recorded before it
            return found is not None and (condition != "next-exit" or found["finished_at"] >= called)
        # A started container has exited once the supervisor recorded it
        # (the pid may be gone a moment before the record is written).
        if condition == "next-exit" or record.get("pid"):
            deadline = None if timeout is None else time.monotonic() + timeout
            pause = 0.0002
            while not exited(self._exit_of(record)):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"container {record['name']} did not exit in {timeout} s")
                # Sleep on the process itself; once it is gone, the supervisor
                # writes its exit record within moments.
                if process.await_exit(record.get("pid") or 0, record.get("pid_start_time"),
                                      0.5 if left is None else min(left, 0.5)):
                    time.sleep(pause)  # no process (yet, for next-exit): back off to 50 ms
                    pause = min(pause * 2, 0.05)
                record = self._find(record["id"])
        exit_record = self._exit_of(record) or {}
        return {"StatusCode": exit_record.get("exit_code", 0), "Error": None}

    def restart(self, ref: str, timeout: float | None = None) -> None:
        self.stop(ref, timeout)
        self.start(ref)

    def stats(self, ref: str) -> dict:
        """Memory, CPU and pids of a running container (docker's stats fields)."""
        record = self._find(ref)
        if self.state(record) not in (lifecycle.RUNNING, lifecycle.PAUSED):
            return {"memory_stats": {}, "cpu_stats": {}, "pids_stats": {}}
        found = self.cgroups.stats(record["id"])
        return {"memory_stats": {"usage": found.memory_usage, "limit": found.memory_limit,
                                 "max_usage": found.memory_max_usage},
                "cpu_stats": {"cpu_usage": {"total_usage": found.cpu_usage_ns}},
                "pids_stats": {"current": found.pids_current}}

    def top(self, ref: str) -> dict:
        """The container's processes, ``ps -ef``-like (docker's /top shape)."""
        record = self._find(ref)
        lifecycle.check("exec", self.state(record), record["name"])
        rows = [process.describe(pid) for pid in sorted(self.cgroups.pids(record["id"]))]
        return {"Titles": ["UID", "PID", "PPID", "CMD"], "Processes": [r for r in rows if r]}

    def exec_run(self, ref: str, cmd: list[str], **options) -> tuple[int, bytes, bytes]:
        """Run ``cmd`` in the running container; see execute.exec_run."""
        from .execute import exec_run
        return exec_run(self, ref, cmd, **options)

    def exec_start(self, ref: str, cmd: list[str], **options):
        """Start ``cmd`` in the running container; see execute.exec_start."""
        from .execute import exec_start
        return exec_start(self, ref, cmd, **options)

    # -- pause -------------------------------------------------------------------
    def pause(self, ref: str) -> None:
        record = self._find(ref)
        lifecycle.check("pause", self.state(record), record["name"])
        self.cgroups.freeze(record["id"])

    def unpause(self, ref: str) -> None:
        record = self._find(ref)
        lifecycle.check("unpause", self.state(record), record["name"])
        self.cgroups.thaw(record["id"])

    UPDATABLE = ("Memory", "MemorySwap", "MemoryReservation", "CpuShares", "NanoCpus", "CpusetCpus",
                 "CpusetMems", "PidsLimit", "BlkioWeight", "RestartPolicy")

    def update(self, ref: str, changes: dict) -> None:
        """docker update: new limits for the container, applied to its cgroups
        at once when it has them; the record's revision moves on (a PID 1
        prepared with the old ones is made again at start)."""
        record = self._find(ref)
        wrong = sorted(k for k, v in changes.items() if k not in self.UPDATABLE and v not in (None, 0, "", [], {}))
        if wrong:
            raise InvalidRequest(f"update of {', '.join(wrong)} is not supported")
        stored = self.store.read("containers", record["id"])
        host = dict(stored["host_config"])
        if changes.get("RestartPolicy") is not None:
            restart.check(changes["RestartPolicy"], bool(host.get("AutoRemove")))
        host.update({k: v for k, v in changes.items() if k in self.UPDATABLE and v not in (None, "")})
        limits = self._limits(host)
        if self.cgroups.exists(record["id"]):
            try:
                self.cgroups.apply(record["id"], limits)
            except RuntimeFailure as error:
                raise InvalidRequest(f"Cannot update container {record['id']}: {error}") from None
        stored["host_config"] = host
        stored["revision"] = stored.get("revision", 0) + 1
        self.store.write("containers", record["id"], stored)

    # -- networks ----------------------------------------------------------------------
    def connect(self, ref: str, network: str, settings: dict | None = None) -> None:
        """docker network connect: at once when it runs, at its next start otherwise."""
        record = self._find(ref)
        host = record["host_config"]
        if self.networks is None or not networking.may_join(host):
            raise Forbidden("container sharing network namespace with another container or host cannot be "
                            f"connected to any other network (container {record['name']} is in network mode "
                            f"{networking.mode(host)})")
        wish = self.networks.endpoint_config(network, {network: settings or {}})
        name, = wish
        if name in record["networks"]:
            raise Forbidden(f"endpoint with name {record['name']} already exists in network {name}")
        if self.state(record) in (lifecycle.RUNNING, lifecycle.PAUSED):
            fd = process.namespace(record["pid"], record.get("pid_start_time"), "net")
            if fd is None:
                raise Conflict(f"container {record['name']} is not running")
            try:
                found = self.networks.connect(record["id"], name, wish[name], fd, hostname=record["hostname"],
                                              name=record["name"])
            finally:
                os.close(fd)
            networking.write_hosts(self._dir(record["id"]), host, record["hostname"],
                                   record["config"].get("Domainname") or "",
                                   [e["ip"] for e in found["networks"].values()])
        stored = self.store.read("containers", record["id"])
        stored["networks"] = {**stored.get("networks", {}), **wish}
        self.store.write("containers", record["id"], stored)

    def disconnect(self, ref: str, network: str) -> None:
        record = self._find(ref)
        target = self.networks.find(network) if self.networks is not None else None
        if target is None or target["name"] not in (record.get("networks") or {}):
            raise InvalidRequest(f"container {record['id']} is not connected to network {network}")
        if self.state(record) in (lifecycle.RUNNING, lifecycle.PAUSED):
            self.networks.disconnect(record["id"], target["id"])
        stored = self.store.read("containers", record["id"])
        stored["networks"] = {k: v for k, v in stored["networks"].items() if k != target["name"]}
        self.store.write("containers", record["id"], stored)

    def network_users(self, nid: str) -> list[str]:
        """Containers that want network ``nid`` (running or not)."""
        return [cid for cid, record in self.store.records("containers")
                if any(w.get("NetworkID") == nid for w in (record.get("networks") or {}).values())]

    def rename(self, ref: str, name: str) -> None:
        """docker rename: the new name is claimed first, then the old one released."""
        record = self._find(ref)
        name = name.lstrip("/")
        if not _NAME.fullmatch(name):
            raise InvalidRequest(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        if name == record["name"]:
            raise Conflict("Renaming a container with the same name as its current name")
        self._claim_name(name, record["id"])
        old = dict(record)
        stored = self.store.read("containers", record["id"])
        stored["name"] = name
        self.store.write("containers", record["id"], stored)
        self._release_name(old)
        if self.networks is not None:
            self.networks.renamed(record["id"], old["name"], name)

    def prune(self) -> list[str]:
        """Remove every stopped container (docker container prune); their ids."""
        removed = []
        for cid, record in self._records().items():
            if self.state(record) in (lifecycle.EXITED, lifecycle.DEAD, lifecycle.CREATED):
                try:
                    self.remove(cid)
                except (Conflict, NotFound):
                    continue  # started or removed meanwhile
                removed.append(cid)
        return removed

    # -- remove --------------------------------------------------------------------
    def remove(self, ref: str, force: bool = False, volumes: bool = False) -> None:
        record = self._find(ref)
        state = self.state(record)
        if force and state in (lifecycle.RUNNING, lifecycle.PAUSED):
            self.cgroups.kill_all(record["id"], signals.SIGKILL)
            if state == lifecycle.PAUSED:
                self.cgroups.thaw(record["id"])
            self._wait_exit(record, 10)
            state = self.state(record)
        if force and state == lifecycle.RESTARTING:
            self.store.delete("restarting", record["id"])
            state = self.state(record)
        lifecycle.check("remove", state, record["name"])
        if self.networks is not None:
            self.networks.release(record["id"])
        if state == lifecycle.CREATED:
            self._discard(record)
        self.cgroups.destroy(record["id"])
        shutil.rmtree(self._dir(record["id"]), ignore_errors=True)
        for kind in ("exits", "runs", "health", "restarting"):
            self.store.delete(kind, record["id"])
        self.store.delete("containers", record["id"])
        self._release_name(record)
        if volumes and self.volumes is not None:  # `rm -v`: the anonymous volumes go too
            for name in (record.get("anonymous_volumes") or {}).values():
                self.volumes.remove(name, force=True)

    # -- reading ----------------------------------------------------------------------
    def list(self, all: bool = False) -> list[dict]:
        """docker ps: one read per container (two or three for one that ran),
        the runtime records only where the directory listings have them."""
        runs, exits = set(self.store.keys("runs")), set(self.store.keys("exits"))
        out = []
        for cid, record in self.store.records("containers"):
            if cid in runs:
                record.update(self.store.read("runs", cid) or {})
                if self._checked(record):
                    record["health"] = self.store.read("health", cid)
            exit_record = self.store.read("exits", cid) if cid in exits else None
            state = self.state(record, exit_record)
            if all or state in (lifecycle.RUNNING, lifecycle.PAUSED):
                valid = exit_record if exit_record and exit_record.get("pid") == record.get("pid") else {}
                out.append(views.summary(record, state, valid, self._endpoints(record, state),
                                         volume_source=self._volume_source))
        return sorted(out, key=lambda c: -c["Created"])

    def inspect(self, ref: str) -> dict:
        record = self._find(ref)
        state = self.state(record)
        return views.inspect(record, state, self._exit_of(record) or {}, self._endpoints(record, state),
                             self._network_id, self._volume_source)

    def _endpoints(self, record: dict, state: str) -> dict | None:
        if self.networks is None or state not in (lifecycle.RUNNING, lifecycle.PAUSED):
            return None
        return self.networks.endpoints(record["id"])

    def _network_id(self, name: str) -> str:
        return self.networks.find(name)["id"] if self.networks is not None else ""

    def _volume_source(self, name: str) -> str:
        """A volume's host directory; "" before its first start creates it."""
        try:
            return str(self.volumes.path(name)) if self.volumes is not None else ""
        except VolumeNotFound:
            return ""

    def volume_users(self, name: str) -> list[str]:
        """Containers whose mounts name the volume (the volume service's in_use)."""
        users = []
        for cid, record in self._records().items():
            host = record["host_config"]
            names = [b.split(":")[0] for b in host.get("Binds") or []]
            names += [m.get("Source") for m in host.get("Mounts") or [] if m.get("Type") == "volume"]
            names += list((record.get("anonymous_volumes") or {}).values())
            if name in names:
                users.append(cid)
        return users

    def reconcile(self) -> list[str]:
        """At start-up: remove what a crash left half-made (temp records,
        directories without a record, cgroups of no running container).
        Returns what was removed, for the log."""
        removed = [str(p) for p in self.store.sweep_temporaries()]
        records = self._records()
        for cid, record in sorted(records.items(), key=lambda item: item[1]["created"]):
            try:  # a crash between a create's record and its name claim
                self._claim_name(record["name"], cid)
            except Conflict:
                self.store.delete("containers", cid)
                del records[cid]
                removed.append(f"container {cid} (its name is another's)")
        for name in self.store.keys("names"):
            entry = self.store.read("names", name)
            if not entry or entry["id"] not in records:
                self.store.delete("names", name)
                removed.append(f"name {name}")
        for kind in ("runs", "exits", "health", "restarting"):
            for cid in self.store.keys(kind):
                if cid not in records:
                    self.store.delete(kind, cid)
                    removed.append(f"{kind} record {cid}")
        for directory in sorted((self.root / "containers").glob("*/")):
            if directory.name not in records:
                shutil.rmtree(directory, ignore_errors=True)
                removed.append(str(directory))
        for name in self.cgroups.list():  # a created container's holds its prepared PID 1
            if name not in records or self.state(records[name]) in (lifecycle.EXITED, lifecycle.DEAD):
                self.cgroups.destroy(name)
                removed.append(f"cgroup {name}")
        return removed

    def shutdown(self) -> None:
        """Stop the supervisor (tests, ``engine stop``): only when no container runs."""
        try:
            reply = supervisor.request(self.run, {"op": "shutdown"}, timeout=5)
        except OSError:
            return
        if "error" in reply:
            raise Conflict(reply["error"])

    def logs(self, ref: str, *, tail: int | None = None, since: float | None = None,
             until: float | None = None) -> list[logs.Entry]:
        record = self._find(ref)
        return logs.read(Path(record["log_path"]), tail=tail, since=since, until=until)

    def log_path(self, ref: str) -> Path:
        return Path(self._find(ref)["log_path"])

    def output_ended(self, ref: str) -> bool:
        """Whether the container's output has ended: not running, and its exit
        recorded (the supervisor writes it after the last output), or gone."""
        try:
            record = self._find(ref)
        except NotFound:
            return True
        if self.state(record) in (lifecycle.RUNNING, lifecycle.PAUSED):
            return False
        return not record.get("pid") or self._exit_of(record) is not None

    def follow_logs(self, ref: str, *, tail: int | None = None):
        """The last ``tail`` entries, then new ones as they come,
        until the container has stopped and its log is drained (``logs -f``):
        the supervisor writes the exit record after the last output."""
        record = self._find(ref)
        path = Path(record["log_path"])
        existing = logs.read(path)  # read once: what comes after is the follower's
        seen = len(existing)
        if tail is None or tail < 0:
            yield from existing
        elif tail > 0:
            yield from existing[-tail:]

        def stopped() -> bool:
            return self.output_ended(record["id"])
        for index, entry in enumerate(logs.follow(path, stopped, poll=0.01)):
            if index >= seen:
                yield entry
