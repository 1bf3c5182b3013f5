"""The ASGI entry point for uvicorn and other servers: `uvicorn server.asgi:app`."""

from server.app import create_app
from server.memory import limit_malloc_arenas

limit_malloc_arenas()  # before the thread pool's threads exist
app = create_app()
