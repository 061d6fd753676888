"""Image references as docker spells them: parse, normalize, familiarize.

Owns the grammar of distribution/reference (``[domain/]path[:tag][@digest]``),
docker's normalization (``busybox`` is ``docker.io/library/busybox:latest``)
and the reverse ("familiar") form docker prints, plus the test for image-id
strings. Pure: standard library and engine.images.errors only; no file system.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from engine.images.errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[[a-fA-F0-9:]+\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

REFERENCE_RE = re.compile(rf"((?:{_DOMAIN}/)?{_PATH})(?::({_TAG}))?(?:@({_DIGEST}))?")
TAG_RE = re.compile(_TAG)
DOMAIN_RE = re.compile(_DOMAIN)
ID_RE = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
ID_PREFIX_RE = re.compile(r"(?:sha256:)?([0-9a-f]{1,64})")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True)
class Reference:
    """A normalized reference: ``domain`` and ``path`` always set."""
    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        rest = self.path
        if rest.startswith(OFFICIAL_PREFIX) and "/" not in rest[len(OFFICIAL_PREFIX):]:
            rest = rest[len(OFFICIAL_PREFIX):]
        return rest

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.name + self._suffix()

    @property
    def familiar(self) -> str:
        return self.familiar_name + self._suffix()

    def with_default_tag(self) -> Reference:
        """docker's TagNameOnly: add ``latest`` when neither tag nor digest."""
        if self.tag is None and self.digest is None:
            return replace(self, tag=DEFAULT_TAG)
        return self

    def lookup_key(self) -> Reference:
        """The form names are stored under: ``name@digest`` or ``name:tag``."""
        if self.digest:
            return replace(self, tag=None)
        return self.with_default_tag()


def _split_docker_domain(text: str) -> tuple[str, str]:
    head, slash, rest = text.partition("/")
    if not slash or ("." not in head and ":" not in head and head != "localhost"
                     and head.lower() == head):
        domain, remainder = DEFAULT_DOMAIN, text
    else:
        domain, remainder = head, rest
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


def validate_digest(digest: str) -> str:
    algorithm, _, encoded = digest.partition(":")
    length = _DIGEST_LENGTHS.get(algorithm)
    if length is None:
        raise InvalidReference("unsupported digest algorithm")
    if len(encoded) != length:
        raise InvalidReference("invalid checksum digest length")
    if not re.fullmatch(r"[a-f0-9]+", encoded):
        raise InvalidReference("invalid checksum digest format")
    return digest


def parse_reference(text: str) -> Reference:
    """docker's ParseNormalizedNamed, with its error messages."""
    if ID_RE.fullmatch(text) and not text.startswith("sha256:"):
        raise InvalidReference(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    domain, remainder = _split_docker_domain(text)
    remote_name = remainder.split(":", 1)[0]
    if remote_name.lower() != remote_name:
        raise InvalidReference(
            f"invalid reference format: repository name ({remote_name}) must be lowercase")
    full = f"{domain}/{remainder}"
    match = REFERENCE_RE.fullmatch(full)
    if match is None:
        if not text:
            raise InvalidReference("repository name must have at least one component")
        raise InvalidReference("invalid reference format")
    if len(match.group(1)) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(
            f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")
    digest = match.group(3)
    if digest:
        validate_digest(digest)
    path = match.group(1)[len(domain) + 1:]
    return Reference(domain=domain, path=path, tag=match.group(2), digest=digest)


def parse_tag(text: str) -> str:
    if not TAG_RE.fullmatch(text):
        raise InvalidReference("invalid tag format")
    return text


def normalize(text: str) -> Reference:
    """Parse and add the default tag: the key a name is stored and found by."""
    return parse_reference(text).lookup_key()


def id_prefix(text: str) -> str | None:
    """The hex part when ``text`` could be (a prefix of) an image id, else None."""
    match = ID_PREFIX_RE.fullmatch(text)
    return match.group(1) if match else None


def short_id(image_id: str) -> str:
    """docker's stringid.TruncateID: 12 hex digits, no algorithm."""
    return image_id.split(":", 1)[-1][:12]


def not_found_name(text: str) -> str:
    """How docker names a missing image: the familiar form with ``latest`` added."""
    if ID_RE.fullmatch(text):
        return text if text.startswith("sha256:") else f"sha256:{text}"
    try:
        return parse_reference(text).with_default_tag().familiar
    except InvalidReference:
        return text
