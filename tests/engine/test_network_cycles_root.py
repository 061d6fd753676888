"""No leak after 100 cycles of: create a network, attach 10 container
namespaces, let them go, remove the network (network_cycles.py, run inside
a namespace of this test's own): no bridge, veth, netfilter chain, DNS
socket or record left."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.netns import chains, links, make_netns

pytestmark = pytest.mark.root
SCENARIO = Path(__file__).with_name("network_cycles.py")


def test_a_hundred_cycles_leave_nothing(tmp_path):
    netns = make_netns("dyc")
    try:
        done = subprocess.run(["nsenter", f"--net=/run/netns/{netns}", sys.executable, str(SCENARIO),
                               str(tmp_path / "root"), "100"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        left = json.loads(done.stdout)
        assert left == {"problems": [], "dns": [], "networks": ["bridge", "host", "none"], "endpoints": []}
        deadline = time.monotonic() + 5  # veths go with their namespaces, a moment after
        while (kernel := [link["ifname"] for link in links(netns) if link["ifname"] != "lo"]) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        assert kernel == [], kernel
        assert {c for c in chains(netns) if c.startswith(("DYF-", "DYN-", "DYP-"))} == set()
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)
