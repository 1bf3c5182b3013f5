"""Small, real media files generated on the fly: the demo seed's masters and covers, and the tests' fixtures."""

import io

import numpy as np
import soundfile as sf
from PIL import Image


def audio_bytes(
    *,
    seconds: float = 31.0,
    rate: int = 44_100,
    channels: int = 2,
    subtype: str = "PCM_16",
    fmt: str = "WAV",
    amplitude: float = 0.3,
    frequency: float = 440.0,
    leading_silence: float = 0.0,
) -> bytes:
    """A sine tone (a chord across channels) after optional silence, encoded with libsndfile."""
    t = np.arange(int(seconds * rate)) / rate
    tone = np.stack([amplitude * np.sin(2 * np.pi * frequency * (1 + 0.25 * c) * t) for c in range(channels)], axis=1)
    tone[: int(leading_silence * rate)] = 0.0
    buffer = io.BytesIO()
    sf.write(buffer, tone, rate, subtype=subtype, format=fmt)
    return buffer.getvalue()


def cover_bytes(*, size: tuple[int, int] = (3000, 3000), mode: str = "RGB", fmt: str = "JPEG") -> bytes:
    """A gradient cover; JPEG of a smooth gradient stays small even at 3000 px."""
    width, height = size
    gradient = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM), gradient.point(lambda v: 255 - v))
    )
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, quality=70)
    return buffer.getvalue()
