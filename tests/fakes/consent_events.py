"""Consent changes of one contact (ct_1), built for tests."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.events import ConsentChanged, ConsentChangedData, ConsentType, Personal, Source

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def consent(
    n: int,
    consent_type: ConsentType,
    granted: bool,
    *,
    at: datetime = T0,
    origin: str = "api",
    source: Source = "switchboard",
    ip: str | None = None,
) -> ConsentChanged:
    return ConsentChanged(
        id=f"c{n}",
        source=source,
        time=at,
        subject="ct_1",
        correlation_id="x",
        data=ConsentChangedData(
            contact_id="ct_1",
            consent_type=consent_type,
            granted=granted,
            reason="r",
            origin=origin,
            personal=Personal(ip_address=ip),
        ),
    )
