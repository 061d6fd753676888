"""``/_ping``, ``/version``, ``/info``: what clients ask before anything
else (the docker CLI negotiates its API version from ``/_ping``)."""
from __future__ import annotations

import os
import platform
import socket

from .http import API_VERSION, MIN_API_VERSION, Request, Response, document
from .routes import Router, blocking

VERSION = "0.1.0"


class System:
    def __init__(self, engine) -> None:
        self.engine = engine

    def register(self, router: Router) -> None:
        router.add("GET", "/_ping", self.ping)
        router.add("GET", "/version", self.version)
        router.add("GET", "/info", self.info)

    async def ping(self, request: Request) -> Response:
        return Response(200, b"OK", content_type="text/plain; charset=utf-8",
                        headers=[("Cache-Control", "no-cache, no-store, must-revalidate"),
                                 ("Pragma", "no-cache"), ("Docker-Experimental", "false")])

    async def version(self, request: Request) -> Response:
        uname = platform.uname()
        return document({
            "Platform": {"Name": "Dockyard Engine"},
            "Components": [{"Name": "Engine", "Version": VERSION,
                            "Details": {"ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
                                        "Os": "linux", "Arch": "amd64", "KernelVersion": uname.release}}],
            "Version": VERSION, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": "", "GoVersion": f"python{platform.python_version()}", "Os": "linux",
            "Arch": "amd64", "KernelVersion": uname.release, "BuildTime": ""})

    async def info(self, request: Request) -> Response:
        containers = await blocking(self.engine.containers.list, all=True)
        images = await blocking(self.engine.images.list)
        states = [c["State"] for c in containers]
        cgroups = self.engine.containers.cgroups
        return document({
            "ID": self.engine.id, "Name": socket.gethostname(), "ServerVersion": VERSION,
            "Containers": len(states), "ContainersRunning": states.count("running"),
            "ContainersPaused": states.count("paused"),
            "ContainersStopped": len(states) - states.count("running") - states.count("paused"),
            "Images": len(images), "Driver": "overlay", "DockerRootDir": str(self.engine.root),
            "OSType": "linux", "OperatingSystem": _os_name(), "Architecture": platform.machine(),
            "KernelVersion": platform.release(), "NCPU": os.cpu_count() or 1,
            "MemTotal": _mem_total(), "CgroupDriver": "cgroupfs",
            "CgroupVersion": str(cgroups.version), "SecurityOptions": ["name=seccomp,profile=builtin"],
            "LoggingDriver": "json-file", "DefaultRuntime": "dockyard", "Runtimes": {"dockyard": {}},
            "Swarm": {"LocalNodeState": "inactive", "NodeID": "", "NodeAddr": ""},
            "Plugins": {"Volume": ["local"], "Network": ["host", "none"], "Log": ["json-file"]},
            "Labels": [], "Warnings": []})


def _os_name() -> str:
    try:
        with open("/etc/os-release") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def _mem_total() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0
