"""Files for upload operations (track audio, artwork), streamed from disk rather than read into memory."""

import mimetypes
import os
from pathlib import Path
from typing import BinaryIO

from og_records._generated.types import File

__all__ = ["File", "file_from"]


class _PathReader:
    """A file on disk that opens when first read and closes at end of file, so a `File` built from a path never
    leaks an open handle; `seek(0)` reopens it for a retry."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name
        self._handle: BinaryIO | None = None
        self._position = 0

    def _open(self) -> BinaryIO:
        if self._handle is None:
            self._handle = self.path.open("rb")
            self._handle.seek(self._position)
        return self._handle

    def read(self, size: int = -1) -> bytes:
        chunk = self._open().read(size)
        self._position += len(chunk)
        if not chunk or size < 0:
            self.close()
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        size = self.path.stat().st_size
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: size}[whence]
        self._position = base + offset
        if self._handle is not None:
            self._handle.seek(self._position)
        return self._position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def file_from(
    source: str | os.PathLike[str] | BinaryIO, *, filename: str | None = None, content_type: str | None = None
) -> File:
    """A `File` for an upload body: a path (streamed from disk) or an open binary file object."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(path)
        name = filename or path.name
        payload: BinaryIO = _PathReader(path)  # type: ignore[assignment]  # duck-typed: read/seek/tell is all httpx uses
    else:
        payload = source
        name = filename or Path(getattr(source, "name", "upload")).name
    guessed = content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return File(payload=payload, file_name=name, mime_type=guessed)
