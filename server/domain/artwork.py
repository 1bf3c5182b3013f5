"""Naming web-sized artwork derivatives (made by `server.services.artwork`): their formats, URL paths and the image
link previews use."""

from typing import Any

SIZES = (640, 1200)  # the page's cover (twice a 320 px box) and the link-preview card (Open Graph wants ≥1200 px)
FORMATS = {"jpeg": ("JPEG", "jpg", "image/jpeg"), "webp": ("WEBP", "webp", "image/webp")}


def extension(image_format: str) -> str:
    return FORMATS[image_format][1]


def media_type(image_format: str) -> str:
    return FORMATS[image_format][2]


def path(image: dict[str, Any]) -> str:
    """The URL path of one derivative (relative to the public link base)."""
    return f"/artwork/{image['sha256']}.{extension(image['format'])}"


def preview(artwork: dict[str, Any]) -> dict[str, Any] | None:
    """The image for link previews and the API's `artwork_url`: the largest JPEG (every crawler reads JPEG)."""
    jpegs = [image for image in artwork.get("images", []) if image["format"] == "jpeg"]
    return max(jpegs, key=lambda image: image["width"]) if jpegs else None
