"""Names, labels and the config hash: Docker Compose v2's compatibility contract.

Owns how Dockyard names what it creates (``<project>-<service>-<n>``,
``<project>_default``, ``<project>_<volume>``), the image name of a service
without one, and ``com.docker.compose.config-hash``: the sha256 of the
service's configuration as compose v2 serializes it (Go's ``json.Marshal`` of
the service without build, pull_policy, scale, replicas, depends_on and
profiles), so that a change in any of those does not recreate a container.

Standard library only.
"""
from __future__ import annotations

import copy
import hashlib
import json

SEPARATOR = "-"
_HASH_IGNORED = ("build", "pull_policy", "scale", "depends_on", "profiles")


def image_name(project: str, service: str, config: dict) -> str:
    """The service's image, or the name compose gives the image it builds."""
    return config.get("image") or f"{project}{SEPARATOR}{service}"


def go_json(value) -> str:
    """Go's compact ``json.Marshal`` text: no spaces, and <, >, & escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def config_hash(service_json: dict) -> str:
    """``com.docker.compose.config-hash`` of a service rendered in compose's
    JSON shape (``shape.render(model, "json")["services"][name]``)."""
    service = copy.deepcopy(service_json)
    for key in _HASH_IGNORED:
        service.pop(key, None)
    if isinstance(service.get("deploy"), dict):
        service["deploy"].pop("replicas", None)
    return hashlib.sha256(go_json(service).encode("utf-8")).hexdigest()
