"""Uploaded files and their QC reports, as tracks and releases embed them."""

from typing import Any

from server.db.models.files import File
from server.timefmt import rfc3339


def file_info(file: File | None) -> dict[str, Any] | None:
    if file is None:
        return None
    return {
        "id": file.id,
        "filename": file.filename,
        "content_type": file.content_type,
        "size_bytes": file.size_bytes,
        "sha256": file.sha256,
        "uploaded_at": rfc3339(file.updated_at),
    }


def qc_report(status: str | None, file_id: str | None, findings: list[dict[str, Any]], checked: Any) -> Any:
    if status is None or file_id is None:
        return None
    return {
        "status": status,
        "file_id": file_id,
        "checked_at": rfc3339(checked) if checked is not None and status != "pending" else None,
        "warnings": [f["code"] for f in findings if f["severity"] == "warning"],
        "findings": findings if status != "pending" else [],
    }
