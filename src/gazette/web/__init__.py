"""The web edge of gazette (Starlette on uvicorn): the output folder's files with
conditional GET and gzip, /healthz, and the subscribe, confirm and unsubscribe pages
(webhooks later).

Imported only by `gazette serve`, so the other commands start without Starlette."""

from __future__ import annotations

from gazette.web._app import create_app
from gazette.web._server import serve

__all__ = ["create_app", "serve"]
