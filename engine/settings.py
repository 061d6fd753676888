"""The daemon's config file (JSON, docker's ``daemon.json`` keys where they
exist): ``default-address-pools`` (``[{"base": "10.10.0.0/16", "size":
24}]``) and ``dns`` (the upstream resolvers of the embedded DNS server,
instead of the host's resolv.conf). A missing file is an empty one; an
unknown key or a bad value is an error naming the file and the key."""
from __future__ import annotations

import json
from ipaddress import IPv4Address
from pathlib import Path

from engine.networks import ipam
from engine.networks.service import DNS_PORT, Settings

KNOWN = ("default-address-pools", "dns")


class ConfigFileError(ValueError):
    pass


def load(path: Path) -> Settings:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return Settings()
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ConfigFileError(f"{path}: not valid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ConfigFileError(f"{path}: expected a JSON object")
    unknown = sorted(set(document) - set(KNOWN))
    if unknown:
        raise ConfigFileError(f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(KNOWN)})")
    settings = Settings()
    if "default-address-pools" in document:
        try:
            settings.pools = ipam.parse_pools(document["default-address-pools"])
        except (ipam.IpamError, TypeError) as error:
            raise ConfigFileError(f"{path}: default-address-pools: {error}") from None
    for server in document.get("dns") or []:
        host, _, port = str(server).rpartition(":") if str(server).count(":") == 1 else (str(server), "", "")
        try:
            IPv4Address(host)
        except ValueError:
            raise ConfigFileError(f"{path}: dns: {server!r} is not an IPv4 address (ADDRESS or ADDRESS:PORT)") \
                from None
        settings.dns.append((host, int(port) if port.isdigit() else DNS_PORT))
    return settings
