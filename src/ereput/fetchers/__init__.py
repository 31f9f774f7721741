"""Source kinds. Each module registers its reader; `reader_for(kind)` finds it."""

from ereput.fetchers import blog as _blog  # noqa: F401  (registers "blog")
from ereput.fetchers import feed as _feed  # noqa: F401  (registers "feed")
from ereput.fetchers.base import Reader, ReadResult, SourceState, known_kinds, reader_for

__all__ = ["ReadResult", "Reader", "SourceState", "known_kinds", "reader_for"]
