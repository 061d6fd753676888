"""The client's errors: docker-py's tree and names, plus what a request that
never got an answer raises (docker-py lets ``requests`` errors through; we
do not, so a caller needs to catch ``DockerException`` only).

    DockerException
     ├── APIError                 the daemon answered 4xx/5xx: status_code, explanation
     │    └── NotFound            404
     │         └── ImageNotFound  404 whose message names a missing image (docker's words)
     ├── TransportError           no answer: the connection failed or broke
     │    ├── ConnectionFailed    nothing listens at the address (the daemon is not up)
     │    └── Timeout             no answer in time
     ├── ContainerError           containers.run: the command exited non-zero
     ├── InvalidVersion, InvalidArgument, InvalidRepository, DeprecatedMethod
     ├── NullResource (also a ValueError)
     ├── ImageLoadError, BuildError
     └── StreamParseError

``from_response`` is the only place an HTTP answer becomes an error (docker-py
picks ``ImageNotFound`` by the message text, so the daemon must use docker's
wording); ``engine.client.transport`` is the only place httpx's errors become
``TransportError``.
"""
from __future__ import annotations

_IMAGE_NOT_FOUND_WORDS = (
    "no such image",
    "not found: does not exist or no pull access",
    "repository does not exist",
    "was found but does not match the specified platform",
)


class DockerException(Exception):
    """The base of every error this client raises."""


class APIError(DockerException):
    """An HTTP error from the API: ``status_code``, ``explanation`` (the
    daemon's ``message``) and the httpx ``response``."""

    def __init__(self, message, response=None, explanation: str | None = None) -> None:
        super().__init__(message)
        self.response = response
        self.explanation = explanation

    def __str__(self) -> str:
        message = super().__str__()
        if self.is_client_error():
            message = f"{self.status_code} Client Error for {self._url()}: {self._reason()}"
        elif self.is_server_error():
            message = f"{self.status_code} Server Error for {self._url()}: {self._reason()}"
        if self.explanation:
            message = f'{message} ("{self.explanation}")'
        return message

    def _url(self) -> str:
        try:
            return str(self.response.url)
        except (AttributeError, RuntimeError):  # a response built without its request
            return "?"

    def _reason(self) -> str:
        return getattr(self.response, "reason_phrase", "") or ""

    @property
    def status_code(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    def is_error(self) -> bool:
        return self.is_client_error() or self.is_server_error()

    def is_client_error(self) -> bool:
        return self.status_code is not None and 400 <= self.status_code < 500

    def is_server_error(self) -> bool:
        return self.status_code is not None and 500 <= self.status_code < 600


class NotFound(APIError):
    pass


class ImageNotFound(NotFound):
    pass


class TransportError(DockerException):
    """The request got no answer (the daemon is unreachable, or the connection broke)."""

    def __init__(self, message: str, base_url: str | None = None) -> None:
        super().__init__(message)
        self.base_url = base_url


class ConnectionFailed(TransportError):
    pass


class Timeout(TransportError):
    pass


class InvalidVersion(DockerException):
    pass


class InvalidRepository(DockerException):
    pass


class InvalidArgument(DockerException):
    pass


class DeprecatedMethod(DockerException):
    pass


class NullResource(DockerException, ValueError):
    pass


class ImageLoadError(DockerException):
    pass


class StreamParseError(DockerException):
    def __init__(self, reason) -> None:
        super().__init__(reason)
        self.msg = reason


class BuildError(DockerException):
    def __init__(self, reason, build_log) -> None:
        super().__init__(reason)
        self.msg = reason
        self.build_log = build_log


class ContainerError(DockerException):
    """A container that exited with a non-zero code (``containers.run``)."""

    def __init__(self, container, exit_status: int, command, image, stderr) -> None:
        self.container = container
        self.exit_status = exit_status
        self.command = command
        self.image = image
        self.stderr = stderr
        detail = f": {stderr}" if stderr is not None else ""
        super().__init__(f"Command '{command}' in image '{image}' "
                         f"returned non-zero exit status {exit_status}{detail}")


def explanation_of(response) -> str:
    """docker's error document's ``message``, else the body as text."""
    try:
        return response.json()["message"]
    except (ValueError, KeyError, TypeError):
        return (response.text or "").strip()


def from_response(response) -> APIError:
    """The error for a 4xx/5xx answer (its body already read)."""
    explanation = explanation_of(response)
    cls = APIError
    if response.status_code == 404:
        lowered = (explanation or "").lower()
        cls = ImageNotFound if any(words in lowered for words in _IMAGE_NOT_FOUND_WORDS) else NotFound
    return cls(f"{response.status_code} {response.reason_phrase}", response=response,
               explanation=explanation)


def unexpected_kwargs(name: str, kwargs) -> TypeError:
    """What Python says for unknown keyword arguments, as docker-py words it."""
    quoted = [f"'{key}'" for key in sorted(kwargs)]
    if len(quoted) == 1:
        return TypeError(f"{name}() got an unexpected keyword argument {quoted[0]}")
    return TypeError(f"{name}() got unexpected keyword arguments {', '.join(quoted)}")
