"""Web-sized artwork: derivatives of a QC-passed cover for smart-link pages and link previews.

Covers are 3000 to 6000 px masters of up to 20 MiB, far too heavy for a fan's phone. When a cover passes QC the QC
worker makes derivatives (each of `SIZES` in each of `FORMATS`) once, stores them in the file store under their own
SHA-256 and records them here; pages then name them by that digest (`/artwork/<sha256>.jpg`), so every URL is immutable
and can be cached for a year. Derivatives are made before the QC verdict is written (see `server.qc.worker`): a
crash in between leaves the cover `pending` and the work is simply done again, and the stored bytes are
content-addressed, so doing it twice stores nothing twice. Two processes recording the same cover at once: one
INSERT loses on the unique key, its transaction (and QC verdict) rolls back, and the next round finds the rows.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps
from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from server.db.models.artwork import ArtworkDerivative
from server.db.models.files import File
from server.db.models.releases import Release
from server.db.models.smartlinks import SmartLink
from server.domain.artwork import FORMATS, SIZES
from server.storage import store

_QUALITY = {"jpeg": 82, "webp": 80}


@dataclass(frozen=True)
class Derivative:
    sha256: str
    format: str
    width: int
    height: int
    size_bytes: int
    storage_key: str


def make(cover_key: str) -> list[Derivative]:
    """Decode the cover once and store every derivative; runs outside any transaction (it takes a second)."""
    with store().open(cover_key) as handle, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)  # QC refused bombs; refuse them here too
        with Image.open(handle) as opened:
            # A JPEG can decode at 1/2, 1/4 or 1/8 scale straight from its DCT blocks: far less memory and time
            # than decoding 6000 px to throw most of it away.
            opened.draft("RGB", (max(SIZES), max(SIZES)))
            source = ImageOps.exif_transpose(opened).convert("RGB")
    derivatives = []
    for width in SIZES:
        if width > source.width:
            continue
        height = round(source.height * width / source.width)
        resized = source.resize((width, height), Image.Resampling.LANCZOS)
        for image_format, (pillow_format, _ext, _type) in FORMATS.items():
            buffer = io.BytesIO()
            options: dict[str, Any] = {"quality": _QUALITY[image_format]}
            if image_format == "jpeg":
                options |= {"progressive": True, "optimize": True}
            else:
                options |= {"method": 4}
            resized.save(buffer, format=pillow_format, **options)
            data = buffer.getvalue()
            staged = store().stage()
            staged.write(data)
            staged.close()
            key = store().commit(staged)
            digest = hashlib.sha256(data).hexdigest()
            derivatives.append(Derivative(digest, image_format, width, height, len(data), key))
    return derivatives


def record(session: Session, release: Release, source_sha256: str, derivatives: list[Derivative]) -> dict[str, Any]:
    """Store the derivatives' rows (once per cover, whoever made them first) and show them on every smart link of
    the release. Returns the links' `artwork` document."""
    known = {
        (row.format, row.width)
        for row in session.exec(
            select(ArtworkDerivative).where(col(ArtworkDerivative.source_sha256) == source_sha256)
        ).all()
    }
    for item in derivatives:
        if (item.format, item.width) in known or session.get(ArtworkDerivative, item.sha256) is not None:
            continue
        session.add(
            ArtworkDerivative(
                sha256=item.sha256,
                source_sha256=source_sha256,
                format=item.format,
                width=item.width,
                height=item.height,
                size_bytes=item.size_bytes,
                storage_key=item.storage_key,
            )
        )
    session.flush()
    document = _document(session, source_sha256)
    # Every release whose passed cover is these bytes shows the same derivatives (they are content-addressed): a
    # catch-up run makes them once per cover, from whichever release it meets first, and must not leave the links
    # of the other releases without them.
    same_cover = (
        select(Release.id)
        .join(File, col(File.id) == col(Release.artwork_file_id))
        .where(col(File.sha256) == source_sha256, col(Release.artwork_qc_status) == "passed")
    )
    session.exec(
        update(SmartLink)
        .where(or_(col(SmartLink.release_id) == release.id, col(SmartLink.release_id).in_(same_cover)))
        .values(artwork=document)
    )
    return document


def _document(session: Session, source_sha256: str) -> dict[str, Any]:
    rows = session.exec(
        select(ArtworkDerivative)
        .where(col(ArtworkDerivative.source_sha256) == source_sha256)
        .order_by(col(ArtworkDerivative.width), col(ArtworkDerivative.format))
    ).all()
    if not rows:
        return {}
    images = [{"format": r.format, "width": r.width, "height": r.height, "sha256": r.sha256} for r in rows]
    return {"source": source_sha256, "images": images}


def for_release(session: Session, release: Release) -> dict[str, Any]:
    """The derivatives of the release's current cover if it passed QC (a new smart link starts with them)."""
    if release.artwork_file_id is None or release.artwork_qc_status != "passed":
        return {}
    cover = session.get(File, release.artwork_file_id)
    return {} if cover is None else _document(session, cover.sha256)


def by_name(session: Session, sha256: str, image_format: str) -> ArtworkDerivative | None:
    row = session.get(ArtworkDerivative, sha256)
    return row if row is not None and row.format == image_format else None
