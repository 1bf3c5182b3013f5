"""Quality control of uploaded files: audio masters (`audio`) and cover art (`cover`), run by `worker`."""
