"""Restart policy rules (engine/containers/restart.py)."""
from __future__ import annotations

import pytest

from engine.containers import restart
from engine.containers.errors import InvalidRequest


@pytest.mark.parametrize("policy, code, restarts, stopped, expected", [
    (None, 1, 0, False, False),
    ({"Name": "no"}, 1, 0, False, False),
    ({"Name": "always"}, 0, 50, False, True),
    ({"Name": "always"}, 0, 0, True, False),
    ({"Name": "unless-stopped"}, 0, 0, False, True),
    ({"Name": "unless-stopped"}, 1, 0, True, False),
    ({"Name": "on-failure"}, 0, 0, False, False),
    ({"Name": "on-failure"}, 2, 99, False, True),
    ({"Name": "on-failure", "MaximumRetryCount": 2}, 2, 1, False, True),
    ({"Name": "on-failure", "MaximumRetryCount": 2}, 2, 2, False, False),
])
def test_which_exits_restart(policy, code, restarts, stopped, expected):
    assert restart.wanted(policy, code, restarts, stopped) is expected


def test_the_delay_doubles_up_to_a_minute_and_starts_over_after_a_long_run():
    assert restart.delay(0, 0) == 0.1
    assert restart.delay(0.1, 1) == 0.2
    assert restart.delay(40, 1) == 60
    assert restart.delay(60, 1) == 60
    assert restart.delay(60, 10) == 0.1


@pytest.mark.parametrize("policy, auto_remove, words", [
    ({"Name": "sometimes"}, False, "invalid restart policy 'sometimes'"),
    ({"Name": "always", "MaximumRetryCount": 1}, False, "only be used with 'on-failure'"),
    ({"Name": "on-failure", "MaximumRetryCount": -1}, False, "cannot be negative"),
    ({"Name": "always"}, True, "--restart and --rm"),
])
def test_what_docker_refuses(policy, auto_remove, words):
    with pytest.raises(InvalidRequest, match=words):
        restart.check(policy, auto_remove)
    restart.check({"Name": "no"}, True)
