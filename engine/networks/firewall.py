"""The engine's netfilter rules, through the ``iptables`` tools (whichever
backend the host's alternatives choose: the one a Docker on the same host
uses, so that our accept rules sit in the very FORWARD chain its DROP
policy guards).

Everything lives in chains of our own, jumped to from the built-in ones:

- filter ``DOCKYARD-FORWARD`` (first in FORWARD): replies and published
  ports into our bridges, then one chain per network (``DYF-<id12>``):
  traffic within the bridge, isolation from our other bridges, the way out
  (none for an internal network), nothing else in;
- nat ``DOCKYARD-POSTROUTING`` (first in POSTROUTING): one chain per network
  (``DYN-<id12>``): masquerade of what leaves for elsewhere, and of what a
  published port brings in from the host itself (loopback) or from the same
  bridge (hairpin);
- nat ``DOCKYARD-PORTS`` (from PREROUTING and OUTPUT, for local
  destinations): one chain per container with published ports
  (``DYP-<id12>``), its DNAT rules.

Rule texts are pure functions; ``Iptables`` applies them as one
``iptables-restore --noflush`` transaction each, after reading what exists
(``iptables-save``), so adding and removing are idempotent.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from .errors import NetworkError

FORWARD, POSTROUTING, PORTS = "DOCKYARD-FORWARD", "DOCKYARD-POSTROUTING", "DOCKYARD-PORTS"
BRIDGE_PREFIX = "dy-"  # every bridge of ours: isolation matches them with dy-+

# (table, built-in chain, rule spec of the jump): made once, kept
_JUMPS = [("filter", "FORWARD", f"-j {FORWARD}"),
          ("nat", "POSTROUTING", f"-j {POSTROUTING}"),
          ("nat", "PREROUTING", f"-m addrtype --dst-type LOCAL -j {PORTS}"),
          ("nat", "OUTPUT", f"-m addrtype --dst-type LOCAL -j {PORTS}")]
_BASE_RULES = {FORWARD: [f"-o {BRIDGE_PREFIX}+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                         f"-o {BRIDGE_PREFIX}+ -m conntrack --ctstate DNAT -j ACCEPT"]}
_TABLE_OF = {FORWARD: "filter", POSTROUTING: "nat", PORTS: "nat"}


@dataclass(frozen=True)
class PortRule:
    protocol: str  # tcp or udp
    host_ip: str  # "" or 0.0.0.0: every local address
    host_port: int
    address: str  # the container's
    port: int


def network_chains(key: str) -> tuple[str, str]:
    return f"DYF-{key[:12]}", f"DYN-{key[:12]}"


def ports_chain(key: str) -> str:
    return f"DYP-{key[:12]}"


def forward_rules(bridge: str, internal: bool) -> list[str]:
    rules = [f"-i {bridge} -o {bridge} -j ACCEPT",
             f"-i {bridge} -o {BRIDGE_PREFIX}+ -j DROP"]
    rules.append(f"-i {bridge} -j {'DROP' if internal else 'ACCEPT'}")
    rules.append(f"-o {bridge} -j DROP")
    return rules


def nat_rules(bridge: str, subnet: str, internal: bool) -> list[str]:
    rules = [] if internal else [f"-s {subnet} ! -o {bridge} -j MASQUERADE"]
    return rules + [f"-o {bridge} -m conntrack --ctstate DNAT -m addrtype --src-type LOCAL -j MASQUERADE",
                    f"-o {bridge} -s {subnet} -m conntrack --ctstate DNAT -j MASQUERADE"]


def port_rules(rules: list[PortRule]) -> list[str]:
    out = []
    for rule in rules:
        where = f"-d {rule.host_ip}/32 " if rule.host_ip not in ("", "0.0.0.0") else ""
        out.append(f"{where}-p {rule.protocol} -m {rule.protocol} --dport {rule.host_port} "
                   f"-j DNAT --to-destination {rule.address}:{rule.port}")
    return out


def _chains_in(saved: str) -> set[str]:
    return {line[1:].split()[0] for line in saved.splitlines() if line.startswith(":")}


class Iptables:
    """Applies the rules; ``binary`` is ``iptables`` (its -save and -restore beside it)."""

    def __init__(self, binary: str = "iptables") -> None:
        self.binary = binary

    def _run(self, *args: str, script: str | None = None) -> str:
        program = shutil.which(args[0])
        if program is None:
            raise NetworkError(f"{args[0]} is not installed: networks need Debian's iptables package "
                               "(make installs it)")
        done = subprocess.run([program, *args[1:]], input=script, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            detail = done.stderr.strip() or done.stdout.strip()
            raise NetworkError(f"{args[0]} failed: {detail}" + (f"\nrules:\n{script}" if script else ""))
        return done.stdout

    def _saved(self, table: str) -> str:
        return self._run(f"{self.binary}-save", "-t", table)

    def _restore(self, sections: dict[str, list[str]]) -> None:
        script = "".join(f"*{table}\n" + "".join(f"{line}\n" for line in lines) + "COMMIT\n"
                         for table, lines in sections.items() if lines)
        if script:
            self._run(f"{self.binary}-restore", "--noflush", "-w", script=script)

    def ensure_base(self) -> None:
        """Our top chains and the jumps to them (once per boot, idempotent)."""
        saved = {table: self._saved(table) for table in ("filter", "nat")}
        sections: dict[str, list[str]] = {"filter": [], "nat": []}
        for chain, table in _TABLE_OF.items():
            if chain not in _chains_in(saved[table]):
                sections[table].append(f":{chain} - [0:0]")
                sections[table] += [f"-A {chain} {rule}" for rule in _BASE_RULES.get(chain, [])]
        for table, builtin, spec in _JUMPS:
            if f"-A {builtin} {spec}" not in saved[table].splitlines():
                sections[table].append(f"-I {builtin} 1 {spec}")
        self._restore(sections)

    def _replace_chain(self, table: str, parent: str, chain: str, rules: list[str]) -> list[str]:
        """Lines that (re)make ``chain`` with ``rules``, jumped to from ``parent`` once."""
        saved = self._saved(table)
        lines = [f":{chain} - [0:0]"] + [f"-A {chain} {rule}" for rule in rules]
        if f"-A {parent} -j {chain}" not in saved.splitlines():
            lines.append(f"-A {parent} -j {chain}")
        return lines

    def _drop_chain(self, table: str, parent: str, chain: str) -> list[str]:
        saved = self._saved(table)
        if chain not in _chains_in(saved):
            return []
        lines = [f":{chain} - [0:0]"]  # a declaration flushes it
        if f"-A {parent} -j {chain}" in saved.splitlines():
            lines.append(f"-D {parent} -j {chain}")
        return lines + [f"-X {chain}"]

    def add_network(self, key: str, bridge: str, subnet: str, internal: bool) -> None:
        forward, nat = network_chains(key)
        self._restore({"filter": self._replace_chain("filter", FORWARD, forward, forward_rules(bridge, internal)),
                       "nat": self._replace_chain("nat", POSTROUTING, nat, nat_rules(bridge, subnet, internal))})

    def remove_network(self, key: str) -> None:
        forward, nat = network_chains(key)
        self._restore({"filter": self._drop_chain("filter", FORWARD, forward),
                       "nat": self._drop_chain("nat", POSTROUTING, nat)})

    def add_ports(self, key: str, rules: list[PortRule]) -> None:
        self._restore({"nat": self._replace_chain("nat", PORTS, ports_chain(key), port_rules(rules))})

    def remove_ports(self, key: str) -> None:
        self._restore({"nat": self._drop_chain("nat", PORTS, ports_chain(key))})

    def chains(self) -> set[str]:
        """Our per-network and per-container chains that exist (reconcile, leak checks)."""
        if shutil.which(f"{self.binary}-save") is None:
            return set()  # no tool, so none of ours were ever made here
        found = set()
        for table in ("filter", "nat"):
            found |= {c for c in _chains_in(self._saved(table)) if c.startswith(("DYF-", "DYN-", "DYP-"))}
        return found
