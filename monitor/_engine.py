"""The engine: one event in, ticket actions out. Pure: no I/O of its own.

Every runner (file replay, faust worker, HTTP ingest) drives this same code, so a rule
behaves the same whichever runner fed it. Time is event time: timers (absence rules,
escalation steps, SLA warnings and due times) fire when the watermark, derived from event
timestamps, passes them; live runners may also ``advance`` it from the wall clock.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from rules import Hit, Rule, RuleBook, Trigger

from ._actions import Action, Escalation, Occurrence, Resolution, SlaCheck, SlaWarning
from ._events import Event
from ._severity import SeverityPolicy
from ._state import StateStore, Timer

_TRIGGER_ORDER = {Trigger.ARRIVE: 0, Trigger.RESOLVE: 1, Trigger.FIRE: 2}


class Engine:
    """Applies a rule set to events, keeping what it must remember in ``state``."""

    def __init__(
        self,
        book: RuleBook,
        state: StateStore,
        *,
        policy: SeverityPolicy,
        lateness: float = 0.0,
    ) -> None:
        self.book = book
        self._state = state
        self._policy = policy
        self._lateness = lateness

    @property
    def watermark(self) -> float:
        """Event time up to which every event is taken to have arrived."""
        return self._state.watermark

    def savepoint(self) -> None:
        """Remember the keyed state as it is, for ``rollback``."""
        self._state.savepoint()

    def rollback(self) -> None:
        """Undo what processing did to the keyed state since the last savepoint."""
        self._state.rollback()

    def is_late(self, event: Event) -> bool:
        """Whether the event is older than the watermark (it is still processed)."""
        return event.timestamp < self._state.watermark

    def process(self, event: Event, only: Collection[str] | None = None) -> list[Action]:
        """The actions one event causes, after the timers its time makes due.

        ``only`` limits the rules applied (a distributed worker applies the rules whose
        keys its partition owns). A late event's timers may be due already: they fire at
        once, after the event.
        """
        actions = self.advance(event.timestamp - self._lateness)
        in_force = self.book.current
        fact = event.as_fact()
        hits = sorted(in_force.matcher.match(fact), key=lambda hit: _TRIGGER_ORDER[hit.trigger])
        for hit in hits:
            if only is not None and hit.rule.id not in only:
                continue
            key = hit.rule.key_of(fact)
            if key is not None and not self._stale(hit, key, event.timestamp):
                actions.extend(self._on_hit(hit, key, event, fact, in_force.rules.version))
        actions.extend(self._fire_due())
        return actions

    def advance(self, watermark: float) -> list[Action]:
        """Move the watermark forward (never back) and fire the timers now due."""
        if watermark <= self._state.watermark:
            return []
        self._state.watermark = watermark
        return self._fire_due()

    def reopened(self, rule_id: str, key: str, since: float) -> None:
        """A ticket was reopened at ``since``: if a person had resolved it, the engine did
        not know, and its SLA and escalation clocks start again from ``since``.

        Nothing to do if the engine itself opened the key again at or after ``since``, or
        has resolved it since (the store reports a batch's changes after the whole batch)."""
        try:
            rule = self.book.current.rules.by_id(rule_id)
        except KeyError:
            return
        active_since = self._state.get(_slot("active", rule.id, key))
        if active_since is None or active_since >= since:
            return
        self._state.put(_slot("active", rule.id, key), since)
        self._schedule_deadlines(rule, key, since)

    def _fire_due(self) -> list[Action]:
        actions: list[Action] = []
        for timer in self._state.pop_due(self._state.watermark):
            actions.extend(self._on_timer(timer))
        return actions

    def _stale(self, hit: Hit, key: str, at: float) -> bool:
        """Whether a late event is older than one already seen for this rule and key: its
        condition (or resolution) describes a past the key has moved on from."""
        if hit.trigger is Trigger.ARRIVE or hit.rule.window is not None:
            return False
        slot = _slot("seen", hit.rule.id, key)
        latest = self._state.get(slot)
        if latest is not None and at < latest:
            return True
        if latest is None or at > latest:
            self._state.put(slot, at)
        return False

    def _on_hit(
        self, hit: Hit, key: str, event: Event, fact: Mapping[str, Any], version: str
    ) -> list[Action]:
        rule, at, action_id = hit.rule, event.timestamp, event.identity
        if hit.trigger is Trigger.ARRIVE:
            self._state.cancel(_slot("absent", rule.id, key))
            self._state.put(_slot("arrived", rule.id, key), at)
            return self._resolve(rule, key, at, action_id, "awaited event arrived")
        if hit.trigger is Trigger.RESOLVE:
            return self._resolve(rule, key, at, action_id, "resolve condition met")
        if rule.absent is not None:
            self._arm(rule, key, event, fact)
            return []
        impact = fact
        if rule.window is not None:
            figures = self._window_reached(rule, key, at, action_id, fact)
            if figures is None:
                return []
            impact = {**fact, "window": figures}
        title, severity = rule.render_title(fact), rule.severity_for(impact)
        return self._occur(
            rule,
            key,
            at,
            action_id,
            event.source,
            title,
            version,
            severity=severity,
            parent=rule.parent_of(fact),
        )

    def _arm(self, rule: Rule, key: str, event: Event, fact: Mapping[str, Any]) -> None:
        """Start (or restart) an absence timer, unless the awaited event already came."""
        assert rule.absent is not None
        already = self._state.get(_slot("arrived", rule.id, key)) is not None
        if already and event.type not in rule.absent.of:
            return
        payload = {
            "source": event.source,
            "title": rule.render_title(fact),
            "parent": rule.parent_of(fact),
        }
        due = event.timestamp + rule.absent.within
        self._state.schedule(Timer(_slot("absent", rule.id, key), due, payload))

    def _window_reached(
        self, rule: Rule, key: str, at: float, event_id: str, fact: Mapping[str, Any]
    ) -> dict[str, float] | None:
        """Add the event to the key's window; once its total is reached, the window's figures
        (``count`` of events, ``total``), else ``None``."""
        window = rule.window
        assert window is not None
        state_key = _slot("window", rule.id, key)
        amount = _number(window.total.get(fact)) if window.total else 1.0
        entries = self._state.get(state_key) or []
        if any(entry[2] == event_id for entry in entries):
            return None
        entries = [e for e in entries if e[0] > at - 2 * window.within]  # enough for late ones
        entries.append([at, amount, event_id])
        self._state.put(state_key, entries)
        inside = [e for e in entries if at - window.within < e[0] <= at]
        total = sum(entry[1] for entry in inside)
        return {"count": len(inside), "total": total} if total >= window.at_least else None

    def _occur(
        self,
        rule: Rule,
        key: str,
        at: float,
        action_id: str,
        source: str,
        title: str,
        version: str,
        *,
        severity: str | None = None,
        parent: tuple[str, str] | None = None,
    ) -> list[Action]:
        """An occurrence at ``severity`` (default: the rule's), explained by ``parent``; the
        first one of an inactive key starts its clocks."""
        severity = severity or rule.severity
        active_key = _slot("active", rule.id, key)
        if self._state.get(active_key) is None:
            self._state.put(active_key, at)
            # The ticket opens at the raised severity: its SLA clocks must run at that one.
            self._schedule_deadlines(replace(rule, severity=severity), key, at)
        occurrence = Occurrence(
            action_id=action_id,
            rule=rule.id,
            key=key,
            at=at,
            severity=severity,
            team=rule.team,
            title=title,
            source=source,
            rule_set_version=version,
            parent=parent,
        )
        return [occurrence]

    def _schedule_deadlines(self, rule: Rule, key: str, since: float) -> None:
        base = {"rule": rule.id, "key": key}
        for kind, deadline in self._policy.deadlines(rule.severity, rule.team, since).items():
            payload = {**base, "kind": kind}
            self._state.schedule(Timer(_slot(f"sla-{kind}", rule.id, key), deadline.due, payload))
            warning = _slot(f"warn-{kind}", rule.id, key)
            if deadline.warn is None:
                self._state.cancel(warning)  # one left from before a reopen
            else:
                self._state.schedule(Timer(warning, deadline.warn, payload))
        for step, escalation in enumerate(rule.escalate):
            timer_id = _slot(f"escalate-{step}", rule.id, key)
            payload = {**base, "to": escalation.to}
            self._state.schedule(Timer(timer_id, since + escalation.after, payload))

    def _resolve(self, rule: Rule, key: str, at: float, event_id: str, reason: str) -> list[Action]:
        active_key = _slot("active", rule.id, key)
        if self._state.get(active_key) is None:
            return []
        self._state.delete(active_key)
        for kind in ("sla-acknowledge", "sla-resolve", "warn-acknowledge", "warn-resolve"):
            self._state.cancel(_slot(kind, rule.id, key))
        for step in range(len(rule.escalate)):
            self._state.cancel(_slot(f"escalate-{step}", rule.id, key))
        return [Resolution(f"{event_id}#resolve", rule.id, key, at, reason)]

    def _on_timer(self, timer: Timer) -> list[Action]:
        kind, rule_id, key = timer.id.split("\x1f", 2)
        action_id = f"timer:{timer.id}@{timer.due!r}"
        rules = self.book.current.rules
        try:
            rule = rules.by_id(rule_id)
        except KeyError:
            return []  # the rule was removed since the timer was set: nothing left to do
        if kind == "absent":
            source, title = timer.payload["source"], timer.payload["title"]
            parent = timer.payload.get("parent")  # stored as a list; none before parents
            return self._occur(
                rule,
                key,
                timer.due,
                action_id,
                source,
                title,
                rules.version,
                parent=(parent[0], parent[1]) if parent else None,
            )
        if kind.startswith("sla-"):
            sla_kind = timer.payload["kind"]
            return [SlaCheck(action_id, rule_id, key, timer.due, sla_kind)]
        if kind.startswith("warn-"):
            return [SlaWarning(action_id, rule_id, key, timer.due, timer.payload["kind"])]
        return [Escalation(action_id, rule_id, key, timer.due, timer.payload["to"])]


def _slot(kind: str, rule_id: str, key: str) -> str:
    """The name of a state entry or timer: its kind, the rule and the dedup key."""
    return f"{kind}\x1f{rule_id}\x1f{key}"


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
