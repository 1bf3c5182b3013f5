"""The simulated sub-distributor's schedule: what happens next to a submitted sandbox release, and when.

Each row is one step (a review decision, or one store's delivery state) due at a moment on the account's sandbox
clock. The scheduler (server.sandbox.simulator) runs due steps in order; `advanceSandboxRelease` and the test clock
run them early. Production releases never get steps.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from server.db.models.base import BigIntId, TenantOwned
from server.db.types import UTCDateTime


class SandboxStep(TenantOwned, table=True):
    __tablename__ = "sandbox_steps"

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntId)
    release_id: str = Field(foreign_key="releases.id", index=True, max_length=40)
    sequence: int  # order within the release's journey: steps run strictly in this order
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)  # on the account's sandbox clock
    kind: str = Field(max_length=20)  # review | delivery
    # review: {"status": "in_review" | "approved" | "action_needed" | "rejected", "reason": ...}
    # delivery: {"dsp": store, "status": "queued" | "delivered" | "live" | ...}
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
