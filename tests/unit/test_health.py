"""Health check rules (engine/containers/health.py), without containers."""
from __future__ import annotations

from engine.containers import health

S = health.SECOND


def test_settings_merge_the_container_over_the_image_and_defaults():
    image = {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 5 * S}}
    check = health.settings(image, {"Healthcheck": {"Retries": 7}})
    assert check == health.Check(["/bin/sh", "-c", "curl -f localhost"], 5.0, 30.0, 0.0, 5.0, 7)
    assert health.settings(image, {"Healthcheck": {"Test": ["NONE"]}}) is None
    assert health.settings({}, {}) is None
    assert health.settings({}, {"Healthcheck": {"Test": ["CMD", "true"]}}).command == ["true"]


def _result(code: int, at: float) -> dict:
    return {"Start": at, "End": at, "ExitCode": code, "Output": ""}


def test_retries_in_a_row_make_it_unhealthy_and_a_success_heals():
    check = health.Check(["true"], 1, 1, 0, 1, 2)
    state, event = health.after(health.initial(), check, _result(1, 1), 0)
    assert (state["Status"], state["FailingStreak"], event) == ("starting", 1, None)
    state, event = health.after(state, check, _result(1, 2), 0)
    assert (state["Status"], event) == ("unhealthy", "unhealthy")
    state, event = health.after(state, check, _result(1, 3), 0)
    assert (state["Status"], state["FailingStreak"], event) == ("unhealthy", 3, None)
    state, event = health.after(state, check, _result(0, 4), 0)
    assert (state["Status"], state["FailingStreak"], event) == ("healthy", 0, "healthy")


def test_the_start_period_forgives_failures_but_not_after_a_success():
    check = health.Check(["true"], 1, 1, 10, 0.5, 1)
    state, _ = health.after(health.initial(), check, _result(1, 3), 0)
    assert (state["Status"], state["FailingStreak"]) == ("starting", 0)
    state, _ = health.after(state, check, _result(0, 4), 0)
    state, event = health.after(state, check, _result(1, 5), 0)
    assert (state["Status"], event) == ("unhealthy", "unhealthy")  # healthy once: failures count
    assert health.next_delay(check, 0, 3) == 0.5 and health.next_delay(check, 0, 11) == 1


def test_the_log_keeps_the_last_five():
    check = health.Check(["true"], 1, 1, 0, 1, 3)
    state = health.initial()
    for at in range(8):
        state, _ = health.after(state, check, _result(0, at), 0)
    assert [entry["Start"] for entry in state["Log"]] == [3, 4, 5, 6, 7]
