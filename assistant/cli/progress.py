"""A progress bar on stderr for long runs; silent when stderr is not a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def progress_bar(label: str = "Ingesting") -> Iterator[Callable[[int, int, str], None]]:
    with Progress(
        TextColumn(f"{label} {{task.description}}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("", total=None)

        def update(done: int, total: int, name: str) -> None:
            progress.update(task, completed=done, total=total, description=name)

        yield update
