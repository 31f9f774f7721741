"""What a person sees while `ereput scan` runs on a terminal (nothing under cron)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ereput.render.safe import one_line


class ScanDisplay:
    """A live progress bar on a terminal; per-source lines with --verbose; else silence."""

    def __init__(self, console: Console, interactive: bool, verbose: bool) -> None:
        self.console, self.interactive, self.verbose = console, interactive, verbose
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> ScanDisplay:
        if self.interactive:
            self._progress = Progress(
                TextColumn("scanning"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.description}"),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, event: str, label: str, detail: str) -> None:
        if self.verbose and event != "start":
            line = Text(f"{event:>8} ", style="red" if event == "failed" else "dim")
            line.append(one_line(f"{label}: {detail}", 200))
            self.console.print(line)
        if self._progress is None or self._task is None:
            return
        if event == "start":
            total = (self._progress.tasks[0].total or 0) + 1
            self._progress.update(self._task, total=total, description=one_line(label, 30))
        else:
            self._progress.advance(self._task)
