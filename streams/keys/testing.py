"""A key ring with no I/O, for unit tests: in-memory key log and claims, real crypto."""

from __future__ import annotations

from schemas.sealing import MasterKeys
from streams.keys.claims import InMemoryClaims
from streams.keys.keyring import KeyRing
from streams.keys.log import InMemoryKeyLog


def in_memory_keyring(master_secret: bytes = b"unit-test-master-key") -> KeyRing:
    return KeyRing(InMemoryKeyLog(), InMemoryClaims(), MasterKeys([master_secret]), owner="test")
