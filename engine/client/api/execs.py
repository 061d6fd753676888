"""``/containers/{id}/exec`` and ``/exec/...``: docker-py's ``docker/api/exec_api.py``."""
from __future__ import annotations

from ..errors import InvalidVersion
from ..transport import HijackedSocket
from ..utils import format_environment, split_command
from .base import resource_id
from .containers import UPGRADE


class ExecAPI:
    def exec_create(self, container, cmd, stdout=True, stderr=True, stdin=False, tty=False, privileged=False,
                    user="", environment=None, workdir=None, detach_keys=None) -> dict:
        if isinstance(cmd, str):
            cmd = split_command(cmd)
        if isinstance(environment, dict):
            environment = format_environment(environment)
        data = {"Container": resource_id(container, "container"), "User": user, "Privileged": privileged,
                "Tty": tty, "AttachStdin": stdin, "AttachStdout": stdout, "AttachStderr": stderr, "Cmd": cmd,
                "Env": environment}
        if workdir is not None:
            if not self.version_at_least("1.35"):
                raise InvalidVersion("workdir is not supported for API version < 1.35")
            data["WorkingDir"] = workdir
        if detach_keys:
            data["detachKeys"] = detach_keys
        return self._result(self._post(self._url("/containers/{0}/exec", data["Container"]), json_body=data),
                            json=True)

    def exec_inspect(self, exec_id) -> dict:
        if isinstance(exec_id, dict):
            exec_id = exec_id.get("Id")
        return self._result(self._get(self._url("/exec/{0}/json", exec_id)), json=True)

    def exec_resize(self, exec_id, height=None, width=None) -> None:
        if isinstance(exec_id, dict):
            exec_id = exec_id.get("Id")
        self._raise_for_status(self._post(self._url("/exec/{0}/resize", exec_id), params={"h": height, "w": width}))

    def exec_start(self, exec_id, detach=False, tty=False, stream=False, socket=False, demux=False):
        """The command's output (bytes, or (stdout, stderr) with ``demux``),
        an iterator of it with ``stream``, the connection with ``socket``,
        or the daemon's answer with ``detach``."""
        exec_id = resource_id(exec_id, "exec")
        response = self._post(self._url("/exec/{0}/start", exec_id), json_body={"Tty": tty, "Detach": detach},
                              headers={} if detach else UPGRADE, stream=True, timeout=None)
        if detach:
            try:
                return self._result(response)
            finally:
                response.close()
        self._raise_for_status(response)
        if socket:
            return HijackedSocket(response, self.base_url)
        return self._output(response, None, stream, tty=tty, demux=demux, hijacked=True)
