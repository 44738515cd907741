"""A key ring with no I/O, for unit tests: in-memory key log and claims, real crypto."""

from __future__ import annotations

from datakeys.claims import InMemoryClaims
from datakeys.keyring import KeyRing
from datakeys.log import InMemoryKeyLog
from schemas.sealing import MasterKeys


def in_memory_keyring(master_secret: bytes = b"unit-test-master-key") -> KeyRing:
    return KeyRing(InMemoryKeyLog(), InMemoryClaims(), MasterKeys([master_secret]), owner="test")
