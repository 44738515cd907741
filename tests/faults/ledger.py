"""The no-loss checker: what the driver sent against what came out. Pure: plain data in,
a report out, so the rules are unit-tested on hand-made histories (tests/unit).

The rules, per conversation and in the order the driver sent its messages:

* every message answered 2xx is stored exactly once (PostgreSQL ``messages``);
* while the bot owns the conversation, each such message gets exactly one action (a reply or
  a hand-off), and that action reaches Chatwoot exactly once per step;
* after a hand-off a person owns the conversation: later messages are stored but the bot
  stays silent, so they must get no action at all;
* actions reach Chatwoot in the order of the messages they answer;
* no step of any action is delivered twice.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

REPLY = "reply.requested"
HANDOFF = "handoff.requested"


@dataclass(frozen=True)
class Sent:
    """One customer message as the driver saw it: every answer it got, in order."""

    message_id: int
    conversation: int
    statuses: tuple[str, ...]  # "200", "503", "timeout", "refused-connection", …

    @property
    def accepted(self) -> bool:
        return bool(self.statuses) and self.statuses[-1].startswith("2")

    @property
    def retried(self) -> bool:
        return len(self.statuses) > 1


@dataclass(frozen=True)
class Action:
    action_id: str
    type: str  # REPLY or HANDOFF
    message_id: int  # the customer message it answers
    reason: str | None = None  # a hand-off's


@dataclass(frozen=True)
class Delivered:
    """One message Chatwoot holds, written by the bot: ``{action_id}:{step}`` marker."""

    conversation: int
    action_id: str
    step: str


@dataclass(frozen=True)
class Observed:
    stored: Mapping[int, int]  # message id -> inbound rows in PostgreSQL
    actions: Sequence[Action]  # from the actions topic, one per distinct action id
    delivered: Sequence[Delivered]  # Chatwoot's messages, in creation order


@dataclass
class Report:
    sent: int = 0
    accepted: int = 0
    accepted_after_retry: int = 0
    never_accepted: int = 0
    answered: int = 0  # accepted, bot-owned: exactly one action, delivered once
    replies: int = 0
    handoffs: int = 0
    silent: int = 0  # accepted after a hand-off: stored, no action, as it should be
    statuses: Counter[str] = field(default_factory=Counter)
    handoff_reasons: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    disordered: list[int] = field(default_factory=list)  # conversations answered out of order

    @property
    def ok(self) -> bool:
        return not self.problems

    def problem(self, text: str) -> None:
        self.problems.append(text)


def check(sent: Sequence[Sent], observed: Observed) -> Report:
    report = Report(sent=len(sent))
    actions_for: defaultdict[int, list[Action]] = defaultdict(list)
    for action in observed.actions:
        actions_for[action.message_id].append(action)
    steps = Counter((d.action_id, d.step) for d in observed.delivered)
    for (action_id, step), times in steps.items():
        if times > 1:
            report.problem(f"action {action_id} step {step} delivered {times} times")
    by_conversation: defaultdict[int, list[Sent]] = defaultdict(list)
    for message in sent:
        report.statuses.update(message.statuses)
        by_conversation[message.conversation].append(message)
    for messages in by_conversation.values():
        _check_conversation(messages, actions_for, steps, observed.stored, report)
    _check_order(sent, observed, report)
    known = {m.message_id for m in sent}
    strangers = {a.message_id for a in observed.actions} - known
    if strangers:
        report.problem(f"actions answer {len(strangers)} messages nobody sent")
    return report


def _check_conversation(
    messages: Sequence[Sent],
    actions_for: Mapping[int, Sequence[Action]],
    steps: Counter[tuple[str, str]],
    stored: Mapping[int, int],
    report: Report,
) -> None:
    human = False
    for message in messages:
        actions = actions_for.get(message.message_id, ())
        if not message.accepted:
            # The driver gave up on it. It may have got in all the same: then its answer
            # counts for who owns the conversation next.
            report.never_accepted += 1
            human = human or any(a.type == HANDOFF for a in actions)
            continue
        report.accepted += 1
        report.accepted_after_retry += message.retried
        name = f"message {message.message_id} (conversation {message.conversation})"
        if stored.get(message.message_id, 0) != 1:
            report.problem(f"{name} stored {stored.get(message.message_id, 0)} times")
        if human:
            if actions:
                report.problem(f"{name} answered by the bot after the hand-off")
            else:
                report.silent += 1
            continue
        if len(actions) != 1:
            report.problem(f"{name} has {len(actions)} actions, not one")
            continue
        (action,) = actions
        if not _delivered(action, steps):
            report.problem(f"{name}: its {action.type} never reached Chatwoot")
            continue
        report.answered += 1
        if action.type == HANDOFF:
            report.handoffs += 1
            report.handoff_reasons[action.reason or "?"] += 1
            human = True
        else:
            report.replies += 1


def _delivered(action: Action, steps: Counter[tuple[str, str]]) -> bool:
    # A reply is its public message; a hand-off always briefs the agents with a private note.
    return steps[(action.action_id, "reply" if action.type == REPLY else "note")] == 1


def _check_order(sent: Sequence[Sent], observed: Observed, report: Report) -> None:
    position = {m.message_id: n for n, m in enumerate(sent)}
    answers = {a.action_id: a.message_id for a in observed.actions}
    last: dict[int, int] = {}
    for delivered in observed.delivered:
        message = answers.get(delivered.action_id)
        if message is None:
            report.problem(f"Chatwoot holds a message of unknown action {delivered.action_id}")
            continue
        at = position.get(message, -1)
        if at < last.get(delivered.conversation, -1):
            report.problem(
                f"conversation {delivered.conversation}: the answer to message {message} "
                "arrived after the answer to a later message"
            )
            report.disordered.append(delivered.conversation)
        last[delivered.conversation] = max(at, last.get(delivered.conversation, -1))


def summary(report: Report) -> list[tuple[str, str]]:
    """The counts, as (what, how many) rows for a results table."""
    rows = [
        ("webhooks sent (unique messages)", report.sent),
        ("answered 2xx", report.accepted),
        ("answered 2xx after at least one retry", report.accepted_after_retry),
        ("never answered 2xx (driver gave up)", report.never_accepted),
        ("answered exactly once: replies", report.replies),
        ("answered exactly once: hand-offs", report.handoffs),
        ("silent after a hand-off (a person owns the conversation)", report.silent),
        ("problems found", len(report.problems)),
    ]
    answers = ", ".join(f"{status}: {n}" for status, n in sorted(report.statuses.items()))
    reasons = ", ".join(f"{why}: {n}" for why, n in sorted(report.handoff_reasons.items()))
    return [(what, str(count)) for what, count in rows] + [
        ("every answer the driver received", answers),
        ("hand-offs by reason", reasons or "-"),
    ]
