"""How a distributed runner splits the engine's work: every rule key has one owning partition.

The engine's state and tickets are per rule and dedup key, so an event goes to each partition
that owns one of its rule keys, with the rules to apply there. A child rule's key is owned
where its parent's is (``explained_by``), so that a parent and its children change in order.
One partition (its "home") also counts the event for metrics and reports, so every event is
counted once.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from rules import RuleSet

from ._events import Event


def owner(rule_id: str, key: str, partitions: int) -> int:
    """The partition that owns a rule's dedup key (stable across processes and versions)."""
    digest = hashlib.blake2b(f"{rule_id}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions


def assign(event: Event, rules: RuleSet, partitions: int) -> tuple[dict[int, frozenset[str]], int]:
    """The rules to apply per partition for this event, and the event's home partition
    (the first owner, or one chosen by the event's identity if no rule reads it)."""
    fact = event.as_fact()
    owned: defaultdict[int, set[str]] = defaultdict(set)
    for rule in rules.rules:
        if event.type in rule.listens_to:
            root = rules.root_of(rule, fact)  # a child goes where its parent is
            if root is not None:
                owned[owner(*root, partitions)].add(rule.id)
    home = next(iter(owned), None)
    if home is None:
        home = owner("", event.identity, partitions)
    return {partition: frozenset(ids) for partition, ids in owned.items()}, home
