"""Process memory settings of a server process."""

import ctypes
import os

_M_ARENA_MAX = -8  # glibc's mallopt parameter number (malloc.h)


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas, as `MALLOC_ARENA_MAX=2` would; whether the cap was set.

    glibc gives threads that allocate their own arenas (up to eight per core) and keeps freed memory in each: with
    the thread pool's threads that held about 10 MB more RSS per worker under load (issue 10's benchmark). An
    operator's own `MALLOC_ARENA_MAX` wins; on a C library other than glibc nothing changes.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))
