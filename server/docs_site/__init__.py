"""The developer docs site: the API reference and the guides, built from the spec, served at /docs.

`build.py` renders it into `site/` (run by `nox -s codegen`; the result is committed and shipped in the wheel);
`routes.py` serves those files.
"""
