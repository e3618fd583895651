"""What the chat page's server lets in, and what it leaves behind.

Gradio's app accepts file uploads of any size from any origin and keeps them in its
temporary folder, where `/gradio_api/file=` serves them back. The page uploads nothing,
so the server refuses every upload, refuses requests from another site's page (a
foreign Origin) or for another host name (DNS rebinding), and keeps its temporary files
in a folder of its own that is removed when it stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from swguide import scratch

LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("0.0.0.0", "::", "")
TEMP_PREFIX = "swguide-gradio-"


class LocalOnly:
    """ASGI middleware: no uploads, no other site's page, no other host name."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        self.app = app
        names = LOOPBACK if host in LOOPBACK or host in WILDCARDS else (*LOOPBACK, host)
        self.hosts = {f"{name}:{port}" for name in names}
        self.check_host = host not in WILDCARDS  # a LAN name is not known in advance

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        reason = self.refusal(scope) if scope["type"] in ("http", "websocket") else None
        if reason is None:
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            body = reason.encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    def refusal(self, scope: dict[str, Any]) -> str | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["path"].rstrip("/").endswith("/upload"):
            return "This page takes no uploads."
        origin = headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] not in self.hosts:
            return "Requests from another site's page are refused."
        if self.check_host and headers.get("host") not in self.hosts:
            return "Unknown host name."
        return None


@contextmanager
def temporary_folder() -> Iterator[Path]:
    """A fresh folder for Gradio's temporary files (GRADIO_TEMP_DIR), removed on exit;
    folders left by servers that were killed are removed first."""
    base = Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir())
    folder = scratch.make(base, TEMP_PREFIX)
    before = os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if before is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = before
