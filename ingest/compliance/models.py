"""Request and response bodies of the compliance API (also what the CLI prints). Pure."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, IPvAnyAddress, StrictBool

from schemas.events import ConsentType

# Reason and source codes end up in events and the erasure proof, so they are short codes,
# not free text that could carry personal data.
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]
Contact = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        description="ct_<id>, phone:+<digits>, bsuid:<id> or chatwoot:<account_id>/<contact_id>",
        examples=["phone:+4915112345678", "chatwoot:3/1001"],
    ),
]


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


class ConsentRequest(_Request):
    contact: Contact
    consent_type: ConsentType
    granted: StrictBool
    source: Code = Field(description="where the consent was given, e.g. web_form, email")
    ip_address: IPvAnyAddress | None = Field(
        default=None, description="where it was given from; kept only in the sealed fields"
    )


class ConsentAccepted(_Response):
    status: Literal["accepted"] = "accepted"
    event_id: str
    contact_id: str


class ExportRequest(_Request):
    contact: Contact


class ExportAccepted(_Response):
    status: Literal["processing"] = "processing"
    export_id: str
    contact_id: str
    estimated_time_minutes: int
    expires_at: datetime


ExportState = Literal["processing", "completed", "expired", "failed", "deleted"]


class ExportStatus(_Response):
    status: ExportState
    export_id: str
    expires_at: datetime
    completed_at: datetime | None = None
    download_url: str | None = Field(
        default=None, description="signed, expires with the export; only when completed"
    )


class ErasureRequest(_Request):
    confirmation: StrictBool = Field(
        default=False, description="must be true: erasure cannot be undone"
    )
    reason: Code = Field(default="customer_request", description="a reason code, kept as proof")


class ContactErasureRequest(ErasureRequest):
    """An erasure naming its contact in the body, where URLs (access logs, traces) never
    show it."""

    contact: Contact


class ErasureAccepted(_Response):
    deletion_id: str
    contact_id: str
    status: Literal["pending", "in_progress", "completed"] = "pending"
    status_url: str


class DeletionTarget(_Response):
    target: str
    status: str
    attempts: int
    completed_at: datetime | None
    last_error: str | None


class DeletionStatus(_Response):
    deletion_id: str
    contact_id: str
    status: Literal["pending", "in_progress", "completed"]
    reason: str
    requested_at: datetime
    completed_at: datetime | None
    targets: list[DeletionTarget]


class Problem(_Response):
    """Every refusal: what was wrong, in a sentence."""

    detail: str
