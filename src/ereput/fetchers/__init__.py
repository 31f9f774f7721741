"""Source kinds. Each module registers its reader; `reader_for(kind)` imports the module of
a kind the first time it is asked for, so that look-ups never pay for parsers they don't use.
"""

from ereput.fetchers.base import Reader, ReadResult, SourceState, known_kinds, reader_for

__all__ = ["ReadResult", "Reader", "SourceState", "known_kinds", "reader_for"]
