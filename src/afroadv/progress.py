"""Progress bars for long work (encoding, sweep cells, attack pairs, training steps, generation).

One rich display on stderr while stderr is a terminal; nothing at all otherwise (pipes, log files,
CI, tests), so piped output and logs stay exactly as they were. Bars opened while another is
showing (an encoding bar inside a sweep cell) join the same display instead of fighting over it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

_console = None  # a Console given by `use_console` (tests, programs embedding afroadv)
_display = None  # the rich Progress now showing, shared by nested bars
_open = 0  # bars now open on it


def console():
    """The console bars draw on: `use_console`'s, else stderr's."""
    from rich.console import Console

    return _console if _console is not None else Console(stderr=True)


def showing() -> bool:
    """Whether bars are drawn: only on a terminal."""
    return bool(console().is_terminal)


@contextmanager
def use_console(c) -> Iterator[None]:
    """Draw bars on `c` (e.g. `Console(file=buf, force_terminal=True)`) inside the block."""
    global _console
    old, _console = _console, c
    try:
        yield
    finally:
        _console = old


class Bar:
    """A bar of `total` steps; `advance(n)` as work is done. Does nothing when bars are not shown
    (`enabled=False`, or None and stderr is not a terminal) or when there is nothing to do."""

    def __init__(self, description: str, total: int, *, enabled: bool | None = None):
        self.description, self.total = description, int(total)
        self.enabled = (showing() if enabled is None else enabled) and self.total > 0
        self._task = None

    def __enter__(self) -> Bar:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> Bar:
        """Show the bar (for work that does not fit a `with` block); `close()` ends it."""
        global _display, _open
        if not self.enabled:
            return self
        if _display is None:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            _display = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TimeRemainingColumn(), console=console(), transient=True)
            _display.start()
        _open += 1
        from rich.markup import escape

        self._task = _display.add_task(escape(self.description), total=self.total)  # "[model]" is not markup
        return self

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            _display.advance(self._task, n)

    def close(self) -> None:
        global _display, _open
        if self._task is None:
            return
        _display.remove_task(self._task)
        self._task = None
        _open -= 1
        if _open == 0:
            _display.stop()
            _display = None


def track(items: Iterable, description: str, *, total: int | None = None, enabled: bool | None = None) -> Iterator:
    """`for x in track(items, "what")`: one step per item."""
    if total is None:
        total = len(items)  # type: ignore[arg-type]
    with Bar(description, total, enabled=enabled) as bar:
        for x in items:
            yield x
            bar.advance()
