"""Cover art QC with Pillow: format, colour mode, dimensions, file size, and a full decode.

Decompression bombs are handled before any pixel is decoded: the header's dimensions are checked against the 6000 px
limit first, and Pillow's own bomb guard is turned into an error for this decode.
"""

import warnings
from typing import Any, BinaryIO

from PIL import Image, UnidentifiedImageError

from server.qc import sniff
from server.qc.findings import finding, ordered

MIN_SIDE = 3000
MAX_SIDE = 6000
MAX_BYTES = 20 * 1024 * 1024
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


def analyse(fileobj: BinaryIO, size_bytes: int) -> list[dict[str, Any]]:
    try:
        return ordered(_analyse(fileobj, size_bytes))
    except Exception as exc:  # a hostile file must fail QC, never the worker
        return [finding("corrupt", "error", f"The image could not be analysed: {exc}.")]


def _analyse(fileobj: BinaryIO, size_bytes: int) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = []
    if size_bytes > MAX_BYTES:
        message = f"The file is {size_bytes} bytes; cover art may be at most 20 MiB."
        findings.append(finding("file_size", "error", message, size_bytes, MAX_BYTES, "bytes"))
    fileobj.seek(0)
    kind = sniff.content_type(fileobj.read(64))
    fileobj.seek(0)
    if kind not in sniff.IMAGE_TYPES:
        findings.append(
            finding("format", "error", f"The file is {kind}; upload JPEG or PNG.", kind, "image/jpeg, image/png")
        )
        return findings
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(fileobj, formats=list(_FORMATS))
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
            findings.append(finding("corrupt", "error", f"The image cannot be decoded: {exc}."))
            return findings
        with image:
            findings += _header_findings(image)
            if not any(f["code"] == "too_large" for f in findings):
                try:
                    image.load()  # decode every pixel: truncated or damaged files fail here
                except (
                    OSError,
                    SyntaxError,
                    ValueError,
                    Image.DecompressionBombError,
                    Image.DecompressionBombWarning,
                ) as exc:
                    findings.append(finding("corrupt", "error", f"The image cannot be decoded completely: {exc}."))
    return findings


def _header_findings(image: Image.Image) -> list[dict[str, Any]]:
    findings = []
    width, height = image.size
    dimensions = f"{width}x{height}"
    if image.mode != "RGB":
        message = f"The image is in {image.mode} colour mode; stores need RGB."
        findings.append(finding("color_mode", "error", message, image.mode, "RGB"))
    if width != height:
        findings.append(
            finding("not_square", "error", f"The image is {dimensions} px; it must be square.", dimensions, None, "px")
        )
    if min(width, height) < MIN_SIDE:
        message = f"The image is {dimensions} px; it must be at least 3000x3000 px."
        findings.append(finding("too_small", "error", message, min(width, height), MIN_SIDE, "px"))
    if max(width, height) > MAX_SIDE:
        message = f"The image is {dimensions} px; it must be at most 6000x6000 px."
        findings.append(finding("too_large", "error", message, max(width, height), MAX_SIDE, "px"))
    return findings
