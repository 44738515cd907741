"""The erasure plan and the state machine of its targets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from schemas.erasure import Progress
from streams.erasure.plan import (
    CHATWOOT,
    CONVERSATION_STATE,
    EXPORTS,
    POSTGRES,
    RETRY_CAP_SECONDS,
    Done,
    Failed,
    Waiting,
    after,
    chat_deletion_id,
    conversations_outcome,
    due,
    is_complete,
    next_wake,
    plan,
    proof,
    retry_delay,
    status_of,
)

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def fresh() -> list[Progress]:
    return [Progress(t) for t in plan()]


def test_the_plan_covers_every_copy() -> None:
    """Data key, consent, conversation state, exports, Chatwoot, PostgreSQL."""
    assert set(plan()) == {
        "data-key",
        "consent",
        "conversation-state",
        "exports",
        "chatwoot",
        "postgres",
    }


def test_postgres_waits_for_the_targets_that_read_its_rows() -> None:
    """Rows are deleted only after conversations, exports and Chatwoot were handled."""
    assert POSTGRES not in due(fresh(), T0)
    done = [Progress(p.target, status="completed") if p.target != POSTGRES else p for p in fresh()]
    assert due(done, T0) == [POSTGRES]
    one_missing = [p if p.target not in (CHATWOOT, POSTGRES) else Progress(p.target) for p in done]
    assert due(one_missing, T0) == [CHATWOOT]


def test_a_success_completes_the_target() -> None:
    """Done: completed, with its time; attempts counted."""
    progress = after(Progress(EXPORTS, status="failed", attempts=2, last_error="x"), Done(), T0)
    assert progress == Progress(EXPORTS, "completed", 3, None, None, T0)


def test_a_failure_backs_off_longer_each_time() -> None:
    """Failed: the target waits 1 s, 2 s, 4 s, … before it is due again, up to the cap."""
    first = after(Progress(CHATWOOT), Failed("http_500"), T0)
    assert (first.status, first.attempts, first.last_error) == ("failed", 1, "http_500")
    assert first.next_attempt_at == T0 + timedelta(seconds=1)
    second = after(first, Failed("http_500"), T0)
    assert second.next_attempt_at == T0 + timedelta(seconds=2)
    assert due([second], T0) == []
    assert due([second], T0 + timedelta(seconds=2)) == [CHATWOOT]
    assert [retry_delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry_delay(50) == RETRY_CAP_SECONDS


def test_a_wait_asked_for_by_the_other_side_is_kept_when_longer() -> None:
    """A Retry-After longer than the backoff puts the next try after it; a shorter one
    leaves the backoff as it was."""
    asked = after(Progress(CHATWOOT), Failed("http_429", after_seconds=30.0), T0)
    assert asked.next_attempt_at == T0 + timedelta(seconds=30)
    shorter = after(Progress(CHATWOOT, attempts=4), Failed("http_429", after_seconds=2.0), T0)
    assert shorter.next_attempt_at == T0 + timedelta(seconds=retry_delay(5))


def test_waiting_on_another_agent_is_not_a_failure() -> None:
    """Waiting: still pending, looked at again shortly."""
    progress = after(Progress(CONVERSATION_STATE), Waiting("2 conversations"), T0)
    assert progress.status == "pending"
    assert progress.last_error is None
    assert progress.next_attempt_at is not None
    assert progress.next_attempt_at > T0


def test_a_deletion_is_complete_only_when_every_target_is() -> None:
    """One target short is not complete; the overall status follows the targets."""
    targets = fresh()
    assert status_of(targets) == "pending"
    targets[0] = after(targets[0], Done(), T0)
    assert status_of(targets) == "in_progress"
    assert not is_complete(targets)
    finished = [after(p, Done(), T0) for p in targets]
    assert is_complete(finished)
    assert status_of(finished) == "completed"


def test_the_next_wake_is_the_earliest_retry() -> None:
    """None while a target can run now; else the earliest retry time."""
    assert next_wake(fresh()) is None
    failed = [after(Progress(t), Failed("e"), T0) for t in (EXPORTS, CHATWOOT)]
    failed[1] = after(failed[1], Failed("e"), T0)
    assert next_wake(failed) == T0 + timedelta(seconds=1)


def test_conversation_state_is_done_when_every_conversation_is_erased() -> None:
    """Done once each tracked conversation was reported erased; no conversations: done."""
    assert conversations_outcome(["a", "b"], ["a"]) == Waiting("1 conversations")
    assert conversations_outcome(["a", "b"], ["b", "a"]) == Done()
    assert conversations_outcome([], []) == Done()


def test_a_chat_request_always_maps_to_the_same_deletion() -> None:
    """The deletion id of a chat request derives from the event id."""
    assert chat_deletion_id("data-request:m1") == chat_deletion_id("data-request:m1")
    assert chat_deletion_id("data-request:m1") != chat_deletion_id("data-request:m2")
    assert chat_deletion_id("x").startswith("del_")


def test_the_proof_holds_no_personal_data() -> None:
    """Deletion id, erasure time in UTC and reason code; nothing else."""
    record = json.loads(proof("del_1", T0, "retention"))
    assert record == {"deletion_id": "del_1", "erased_at": T0.isoformat(), "reason": "retention"}
    assert datetime.fromisoformat(record["erased_at"]).utcoffset() == timedelta(0)
