"""The fault suite's checker on hand-made histories: it passes a clean run and names every
kind of loss, repetition and disorder."""

from __future__ import annotations

from tests.faults.ledger import HANDOFF, REPLY, Action, Delivered, Observed, Sent, check

CONVERSATION = 7


def sent(message_id: int, *statuses: str, conversation: int = CONVERSATION) -> Sent:
    return Sent(message_id, conversation, statuses or ("200",))


def reply(message_id: int) -> Action:
    return Action(f"reply:{message_id}", REPLY, message_id)


def handoff(message_id: int) -> Action:
    return Action(f"handoff:{message_id}", HANDOFF, message_id, "flow_timeout")


def shown(action: Action, conversation: int = CONVERSATION) -> list[Delivered]:
    if action.type == REPLY:
        return [Delivered(conversation, action.action_id, "reply")]
    return [
        Delivered(conversation, action.action_id, "notice"),
        Delivered(conversation, action.action_id, "note"),
    ]


def observed(actions: list[Action], delivered: list[Delivered] | None = None) -> Observed:
    stored = {a.message_id: 1 for a in actions}
    if delivered is None:
        delivered = [d for a in actions for d in shown(a)]
    return Observed(stored=stored, actions=actions, delivered=delivered)


def test_a_clean_run_passes_and_is_counted() -> None:
    messages = [sent(1), sent(2, "503", "no-connection", "200"), sent(3)]
    report = check(messages, observed([reply(1), reply(2), reply(3)]))
    assert report.ok, report.problems
    assert (report.accepted, report.accepted_after_retry, report.replies) == (3, 1, 3)
    assert report.statuses == {"200": 3, "503": 1, "no-connection": 1}


def test_a_message_accepted_but_never_stored_is_lost() -> None:
    result = observed([reply(1), reply(2)])
    result = Observed({1: 1}, result.actions, result.delivered)
    report = check([sent(1), sent(2)], result)
    assert report.problems == [f"message 2 (conversation {CONVERSATION}) stored 0 times"]


def test_a_message_accepted_but_never_answered_is_lost() -> None:
    result = Observed({1: 1, 2: 1}, [reply(1)], shown(reply(1)))
    report = check([sent(1), sent(2)], result)
    assert report.problems == [f"message 2 (conversation {CONVERSATION}) has 0 actions, not one"]


def test_an_action_that_never_reached_chatwoot_is_lost() -> None:
    report = check([sent(1), sent(2)], observed([reply(1), reply(2)], shown(reply(1))))
    assert report.problems == [
        f"message 2 (conversation {CONVERSATION}): its reply.requested never reached Chatwoot"
    ]


def test_two_actions_for_one_message_are_a_repeat() -> None:
    second = Action("reply:1:again", REPLY, 1)
    result = observed([reply(1), second])
    report = check([sent(1)], result)
    assert report.problems == [f"message 1 (conversation {CONVERSATION}) has 2 actions, not one"]


def test_a_step_delivered_twice_is_a_repeat() -> None:
    twice = shown(reply(1)) * 2
    report = check([sent(1)], observed([reply(1)], twice))
    assert "action reply:1 step reply delivered 2 times" in report.problems


def test_answers_out_of_order_within_a_conversation_are_caught() -> None:
    actions = [reply(1), reply(2)]
    report = check([sent(1), sent(2)], observed(actions, shown(reply(2)) + shown(reply(1))))
    assert report.problems == [
        f"conversation {CONVERSATION}: the answer to message 1 arrived after the answer to a "
        "later message"
    ]


def test_different_conversations_interleave_freely() -> None:
    messages = [sent(1, conversation=1), sent(2, conversation=2)]
    actions = [reply(1), reply(2)]
    delivered = shown(reply(2), conversation=2) + shown(reply(1), conversation=1)
    assert check(messages, observed(actions, delivered)).ok


def test_after_a_hand_off_the_bot_stays_silent() -> None:
    messages = [sent(1), sent(2), sent(3)]
    quiet = Observed({1: 1, 2: 1, 3: 1}, [handoff(1)], shown(handoff(1)))
    report = check(messages, quiet)
    assert report.ok, report.problems
    assert (report.handoffs, report.silent) == (1, 2)
    assert report.handoff_reasons == {"flow_timeout": 1}

    chatty = Observed({1: 1, 2: 1}, [handoff(1), reply(2)], shown(handoff(1)) + shown(reply(2)))
    report = check([sent(1), sent(2)], chatty)
    assert report.problems == [
        f"message 2 (conversation {CONVERSATION}) answered by the bot after the hand-off"
    ]


def test_a_message_the_driver_gave_up_on_is_not_required_but_counted() -> None:
    report = check([sent(1, "503", "503"), sent(2)], observed([reply(2)]))
    assert report.ok, report.problems
    assert (report.never_accepted, report.accepted) == (1, 1)


def test_answers_to_messages_nobody_sent_are_reported() -> None:
    report = check([sent(1)], observed([reply(1), reply(99)]))
    assert "actions answer 1 messages nobody sent" in report.problems
