"""Groups from verified pairs: each photo in at most one group, the strictest kind winning.

Order: exact copies (same bytes, or same pixels), then near-duplicates (which may take in
exact copies: one group a picture; its byte copies say "identical file"; asked for exact
copies alone, they stay their own groups), then bursts of the photos left, then
look-alikes of those left. Two components join only when their first photos are alike
enough for the kind too, so a chain of loose links does not pull a look-alike into a tight
group.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from albumfinder.duplicates.candidates import (
    Edges,
    check_cancelled,
    set_bits,
    turned_pairs,
    with_pairs,
)
from albumfinder.duplicates.keeper import choose_keeper
from albumfinder.duplicates.photo import Photo
from albumfinder.duplicates.thresholds import (
    BURST_GAP_S,
    Thresholds,
    phash_bits,
)
from albumfinder.duplicates.verify import (
    burst_why,
    copy_why,
    look_alike_why,
    names_follow,
    pair_kind,
)
from albumfinder.photo_facts import ORIENTATIONS
from albumfinder.report import DuplicateGroup, GroupKind, GroupMember, JobProgress, KeeperRule

#: what a decision does (its name in the index)
KEEP_ALL, NOT_DUPLICATES, RESOLVED, MANUAL = "keep-all", "not-a-duplicate", "resolved", "manual"
_STRICTNESS = {kind: rank for rank, kind in enumerate(GroupKind)}


@dataclass
class Decisions:
    """The user's decisions, as sets of members' content hashes."""

    hidden: list[Counter[str]] = field(default_factory=list)  # keep-all and resolved
    apart: list[frozenset[str]] = field(default_factory=list)  # not a duplicate
    together: list[frozenset[str]] = field(default_factory=list)  # manual groups

    @staticmethod
    def of(rows: Iterable[tuple[str, tuple[str, ...]]]) -> Decisions:
        out = Decisions()
        for decision, members in rows:
            if decision == KEEP_ALL or decision.split(" ")[0] == RESOLVED:
                out.hidden.append(Counter(members))
            elif decision == NOT_DUPLICATES:
                out.apart.append(frozenset(members))
            elif decision == MANUAL:
                out.together.append(frozenset(members))
        return out

    def kept_apart(self, a: Photo, b: Photo) -> bool:
        ha, hb = a.content_hash, b.content_hash
        return ha is not None and hb is not None and any(ha in s and hb in s for s in self.apart)

    def hides(self, hashes: list[str | None]) -> bool:
        """A group none of whose members joined after it was kept or resolved (a member
        moved or renamed is the same member: its content is)."""
        if None in hashes:
            return False
        members = Counter(h for h in hashes if h is not None)
        return any(all(n <= s[h] for h, n in members.items()) for s in self.hidden)


class _Components:
    """Union-find over matrix rows, each component with its first photo (its seed)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.kind: dict[int, GroupKind] = {}

    def find(self, x: int) -> int:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int, kind: GroupKind) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
        looser = max(
            self.kind.get(ra, kind), self.kind.get(rb, kind), kind, key=lambda k: _STRICTNESS[k]
        )
        self.kind[ra] = looser

    def groups(self) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for x in self.parent:
            out.setdefault(self.find(x), []).append(x)
        return {root: rows for root, rows in out.items() if len(rows) > 1}


@dataclass
class Grouping:
    photos: dict[int, Photo]  # by matrix row: the photos in scope
    matrix: np.ndarray  # unit vectors (float16 or float32), one row per photo
    thresholds: Thresholds
    strictness: float
    rule: KeeperRule
    decisions: Decisions
    should_stop: Callable[[], bool] | None = None
    #: told how many pairs have their verdict (decoding some of them takes a while)
    progress: Callable[[JobProgress], None] | None = None
    _by_path: dict[str, Photo] | None = field(default=None, init=False, repr=False)
    _orientations: tuple[np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False
    )

    def cos(self, a: int, b: int) -> float:
        return float(np.dot(self.matrix[a].astype(np.float32), self.matrix[b].astype(np.float32)))

    def build(self, edges: Edges, kinds: Sequence[GroupKind]) -> list[DuplicateGroup]:
        edges = with_pairs(edges, *turned_pairs(*self._hash_table()), self.matrix)
        pairs = self._verified(self._worth_a_verdict(edges, GroupKind.LOOK_ALIKE in kinds))
        taken = _Components()
        for a, b, kind, _cos in pairs:
            if kind is GroupKind.EXACT:
                taken.union(a, b, kind)
        self._join_manual(taken)
        for a, b, kind, _cos in pairs:
            if GroupKind.NEAR_DUPLICATE not in kinds:
                break  # exact copies asked alone stay their own groups
            if kind is GroupKind.NEAR_DUPLICATE and self._may_join(taken, a, b, self._near_guard):
                taken.union(a, b, kind)
        copies = taken.groups()
        grouped = {row for rows in copies.values() for row in rows}
        wanted = set(kinds)
        # a group is made (its keeper chosen, its why-lines decoded) only when it is shown
        out = [
            self._copy_group(rows, taken.kind[root])
            for root, rows in copies.items()
            if self._shown(taken.kind[root], rows, wanted)
        ]
        bursts = self._bursts(grouped)
        out += [self._burst_group(r) for r in bursts if self._shown(GroupKind.BURST, r, wanted)]
        grouped |= {row for rows in bursts for row in rows}
        if GroupKind.LOOK_ALIKE in kinds:
            out += self._look_alikes(pairs, grouped)
        shown = [g for g in out if g.kind in wanted and not self.decisions.hides(self._hashes(g))]
        return sorted(shown, key=lambda g: (-len(g.members), -g.reclaimable, g.id))

    def _shown(self, kind: GroupKind, rows: list[int], wanted: set[GroupKind]) -> bool:
        hashes = [self.photos[row].content_hash for row in rows]
        return kind in wanted and not self.decisions.hides(hashes)

    # -- pairs -------------------------------------------------------------------------------
    def _worth_a_verdict(self, edges: Edges, looks: bool) -> Edges:
        """The edges between photos in scope that a verdict may call alike (in numpy: most
        of a large graph is look-alike neighbours, which only a look-alike query wants)."""
        inside = np.zeros(self.matrix.shape[0], dtype=bool)
        inside[np.fromiter(self.photos, dtype=np.int64, count=len(self.photos))] = True
        a, b, cos = edges.a, edges.b, edges.cos
        wanted = inside[a] & inside[b]
        enough = self.thresholds.look_alike(self.strictness) if looks else 1.0
        enough = min(enough, self.thresholds.near(self.strictness), self.thresholds.crop_floor)
        close = wanted & (cos >= enough)
        maybe = np.flatnonzero(wanted & ~close & (cos >= self.thresholds.phash_floor))
        if len(maybe):
            close[maybe] = self._hash_bits(a[maybe], b[maybe]) <= phash_bits(self.strictness)
        return Edges(a[close], b[close], cos[close])

    def _hash_table(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, 8) pHashes of the orientations of each row's photo, and which rows have them."""
        if self._orientations is None:
            table = np.zeros((self.matrix.shape[0], len(ORIENTATIONS)), dtype=np.uint64)
            known = np.zeros(self.matrix.shape[0], dtype=bool)
            for row, photo in self.photos.items():
                hashes = photo.facts.orientation_hashes if photo.facts else ()
                if len(hashes) == len(ORIENTATIONS):
                    table[row] = hashes
                    known[row] = True
            self._orientations = (table, known)
        return self._orientations

    def _hash_bits(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Bits apart of each pair's pHash, in the best orientation (64: not known)."""
        table, known = self._hash_table()
        bits = np.full(len(a), 64, dtype=np.int64)
        step = 1 << 20  # pairs at a time: (pairs, 8) uint64 temporaries stay small
        for start in range(0, len(a), step):
            x, y = a[start : start + step], b[start : start + step]
            bits[start : start + step] = set_bits(table[x] ^ table[y, :1]).min(axis=1)
        return np.where(known[a] & known[b], bits, 64)

    def _verified(self, edges: Edges) -> list[tuple[int, int, GroupKind, float]]:
        """Each pair's verdict; pairs in the decoded band cost two small decodes each, so a
        cancel is heard between pairs."""
        out = []
        pairs = zip(edges.a.tolist(), edges.b.tolist(), edges.cos.tolist(), strict=True)
        for number, (a, b, cos) in enumerate(pairs):
            if number % 256 == 0:
                check_cancelled(self.should_stop)
                self._tell(number, len(edges))
            pa, pb = self.photos.get(a), self.photos.get(b)
            if pa is None or pb is None or self.decisions.kept_apart(pa, pb):
                continue
            kind = pair_kind(pa, pb, cos, self.thresholds, self.strictness)
            if kind is not None:
                out.append((a, b, kind, cos))
        self._tell(len(edges), len(edges))
        out += self._same_bytes(edges)
        return out

    def _tell(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(JobProgress(done, total, "Checking pairs"))

    def _same_bytes(self, edges: Edges) -> list[tuple[int, int, GroupKind, float]]:
        """Byte copies the kNN graph left out (more copies than neighbours kept)."""
        linked = set(zip(edges.a.tolist(), edges.b.tolist(), strict=True))
        by_hash: dict[str, list[int]] = {}
        for row, photo in self.photos.items():
            if photo.content_hash is not None:
                by_hash.setdefault(photo.content_hash, []).append(row)
        out = []
        for rows in by_hash.values():
            first = min(rows)
            for other in rows:
                if other != first and (first, other) not in linked:
                    out.append((first, other, GroupKind.EXACT, 1.0))
        return out

    def _join_manual(self, taken: _Components) -> None:
        for members in self.decisions.together:
            rows = [r for r, p in self.photos.items() if p.content_hash in members]
            for other in rows[1:]:
                taken.union(rows[0], other, GroupKind.NEAR_DUPLICATE)

    def _near_guard(self, a: int, b: int) -> bool:
        """Two groups of copies join only if their first photos are one scene too."""
        return self.cos(a, b) >= self.thresholds.copy_floor

    def _may_join(
        self, taken: _Components, a: int, b: int, guard: Callable[[int, int], bool]
    ) -> bool:
        ra, rb = taken.find(a), taken.find(b)
        return ra == rb or guard(ra, rb)

    # -- bursts ------------------------------------------------------------------------------
    def _bursts(self, grouped: set[int]) -> list[list[int]]:
        lines: dict[tuple[str, str], list[Photo]] = {}
        for row, photo in self.photos.items():
            facts = photo.facts
            if row in grouped or facts is None or facts.taken_ns is None:
                continue
            if facts.taken_from == "exif":
                line = ("exif", facts.camera or "")
            else:
                line = ("file", photo.folder)
            lines.setdefault(line, []).append(photo)
        out = []
        for (source, _line), photos in lines.items():
            photos.sort(key=lambda p: (p.taken_ns or 0, p.path))
            run = [photos[0]]
            for previous, photo in zip(photos, photos[1:], strict=False):
                if self._follows(previous, photo, source == "file"):
                    run.append(photo)
                    continue
                if len(run) > 1:
                    out.append([p.row for p in run])
                run = [photo]
            if len(run) > 1:
                out.append([p.row for p in run])
        return out

    def _follows(self, previous: Photo, photo: Photo, by_file: bool) -> bool:
        gap = (photo.taken_ns or 0) - (previous.taken_ns or 0)
        if gap > BURST_GAP_S * 1e9:
            return False
        if by_file and not names_follow(previous.path, photo.path):
            return False
        if self.decisions.kept_apart(previous, photo):
            return False
        return self.cos(previous.row, photo.row) >= self.thresholds.burst

    # -- look-alikes -------------------------------------------------------------------------
    def _look_alikes(
        self, pairs: list[tuple[int, int, GroupKind, float]], grouped: set[int]
    ) -> list[DuplicateGroup]:
        loose = _Components()
        look = self.thresholds.look_alike(self.strictness)
        ordered = sorted(pairs, key=lambda p: -p[3])
        for a, b, _kind, cos in ordered:
            if a in grouped or b in grouped or cos < look:
                continue
            if self._may_join(loose, a, b, lambda x, y: self.cos(x, y) >= look):
                loose.union(a, b, GroupKind.LOOK_ALIKE)
        return [self._look_group(rows) for rows in loose.groups().values()]

    # -- the groups --------------------------------------------------------------------------
    def _hashes(self, group: DuplicateGroup) -> list[str | None]:
        if self._by_path is None:
            self._by_path = {p.path: p for p in self.photos.values()}
        return [self._by_path[m.path].content_hash for m in group.members]

    def _group(
        self, rows: list[int], kind: GroupKind, why: Callable[[Photo, Photo], str]
    ) -> DuplicateGroup:
        ordered, reason = choose_keeper([self.photos[r] for r in rows], self.rule)
        keeper = ordered[0]
        members = [_member(keeper, True, reason, 1.0)] + [
            _member(p, False, why(p, keeper), min(self.cos(p.row, keeper.row), 1.0))
            for p in ordered[1:]
        ]
        return DuplicateGroup(
            id=_group_id(ordered),
            kind=kind,
            reason=reason,
            members=members,
            reclaimable=sum(p.size for p in ordered[1:]),
        )

    def _copy_group(self, rows: list[int], kind: GroupKind) -> DuplicateGroup:
        exact = kind is GroupKind.EXACT
        return self._group(rows, kind, lambda p, keeper: copy_why(p, keeper, exact))

    def _burst_group(self, rows: list[int]) -> DuplicateGroup:
        for row in rows:  # a frame of a burst: its sharpness counts (measured if needed)
            self.photos[row] = replace(self.photos[row], burst=True)
        times = sorted((self.photos[r].taken_ns or 0, r) for r in rows)
        gaps = {}
        for i, (when, row) in enumerate(times):
            neighbour = times[i - 1][0] if i else times[1][0]
            gaps[row] = abs(when - neighbour)
        return self._group(rows, GroupKind.BURST, lambda p, _k: burst_why(gaps[p.row]))

    def _look_group(self, rows: list[int]) -> DuplicateGroup:
        return self._group(
            rows,
            GroupKind.LOOK_ALIKE,
            lambda p, keeper: look_alike_why(self.cos(p.row, keeper.row)),
        )


def _member(photo: Photo, keep: bool, why: str, score: float) -> GroupMember:
    facts = photo.facts
    return GroupMember(
        path=photo.path,
        keep=keep,
        why=why,
        score=1.0 if keep else round(score, 6),
        size=photo.size,
        width=facts.width if facts else None,
        height=facts.height if facts else None,
        taken_ns=facts.taken_ns if facts else None,
    )


def _group_id(photos: Sequence[Photo]) -> str:
    """The same for the same contents, whatever the photos are called or where they are."""
    keys = sorted(p.content_hash or f"path:{p.path}" for p in photos)
    return hashlib.blake2b(" ".join(keys).encode(), digest_size=8).hexdigest()
