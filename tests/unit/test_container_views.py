"""docker ps's STATUS text (Go's units.HumanDuration), docker's ``Mounts``,
which network modes may join networks — no root needed."""
from __future__ import annotations

import pytest

from engine.client.units import human_duration
from engine.containers.networking import may_join
from engine.containers.views import mounts, status


@pytest.mark.parametrize("seconds, text", [
    (0.4, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
    (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"), (3600, "About an hour"),
    (5399, "About an hour"), (5400, "2 hours"), (47 * 3600, "47 hours"), (48 * 3600, "2 days"),
    (14 * 86400, "2 weeks"), (60 * 86400, "2 months"), (730 * 86400, "2 years"),
])
def test_human_duration_as_go_units(seconds, text):
    assert human_duration(seconds) == text


def test_status_of_each_state():
    record = {"started_at": 100.0}
    assert status(record, "running", {}, 103) == "Up 3 seconds"
    assert status(record, "paused", {}, 160) == "Up About a minute (Paused)"
    assert status(record, "exited", {"exit_code": 3, "finished_at": 150.0}, 152) == "Exited (3) 2 seconds ago"
    assert status({}, "created", {}, 0) == "Created"


def test_mounts_in_dockers_shape_from_binds_and_mounts():
    record = {"host_config": {
        "Binds": ["data:/data", "/srv:/srv:ro"], "Tmpfs": {"/run": ""},
        "Mounts": [{"Type": "volume", "Target": "/anon"}, {"Type": "tmpfs", "Target": "/tmp", "ReadOnly": True},
                   {"Type": "bind", "Source": "/etc", "Target": "/host-etc"}]},
        "anonymous_volumes": {"/anon": "f" * 64}}
    assert mounts(record, lambda name: f"/v/{name}/_data") == [
        {"Type": "volume", "Name": "data", "Source": "/v/data/_data", "Destination": "/data", "Driver": "local",
         "Mode": "", "RW": True, "Propagation": ""},
        {"Type": "bind", "Source": "/srv", "Destination": "/srv", "Mode": "ro", "RW": False,
         "Propagation": "rprivate"},
        {"Type": "volume", "Name": "f" * 64, "Source": f"/v/{'f' * 64}/_data", "Destination": "/anon",
         "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""},
        {"Type": "tmpfs", "Source": "", "Destination": "/tmp", "Mode": "", "RW": False, "Propagation": ""},
        {"Type": "bind", "Source": "/etc", "Destination": "/host-etc", "Mode": "", "RW": True,
         "Propagation": "rprivate"}]


@pytest.mark.parametrize("mode, allowed", [
    ("bridge", True), ("proj_backend", True), (None, False), ("none", False), ("host", False),
    ("container:abc", False)])
def test_networks_join_any_mode_but_shared_or_none(mode, allowed):
    assert may_join({"NetworkMode": mode} if mode else {}) is allowed
