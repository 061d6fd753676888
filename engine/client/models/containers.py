"""``client.containers``: docker-py's ``Container`` and
``ContainerCollection`` (run, create, get, list, prune)."""
from __future__ import annotations

from collections import namedtuple

from ..errors import ContainerError, DockerException, ImageNotFound, NotFound
from ..runargs import create_container_args
from .images import Image
from .resource import Collection, Model

ExecResult = namedtuple("ExecResult", "exit_code,output")


class Container(Model):
    @property
    def name(self) -> str | None:
        name = self.attrs.get("Name")
        return name.lstrip("/") if name is not None else None

    @property
    def image(self) -> Image | None:
        image_id = self.attrs.get("ImageID", self.attrs["Image"])
        if image_id is None:
            return None
        return self.client.images.get(image_id.partition(":")[2] or image_id)

    @property
    def labels(self) -> dict:
        try:
            return self.attrs["Config"].get("Labels") or {}
        except KeyError as error:
            raise DockerException("Label data is not available for sparse objects. "
                                  "Call reload() to retrieve all information") from error

    @property
    def status(self) -> str:
        state = self.attrs["State"]
        return state["Status"] if isinstance(state, dict) else state

    @property
    def health(self) -> str:
        return self.attrs.get("State", {}).get("Health", {}).get("Status", "unknown")

    @property
    def ports(self) -> dict:
        return (self.attrs.get("NetworkSettings") or {}).get("Ports") or {}

    def attach(self, **kwargs):
        return self.client.api.attach(self.id, **kwargs)

    def attach_socket(self, **kwargs):
        return self.client.api.attach_socket(self.id, **kwargs)

    def diff(self) -> list:
        return self.client.api.diff(self.id)

    def exec_run(self, cmd, stdout=True, stderr=True, stdin=False, tty=False, privileged=False, user="",
                 detach=False, stream=False, socket=False, environment=None, workdir=None,
                 demux=False) -> ExecResult:
        """(exit code, output); the exit code is None with ``stream`` or ``socket``."""
        created = self.client.api.exec_create(self.id, cmd, stdout=stdout, stderr=stderr, stdin=stdin, tty=tty,
                                              privileged=privileged, user=user, environment=environment,
                                              workdir=workdir)
        output = self.client.api.exec_start(created["Id"], detach=detach, tty=tty, stream=stream,
                                            socket=socket, demux=demux)
        if socket or stream:
            return ExecResult(None, output)
        return ExecResult(self.client.api.exec_inspect(created["Id"])["ExitCode"], output)

    def get_archive(self, path, chunk_size=None, encode_stream=False):
        return self.client.api.get_archive(self.id, path, chunk_size, encode_stream)

    def put_archive(self, path, data) -> bool:
        return self.client.api.put_archive(self.id, path, data)

    def kill(self, signal=None) -> None:
        self.client.api.kill(self.id, signal=signal)

    def logs(self, **kwargs):
        """``stdout``, ``stderr``, ``stream``, ``timestamps``, ``tail``,
        ``since``, ``follow``, ``until``: see ``APIClient.logs``."""
        return self.client.api.logs(self.id, **kwargs)

    def pause(self) -> None:
        self.client.api.pause(self.id)

    def unpause(self) -> None:
        self.client.api.unpause(self.id)

    def remove(self, **kwargs) -> None:
        """``v``, ``link``, ``force``."""
        self.client.api.remove_container(self.id, **kwargs)

    def rename(self, name) -> None:
        self.client.api.rename(self.id, name)

    def resize(self, height, width) -> None:
        self.client.api.resize(self.id, height, width)

    def restart(self, **kwargs) -> None:
        self.client.api.restart(self.id, **kwargs)

    def start(self, **kwargs) -> None:
        self.client.api.start(self.id, **kwargs)

    def stats(self, **kwargs):
        return self.client.api.stats(self.id, **kwargs)

    def stop(self, **kwargs) -> None:
        """``timeout``: seconds before SIGKILL."""
        self.client.api.stop(self.id, **kwargs)

    def top(self, **kwargs) -> dict:
        return self.client.api.top(self.id, **kwargs)

    def update(self, **kwargs) -> dict:
        return self.client.api.update_container(self.id, **kwargs)

    def wait(self, **kwargs) -> dict:
        """``timeout``, ``condition``: ``{"StatusCode": n, "Error": ...}``."""
        return self.client.api.wait(self.id, **kwargs)


class ContainerCollection(Collection):
    model = Container

    def run(self, image, command=None, stdout=True, stderr=False, remove=False, **kwargs):
        """``docker run``: with ``detach``, the started container; else its
        output (stdout, and stderr with ``stderr=True``) once it exits, as
        bytes (an iterator with ``stream``). A non-zero exit raises
        ``ContainerError`` with the container's stderr. A missing image is
        pulled first."""
        if isinstance(image, Image):
            image = image.id
        stream = kwargs.pop("stream", False)
        detach = kwargs.pop("detach", False)
        if detach and remove:
            kwargs["auto_remove"] = True
        if kwargs.get("network") and kwargs.get("network_mode"):
            raise RuntimeError('The options "network" and "network_mode" can not be used together.')
        if kwargs.get("networking_config") and not kwargs.get("network"):
            raise RuntimeError('The option "networking_config" can not be used without "network".')
        try:
            container = self.create(image=image, command=command, detach=detach, **kwargs)
        except ImageNotFound:
            self.client.images.pull(image, platform=kwargs.get("platform"))
            container = self.create(image=image, command=command, detach=detach, **kwargs)
        container.start()
        if detach:
            return container
        return self._output_of(container, image, command, stdout, stderr, stream, remove, kwargs)

    def _output_of(self, container, image, command, stdout, stderr, stream, remove, kwargs):
        log_driver = ((container.attrs.get("HostConfig") or {}).get("LogConfig") or {}).get("Type", "json-file")
        out = None
        if log_driver in ("json-file", "journald"):
            out = container.logs(stdout=stdout, stderr=stderr, stream=True, follow=True)
        exit_status = container.wait()["StatusCode"]
        if exit_status != 0:
            if out is not None:
                out.close()
            out = None if kwargs.get("auto_remove") else container.logs(stdout=False, stderr=True)
        elif out is not None and not stream:
            out = [b"".join(out)]  # all of it before the container goes (docker-py reads after)
        if remove:
            container.remove()
        if exit_status != 0:
            raise ContainerError(container, exit_status, command, image, out)
        if stream or out is None:
            return out
        return b"".join(out)

    def create(self, image, command=None, **kwargs) -> Container:
        """``docker create``: docker-py's keyword arguments (see ``run``)."""
        if isinstance(image, Image):
            image = image.id
        arguments = create_container_args(dict(kwargs, image=image, command=command,
                                               version=self.client.api.api_version))
        return self.get(self.client.api.create_container(**arguments)["Id"])

    def get(self, container_id) -> Container:
        return self.prepare_model(self.client.api.inspect_container(container_id))

    def list(self, all=False, before=None, filters=None, limit=-1, since=None, sparse=False,
             ignore_removed=False) -> list[Container]:
        """``filters``: docker's (``name``, ``label``, ``status``, ...). Each
        container inspected unless ``sparse``."""
        found = self.client.api.containers(all=all, before=before, filters=filters, limit=limit, since=since)
        if sparse:
            return [self.prepare_model(entry) for entry in found]
        containers = []
        for entry in found:
            try:
                containers.append(self.get(entry["Id"]))
            except NotFound:  # removed while we went through the list
                if not ignore_removed:
                    raise
        return containers

    def prune(self, filters=None) -> dict:
        return self.client.api.prune_containers(filters=filters)
