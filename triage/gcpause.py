"""The cyclic garbage collector held off while a command builds many values at once (issue 17).

`health` over 5,000 pods decodes ~100,000 JSON dicts and lists and keeps ~30,000 frozen values:
every 700 allocations start a collection, and the full ones walk everything alive so far, ~1/6 of
the command's CPU, to find no cycle at all (the values are trees, freed by reference counting).
Nothing changes but when cycles are freed: at the end of the pause, by the next collection.

Nestable and thread-safe (`serve`'s workers may run health checks side by side): the first to
enter disables the collector when it was enabled, the last to leave enables it again.
"""

from __future__ import annotations

import gc

from triage.heldsetting import HeldSetting


def _disable() -> bool:
    was = gc.isenabled()
    gc.disable()
    return was


def _reenable(was: bool) -> None:
    if was:
        gc.enable()


paused = HeldSetting(_disable, _reenable).held
