"""Migration files are found, ordered and checked without a database."""

from __future__ import annotations

import pytest

from migrations.runner import MigrationError, discover, packaged


def test_files_are_ordered_by_number() -> None:
    """Numbered files run in numeric order, whatever order they are listed in."""
    found = discover({"0002_b.sql": "B", "0001_a.sql": "A"})
    assert [(m.version, m.name) for m in found] == [(1, "a"), (2, "b")]


def test_gaps_are_refused() -> None:
    """A missing number is an error, not a silently skipped migration."""
    with pytest.raises(MigrationError, match="expected migration 0002"):
        discover({"0001_a.sql": "A", "0003_c.sql": "C"})


def test_stray_names_are_refused() -> None:
    """Only NNNN_name.sql files are migrations."""
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        discover({"create_tables.sql": ""})


def test_checksum_changes_with_content() -> None:
    """An edited migration is detectable."""
    (a,) = discover({"0001_a.sql": "A"})
    (b,) = discover({"0001_a.sql": "A -- edited"})
    assert a.checksum != b.checksum


def test_packaged_migrations_are_consistent() -> None:
    """The shipped migrations form an unbroken sequence starting at 0001."""
    found = packaged()
    assert found[0].version == 1
    assert [m.version for m in found] == list(range(1, len(found) + 1))
