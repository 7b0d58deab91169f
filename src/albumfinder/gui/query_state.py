"""What the search page asks: the query photos (each removable), the photos it should be
less like, a region of the shown photo, and the filters. Turned into the core's query types
in one place (:meth:`QueryState.to_query`), so every way of asking searches the same way."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from albumfinder.gui.drop_zone import QueryKind, QuerySource
from albumfinder.report import CombinedQuery, Crop, QueryPart, SearchFilter


@dataclass(frozen=True)
class QueryState:
    parts: tuple[QuerySource, ...]
    negatives: tuple[QuerySource, ...] = ()
    crop: Crop | None = None  # a region of the first part (the photo shown large)
    filters: SearchFilter = field(default_factory=SearchFilter)

    @property
    def shown(self) -> QuerySource:
        """The photo the drop zone shows (the first part): the one a region is drawn on."""
        return self.parts[0]

    @property
    def is_combined(self) -> bool:
        return len(self.parts) > 1 or bool(self.negatives)

    def paths(self) -> set[str]:
        """The query's photo files (parts and negatives): never results."""
        return {str(s.value) for s in (*self.parts, *self.negatives) if s.kind == QueryKind.PATH}

    def with_parts(self, parts: tuple[QuerySource, ...]) -> QueryState:
        crop = self.crop if parts and parts[0] == self.shown else None
        return replace(self, parts=parts, crop=crop)

    def adding(self, sources: list[QuerySource]) -> QueryState:
        known = {(s.kind, s.value) for s in self.parts}
        new = tuple(s for s in sources if (s.kind, s.value) not in known)
        return replace(self, parts=self.parts + new)

    def less_like(self, source: QuerySource) -> QueryState:
        if any(s.value == source.value for s in self.negatives):
            return self
        return replace(self, negatives=(*self.negatives, source))

    def without(self, source: QuerySource) -> QueryState | None:
        """This state less ``source`` (a part or a negative); None when no part is left."""
        parts = tuple(s for s in self.parts if s != source)
        negatives = tuple(s for s in self.negatives if s != source)
        if not parts:
            return None
        return replace(self.with_parts(parts), negatives=negatives)

    def to_query(self) -> QueryPart | CombinedQuery:
        """The core's query: one part (with its region), or parts and negatives together."""
        parts = tuple(
            QueryPart(_value(s), crop=self.crop if i == 0 else None)
            for i, s in enumerate(self.parts)
        )
        if not self.is_combined:
            return parts[0]
        return CombinedQuery(parts, tuple(QueryPart(_value(s)) for s in self.negatives))

    def explain_query(self) -> QueryPart:
        """What "Why?" compares a result with: the shown photo (its region, if one is drawn)."""
        return QueryPart(_value(self.shown), crop=self.crop)

    def summary(self) -> str:
        """The query in a few words, for the results line."""
        said = []
        if len(self.parts) > 1:
            said.append(f"like {len(self.parts)} photos together")
        if self.negatives:
            said.append(f"less like {len(self.negatives)}")
        if self.crop is not None:
            said.append("a region")
        return ", ".join(said)


def _value(source: QuerySource) -> str | bytes:
    value = source.value
    assert isinstance(value, (str, bytes)), "images are encoded before they are searched"
    return os.fspath(value) if isinstance(value, str) else value
