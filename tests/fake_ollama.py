"""A local HTTP server that speaks the part of Ollama's documented API swguide uses.

Ollama's server cannot be installed here, so the Ollama backend is tested against this:
`GET /api/tags` lists models; `POST /api/chat` streams NDJSON objects
(`{"model", "created_at", "message": {"role", "content"}, "done": false}` ... then a final
`{"done": true, "done_reason": "stop", "total_duration", "eval_count", ...}`), and
errors come as `{"error": "..."}` bodies with Ollama's status codes (404 for a model that
is not pulled). `behaviour` makes it misbehave the ways a real server can: stall, die
mid-stream, or send an error object mid-stream.

Structured outputs, as Ollama (0.5 and later) documents them: a JSON schema in the
request's `format` holds the model to JSON of that schema, streamed in pieces like any
reply. The fake's canned reply stands for what the model writes under that constraint, so
it is checked against the schema, and a reply that breaks it is a 500 error naming why
(a test's own mistake, surfaced). `formats=False` is an older server, which ignores
`format` and lets the model write free text.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeOllama:
    models: list[str] = field(default_factory=lambda: ["llama3.2:latest"])
    reply: str | Callable[[dict[str, Any]], str] = (
        '{"sentences": [{"text": "A reply.", "passages": [1]}]}'
    )
    # normal | stall | die | error | slow | trickle | html | hang | length (the reply cut
    # at two thirds, done_reason "length", as when num_predict runs out)
    behaviour: str = "normal"
    formats: bool = True  # honours a JSON schema in `format` (structured outputs)
    requests: list[dict[str, Any]] = field(default_factory=list)
    port: int = 0

    @property
    def host(self) -> str:
        return f"http://127.0.0.1:{self.port}"


DIGEST = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"


def _stamp() -> str:
    return datetime.now(UTC).isoformat()


def _handler(fake: FakeOllama) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self._misbehave():
                return
            if self.path == "/api/tags":
                models = [
                    {
                        "name": m,
                        "model": m,
                        "modified_at": _stamp(),
                        "size": 2019393189,
                        "digest": DIGEST,
                        "details": {
                            "format": "gguf",
                            "family": "llama",
                            "families": ["llama"],
                            "parameter_size": "3.2B",
                            "quantization_level": "Q4_K_M",
                        },
                    }
                    for m in fake.models
                ]
                self._json(200, {"models": models})
            elif self.path == "/api/version":
                self._json(200, {"version": "0.12.0"})
            else:
                self._json(404, {"error": "404 page not found"})

        def _misbehave(self) -> bool:
            """A server that is not Ollama (HTML), or one that accepts and never answers."""
            if fake.behaviour == "hang":
                time.sleep(10)
                self.close_connection = True
                return True
            if fake.behaviour == "html":
                page = b"<html><body>It works!</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return True
            return False

        def do_POST(self) -> None:
            if self._misbehave():
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append(body)
            if self.path != "/api/chat":
                self._json(404, {"error": "404 page not found"})
                return
            names = set(fake.models) | {m.removesuffix(":latest") for m in fake.models}
            if body.get("model") not in names:
                self._json(404, {"error": f"model '{body.get('model')}' not found"})
                return
            reply = fake.reply(body) if callable(fake.reply) else fake.reply
            broken = _breaks(reply, body.get("format")) if fake.formats else None
            if broken:
                self._json(500, {"error": f"fake: the reply breaks the schema: {broken}"})
                return
            if not body.get("stream", True):
                self._json(200, self._part(reply, done=True))
                return
            self._stream(body["model"], reply)

        def _stream(self, model: str, reply: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if fake.behaviour == "length":
                reply = reply[: len(reply) * 2 // 3]
            words = reply.split(" ")
            for i, word in enumerate(words):
                piece = word if i == 0 else f" {word}"
                if fake.behaviour == "die" and i == len(words) // 2:
                    self.wfile.write(b'5\r\n{"mod')  # a chunk cut short, then a dropped line
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if fake.behaviour == "error" and i == len(words) // 2:
                    self._chunk({"error": "an error was encountered while running the model"})
                    self._end()
                    return
                if fake.behaviour == "stall" and i == len(words) // 2:
                    time.sleep(5)
                    self.close_connection = True
                    return
                if fake.behaviour == "slow":
                    time.sleep(0.3)
                if fake.behaviour == "trickle" and i == 1:
                    self._trickle(self._part(piece, model=model))
                    return
                self._chunk(self._part(piece, model=model))
            reason = "length" if fake.behaviour == "length" else "stop"
            self._chunk(self._part("", model=model, done=True, reason=reason))
            self._end()

        def _part(
            self, content: str, model: str = "", done: bool = False, reason: str = "stop"
        ) -> dict[str, Any]:
            part: dict[str, Any] = {
                "model": model or fake.models[0],
                "created_at": _stamp(),
                "message": {"role": "assistant", "content": content},
                "done": done,
            }
            if done:
                part.update(
                    done_reason=reason,
                    total_duration=4883583458,
                    load_duration=1334875,
                    prompt_eval_count=26,
                    prompt_eval_duration=342546000,
                    eval_count=282,
                    eval_duration=4535599000,
                )
            return part

        def _trickle(self, obj: dict[str, Any]) -> None:
            """One NDJSON line sent a byte at a time, each well inside any read timeout."""
            for byte in (json.dumps(obj) + "\n").encode():
                self.wfile.write(b"1\r\n" + bytes([byte]) + b"\r\n")
                self.wfile.flush()
                time.sleep(0.3)

        def _chunk(self, obj: dict[str, Any]) -> None:
            data = (json.dumps(obj) + "\n").encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _end(self) -> None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _json(self, status: int, obj: dict[str, Any]) -> None:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def structured(*sentences: tuple[str, list[int]]) -> str:
    """A structured reply: each sentence with the passage numbers it cites."""
    return json.dumps({"sentences": [{"text": t, "passages": ns} for t, ns in sentences]})


def _breaks(reply: str, schema: Any) -> str | None:
    """Why `reply` is not JSON of `schema` (None when it is, or when no schema was asked)."""
    import jsonschema  # type: ignore[import-untyped]

    if not isinstance(schema, dict):
        return None
    try:
        jsonschema.validate(json.loads(reply), schema)
    except (ValueError, jsonschema.ValidationError) as error:
        return str(error).splitlines()[0]
    return None


@contextmanager
def serve(fake: FakeOllama) -> Iterator[FakeOllama]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
