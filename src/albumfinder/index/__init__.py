"""4 index: the SQLite index of the album (schema, opening, content, the scan's diff).

Knows nothing of the embedder: vectors come in and go out as arrays, keyed by model key.
"""

from albumfinder.index.schema import SCHEMA_VERSION
from albumfinder.index.store import (
    FileRow,
    IndexStore,
    NewFacts,
    NewFailure,
    NewVector,
    stored_vector,
)

__all__ = [
    "SCHEMA_VERSION",
    "FileRow",
    "IndexStore",
    "NewFacts",
    "NewFailure",
    "NewVector",
    "stored_vector",
]
