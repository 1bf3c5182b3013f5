"""Uploaded files (audio masters and cover art), content-addressed.

The bytes live in object storage under `storage_key`; the row records what the platform detected. The same
bytes uploaded twice by one tenant map to one row (unique sha256 per account and environment), so re-uploading
a master does not duplicate storage or rerun QC.
"""

from sqlalchemy import BigInteger, UniqueConstraint
from sqlmodel import Field

from server.db.models.base import TenantOwned


class File(TenantOwned, table=True):
    __tablename__ = "files"
    __table_args__ = (UniqueConstraint("account_id", "environment", "sha256", name="uq_files_tenant_sha256"),)

    id: str = Field(primary_key=True, max_length=40)  # fil_…
    sha256: str = Field(max_length=64, index=True)  # lower-case hex of the bytes
    size_bytes: int = Field(sa_type=BigInteger)  # masters can exceed 2 GiB of int32
    content_type: str = Field(max_length=100)  # detected from the content, never the client's claim
    filename: str | None = Field(default=None, max_length=255)  # as the client sent it; display only
    purpose: str = Field(max_length=12)  # audio | artwork: which QC pipeline analyses it
    # Not unique: storage may be shared between tenants that uploaded identical bytes.
    storage_key: str = Field(max_length=300)
