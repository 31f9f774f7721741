"""Source kinds. Each module registers its reader; `reader_for(kind)` finds it."""

from ereput.fetchers import blog as _blog  # noqa: F401  (registers "blog")
from ereput.fetchers import discourse as _discourse  # noqa: F401  (registers "discourse")
from ereput.fetchers import feed as _feed  # noqa: F401  (registers "feed")
from ereput.fetchers import forum as _forum  # noqa: F401  (registers "forum")
from ereput.fetchers import hackernews as _hackernews  # noqa: F401  (registers "hackernews")
from ereput.fetchers import mastodon as _mastodon  # noqa: F401  (registers "mastodon")
from ereput.fetchers import reddit as _reddit  # noqa: F401  (registers "reddit")
from ereput.fetchers.base import Reader, ReadResult, SourceState, known_kinds, reader_for

__all__ = ["ReadResult", "Reader", "SourceState", "known_kinds", "reader_for"]
