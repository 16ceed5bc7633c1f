"""Waiting for a cloud API that throttles or is unavailable, within the run's budget: each
pause is said as progress, and a pause that would pass the total the run may wait ends the
run instead (the collector's own error, saying how long it waited). Shared by the collectors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cyberstd.messages import Msg, msg


@dataclass
class Patience:
    """How long a run may wait in all, how it waits and where it says so."""

    limit: float
    sleep: Callable[[float], None]
    progress: Callable[[Msg], None]
    waited: float = 0.0

    def pause(self, delay: float, why: Msg, what: str, error: Callable[[Msg], Exception]) -> None:
        """Wait `delay` seconds before trying `what` again, or raise `error` when that would
        pass the limit."""
        if self.waited + delay > self.limit:
            raise error(
                msg(
                    "collect.wait.too_long",
                    what=what,
                    why=why,
                    seconds=f"{delay:g}",
                    limit=f"{self.limit:g}",
                    waited=f"{self.waited:g}",
                )
            )
        self.progress(msg("collect.wait.waiting", what=what, why=why, seconds=f"{delay:g}"))
        self.sleep(delay)
        self.waited += delay
