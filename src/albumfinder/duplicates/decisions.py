"""The user's decisions about groups, stored by the members' content hashes, and the
keeper rule (see :mod:`albumfinder.index.decisions` for the tables)."""

from __future__ import annotations

from collections.abc import Sequence

from albumfinder import safe_trash
from albumfinder.duplicates.groups import KEEP_ALL, MANUAL, NOT_DUPLICATES, RESOLVED, Decisions
from albumfinder.duplicates.keeper import DEFAULT_RULE, checked_rule
from albumfinder.index import IndexStore
from albumfinder.index import decisions as table
from albumfinder.index.trash_log import LOG_LIMIT
from albumfinder.report import DuplicateGroup, KeeperRule

_RULE_KEY = "keeper_rule"


def load(store: IndexStore) -> Decisions:
    """The decisions in force: a group resolved by a trash action that was put back since
    is shown again."""
    rows = table.decisions(store)
    if any(d.startswith(f"{RESOLVED} ") for d, _m in rows):
        undone = {a.id for a in safe_trash.history(store, LOG_LIMIT) if a.put_back_ns}
        rows = [(d, m) for d, m in rows if d.partition(" ")[2] not in undone]
    return Decisions.of(rows)


def keeper_rule(store: IndexStore) -> KeeperRule:
    stored = table.setting(store, _RULE_KEY)
    if not isinstance(stored, dict):
        return DEFAULT_RULE
    steps = tuple(str(s) for s in stored.get("steps", ()) if isinstance(s, str))
    folders = tuple(str(f) for f in stored.get("folder_priority", ()) if isinstance(f, str))
    return checked_rule(KeeperRule(steps, folders))


def set_keeper_rule(store: IndexStore, rule: KeeperRule) -> None:
    rule = checked_rule(rule)
    table.set_setting(
        store, _RULE_KEY, {"steps": list(rule.steps), "folder_priority": list(rule.folder_priority)}
    )


def _hashes(store: IndexStore, paths: Sequence[str]) -> list[str]:
    return list(table.content_hashes(store, list(paths)).values())


def decide(store: IndexStore, decision: str, group: DuplicateGroup) -> None:
    table.add_decision(store, decision, _hashes(store, [m.path for m in group.members]))


def keep_all(store: IndexStore, group: DuplicateGroup) -> None:
    decide(store, KEEP_ALL, group)


def not_duplicates(store: IndexStore, group: DuplicateGroup) -> None:
    decide(store, NOT_DUPLICATES, group)


def member_hashes(store: IndexStore, group: DuplicateGroup) -> list[str]:
    return _hashes(store, [m.path for m in group.members])


def resolved(store: IndexStore, hashes: Sequence[str], action_id: str) -> None:
    """A group (its members' ``hashes``, read before they were trashed) resolved by the
    trash action ``action_id``."""
    table.add_decision(store, f"{RESOLVED} {action_id}".strip(), hashes)


def group_together(store: IndexStore, paths: Sequence[str]) -> None:
    table.add_decision(store, MANUAL, _hashes(store, paths))

