"""Compose's small value languages: port specs, volume specs, byte sizes,
durations, shell words, host lists, key=value lists.

Each parser takes the text a user wrote and returns plain data in the long
syntax, or raises ``ValueError`` with a message that says what is wrong; the
canonical stage turns that into a located ConfigError. The semantics are
Docker's (go-connections/nat, go-units, compose-go format), so that a file
means here what it means to Docker Compose v2.

Standard library only (plus errors.quote).
"""
from __future__ import annotations

import ipaddress
import math
import re
import shlex
from decimal import Decimal

from .errors import quote

# -- ports -----------------------------------------------------------------

_PROTOCOLS = ("tcp", "udp", "sctp")


def _port_number(text: str, what: str, spec: str) -> int:
    if not text.isdigit():
        raise ValueError(f"invalid port {quote(spec)}: {what} {quote(text)} is not a number")
    value = int(text)
    if value > 65535:
        raise ValueError(f"invalid port {quote(spec)}: port {value} is out of range 0-65535")
    return value


def _port_range(text: str, what: str, spec: str) -> tuple[int, int]:
    if text == "":
        raise ValueError(f"invalid port {quote(spec)}: empty {what}")
    start, sep, end = text.partition("-")
    first = _port_number(start, what, spec)
    if not sep or start == end:
        return first, first
    last = _port_number(end, what, spec)
    if last < first:
        raise ValueError(f"invalid port {quote(spec)}: range {text} ends before it starts")
    return first, last


def _split_port(spec: str) -> tuple[str, str, str]:
    parts = spec.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def parse_port(spec: str) -> list[dict]:
    """``[HOST_IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/PROTO]`` -> long syntax
    entries, one per container port, ordered as compose orders them."""
    host_ip, host_port, container = _split_port(spec)
    container, _, protocol = container.partition("/")
    protocol = (protocol or "tcp").lower()
    if container == "":
        raise ValueError(f"invalid port {quote(spec)}: no container port")
    if protocol not in _PROTOCOLS:
        raise ValueError(f"invalid port {quote(spec)}: unknown protocol {quote(protocol)} (use tcp, udp or sctp)")
    if host_ip.startswith("["):
        host_ip = host_ip[1:-1] if host_ip.endswith("]") else host_ip
    if host_ip:
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise ValueError(f"invalid port {quote(spec)}: {quote(host_ip)} is not an IP address") from None
    start, end = _port_range(container, "container port", spec)
    host_start = host_end = 0
    if host_port:
        host_start, host_end = _port_range(host_port, "host port", spec)
        if end - start != host_end - host_start and end != start:
            raise ValueError(f"invalid port {quote(spec)}: the host range {host_port} and the "
                             f"container range {container} differ in size")
    count = end - start + 1
    entries = []
    for i in range(count):
        published = ""
        if host_port:
            published = str(host_start + i)
            if count == 1 and host_start != host_end:
                published += f"-{host_end}"
        entry = {"mode": "ingress"}
        if host_ip:
            entry["host_ip"] = host_ip
        entry["target"] = start + i
        if published:
            entry["published"] = published
        entry["protocol"] = protocol
        entries.append(entry)
    # compose sorts the ports of one spec by their "PORT/PROTO" text.
    entries.sort(key=lambda e: f"{e['target']}/{protocol}")
    return entries


# -- volumes ---------------------------------------------------------------

_PROPAGATIONS = ("rprivate", "private", "rshared", "shared", "rslave", "slave")
_SELINUX = ("z", "Z")


def _is_windows_drive(buffer: str, char: str) -> bool:
    return char == ":" and len(buffer) == 1 and buffer.isalpha()


def _is_file_path(source: str) -> bool:
    if not source:
        return False
    if source[0] in "./~" or source.startswith("\\\\"):
        return True
    return len(source) > 1 and _is_windows_drive(source[0], source[1])


def _volume_fields(spec: str) -> list[str]:
    """Split on ':' outside ${...} and after a Windows drive letter."""
    fields, buffer, depth = [], "", 0
    i = 0
    while i < len(spec):
        char = spec[i]
        if char == "$" and spec[i + 1:i + 2] == "{":
            depth += 1
            buffer += char
        elif char == "}" and depth:
            depth -= 1
            buffer += char
        elif _is_windows_drive(buffer, char):
            buffer += char
        elif char == ":" and not depth:
            fields.append(buffer)
            buffer = ""
        else:
            buffer += char
        i += 1
    fields.append(buffer)
    return fields


def parse_volume(spec: str) -> dict:
    """``[SOURCE:]TARGET[:OPTIONS]`` -> long syntax."""
    if spec == "":
        raise ValueError("invalid volume \"\": empty volume spec")
    if len(spec) <= 2:
        return {"type": "volume", "target": spec, "volume": {}}
    fields = _volume_fields(spec)
    if any(f == "" for f in fields):
        raise ValueError(f"invalid volume {quote(spec)}: empty section between colons")
    if len(fields) > 3:
        raise ValueError(f"invalid volume {quote(spec)}: too many colons")
    volume: dict = {}
    if len(fields) == 1:
        volume["target"] = fields[0]
    else:
        volume["source"], volume["target"] = fields[0], fields[1]
    bind: dict = {}
    options = fields[2].split(",") if len(fields) == 3 else []
    for option in options:
        if option == "ro":
            volume["read_only"] = True
        elif option == "rw":
            volume.pop("read_only", None)
        elif option == "nocopy":
            volume["volume"] = {"nocopy": True}
        elif option in _PROPAGATIONS:
            bind["propagation"] = option
        elif option in _SELINUX:
            bind["selinux"] = option
    if _is_file_path(volume.get("source", "")):
        bind["create_host_path"] = True
        return {"type": "bind", **volume, "bind": bind}
    out = {"type": "volume", **volume}
    out.setdefault("volume", {})
    if bind:
        out["bind"] = bind
    return out


# -- sizes and durations ---------------------------------------------------

_SIZE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(value) -> int:
    """A memory size as Docker reads it (``512m``, ``1.5g``, ``1024``); binary units."""
    if isinstance(value, bool):
        raise ValueError(f"invalid size {quote(value)}")
    if isinstance(value, (int, float)):
        return int(value)
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"invalid size {quote(value)} (use a number with an optional unit: b, k, m, g)")
    try:
        number = float(match.group(1))
    except ValueError:
        raise ValueError(f"invalid size {quote(value)}") from None
    return int(number * _UNITS[(match.group(2) or "").lower()])


_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
       "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
       "d": 86_400_000_000_000, "w": 604_800_000_000_000}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w)")


def parse_duration(value) -> int:
    """A duration (``1m30s``, ``2h``, ``1.5s``, ``3d``) in nanoseconds."""
    text = str(value)
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if body == "0":
        return 0
    position, total = 0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != position:
            break
        total += round(float(match.group(1)) * _NS[match.group(2)])
        position = match.end()
    if position != len(body) or not body:
        raise ValueError(f"invalid duration {quote(text)} (use a number with a unit, e.g. 30s, 1m30s, 2h)")
    return sign * total


def _fraction(value: int, unit: int) -> str:
    whole, rest = divmod(value, unit)
    if not rest:
        return str(whole)
    digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"


def format_duration(ns: int) -> str:
    """Go's time.Duration.String(): ``1m30s``, ``1h0m0s``, ``1.5s``, ``500ms``."""
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{_fraction(ns, 1_000)}µs"
    if ns < 1_000_000_000:
        return f"{sign}{_fraction(ns, 1_000_000)}ms"
    minutes, rest = divmod(ns, 60_000_000_000)
    text = _fraction(rest, 1_000_000_000) + "s"
    if minutes:
        hours, minutes = divmod(minutes, 60)
        text = (f"{hours}h" if hours else "") + f"{minutes}m" + text
    return sign + text


# -- commands, hosts, key=value --------------------------------------------

def shell_words(text: str) -> list[str]:
    """Split a command string into words as a POSIX shell would (no expansion)."""
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise ValueError(f"invalid command line string {quote(text)}: {exc}") from None


def parse_hosts(entries) -> dict[str, list[str]]:
    """extra_hosts (``host:ip``, ``host=ip`` or a mapping) -> host -> addresses."""
    hosts: dict[str, list[str]] = {}
    if isinstance(entries, dict):
        for host, ips in entries.items():
            ips = "" if ips is None else ips
            hosts[host] = [str(i) for i in ips] if isinstance(ips, list) else [str(ips)]
    else:
        for entry in entries:
            entry = str(entry)
            for separator in ("=", ":"):
                host, found, ips = entry.partition(separator)
                if found:
                    hosts.setdefault(host, []).extend(ips.split(","))
                    break
            else:
                raise ValueError(f"invalid extra host {quote(entry)}: missing IP address (use host:ip)")
    for host, ips in hosts.items():
        if not host or ":" in host or "=" in host:
            raise ValueError(f"bad host name {quote(host)}")
        hosts[host] = [ip[1:-1] if len(ip) > 2 and ip[0] == "[" and ip[-1] == "]" else ip for ip in ips]
    return hosts


def go_float(value: float) -> str:
    """A float as Go's ``%v`` prints it: shortest digits, exponent form below
    1e-4 and from 1e6 on (``1e+06``, ``1.5e-05``), ``+Inf``, ``NaN``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits)) or "0"
    if text == "0":
        return "-0" if sign else "0"
    exp = len(text) + exponent - 1
    minus = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{minus}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    point = exp + 1
    if point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    if point >= len(text):
        return minus + text + "0" * (point - len(text))
    return f"{minus}{text[:point]}.{text[point:]}"


def go_string(value) -> str:
    """A scalar as Go's fmt.Sprint prints it (``true``, ``1.5``, ``10``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)
