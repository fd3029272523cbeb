"""Waiting for what a live worker does: poll a condition until it holds or time runs out."""

import time


def wait_for(predicate, timeout: float = 60.0, every: float = 0.3) -> bool:
    """True as soon as `predicate()` is true; False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False
