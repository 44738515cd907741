"""The Docker-free local stack: a single-node Kafka (KRaft) and an embedded PostgreSQL.

Both run detached and are cached under `Settings.switchboard_stack_dir`, so that a second
`up` (another terminal, a test session) finds them running instead of starting more.
"""

from switchboard.stack.errors import StackError
from switchboard.stack.launcher import (
    ComponentStatus,
    Endpoints,
    StackStatus,
    down,
    kafka_pid,
    run_cli,
    stack_paths,
    status,
    up,
)

__all__ = [
    "ComponentStatus",
    "Endpoints",
    "StackError",
    "StackStatus",
    "down",
    "kafka_pid",
    "run_cli",
    "stack_paths",
    "status",
    "up",
]
