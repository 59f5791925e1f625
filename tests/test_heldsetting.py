"""A process-wide setting held while any caller needs it: changed by the first holder, put back by
the last, nested and across threads."""

from __future__ import annotations

import threading

from triage.heldsetting import HeldSetting


def test_the_first_holder_changes_it_and_the_last_puts_it_back():
    state = {"value": "normal"}
    calls = []

    def change():
        calls.append("change")
        was, state["value"] = state["value"], "held"
        return was

    def restore(was):
        calls.append("restore")
        state["value"] = was

    setting = HeldSetting(change, restore)
    with setting.held():
        with setting.held():
            assert state["value"] == "held"
        assert state["value"] == "held"
    assert state["value"] == "normal"
    assert calls == ["change", "restore"]


def test_holders_in_other_threads_keep_it_held():
    state = {"value": 0}
    setting = HeldSetting(lambda: state.update(value=1), lambda was: state.update(value=0))
    entered, leave = threading.Event(), threading.Event()

    def other():
        with setting.held():
            entered.set()
            leave.wait(5)

    t = threading.Thread(target=other)
    t.start()
    entered.wait(5)
    with setting.held():
        pass
    assert state["value"] == 1          # the other thread still holds it
    leave.set()
    t.join(5)
    assert state["value"] == 0
