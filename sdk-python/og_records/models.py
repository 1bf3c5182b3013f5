"""Every schema of the API as a typed model (attrs classes generated from the spec): `Person`, `PersonCreate`, …"""

from og_records._generated.models import *  # noqa: F403
from og_records._generated.models import __all__ as _generated_all

__all__ = list(_generated_all)
