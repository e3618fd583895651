"""`swguide corpus fetch`: download the numbered sources the manifest has addresses for.

Each source is fetched from its publisher into `data_dir/sources` (never into git),
with a timeout, a few retries after timeouts and 5xx answers, a size limit and a check
that the publisher sent HTML or a PDF. Beside each file a record says what happened
(address, time, HTTP status, SHA-256, size, or the error); a `sources.toml` manifest
there tells ingest which numbered source each file is. A failed fetch keeps the file a
previous fetch brought, so an offline run loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from ingest.manifest import MANIFEST_NAME, Manifest
from swguide.settings import FetchSettings
from swguide.types import Source

KINDS = {"text/html": ".html", "application/xhtml+xml": ".html", "application/pdf": ".pdf"}
RECORD_SUFFIX = ".json"


@dataclass(frozen=True, slots=True)
class FetchRecord:
    """What one fetch of one numbered source brought."""

    n: int
    url: str
    fetched_at: str
    status: int | None = None
    sha256: str | None = None
    bytes: int = 0
    content_type: str | None = None
    file: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self, title: str) -> str:
        if self.ok:
            return (
                f"source [{self.n}] {title}: fetched {self.bytes / 1e3:.0f} kB "
                f"({self.content_type}, SHA-256 {self.sha256 and self.sha256[:12]}…)"
            )
        return f"source [{self.n}] {title}: not fetched, {self.error}; swguide works without it"


class _FetchError(Exception):
    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.status = status


def fetch_sources(
    manifest: Manifest,
    cache: Path,
    settings: FetchSettings,
    max_bytes: int,
    transport: httpx.BaseTransport | None = None,
) -> list[FetchRecord]:
    """Fetch every source with an address (an "ibid" repeats another and is skipped)."""
    cache.mkdir(parents=True, exist_ok=True)
    records = []
    with httpx.Client(
        timeout=settings.timeout,
        follow_redirects=True,
        headers={"User-Agent": settings.user_agent},
        transport=transport,
    ) as client:
        for source in manifest.sources:
            if source.ibid is None and source.url:
                record = _fetch(client, source, cache, settings.retries, max_bytes)
                _write(cache / f"source-{source.n}{RECORD_SUFFIX}", json.dumps(asdict(record)))
                records.append(record)
    write_manifest(manifest, cache)
    return records


def _fetch(
    client: httpx.Client, source: Source, cache: Path, retries: int, max_bytes: int
) -> FetchRecord:
    assert source.url
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for attempt in range(retries + 1):
        try:
            kind, data = _download(client, source.url, max_bytes)
        except _FetchError as failure:
            retry = failure.status is None or failure.status >= 500 or failure.status == 429
            if retry and attempt < retries:
                time.sleep(0.5 * 2**attempt)
                continue
            return FetchRecord(source.n, source.url, stamp, failure.status, error=str(failure))
        name = f"source-{source.n}{KINDS[kind]}"
        _write_bytes(cache / name, data)
        digest = hashlib.sha256(data).hexdigest()
        return FetchRecord(source.n, source.url, stamp, 200, digest, len(data), kind, name)
    raise AssertionError("unreachable")


def _download(client: httpx.Client, url: str, max_bytes: int) -> tuple[str, bytes]:
    """The content type and body of a 200 answer; anything else raises _FetchError."""
    try:
        with client.stream("GET", url) as response:
            if response.status_code != 200:
                status = response.status_code
                raise _FetchError(f"the server answered {status}", status)
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind not in KINDS:
                raise _FetchError(
                    f"the server sent {kind or 'no content type'}, not HTML or PDF",
                    response.status_code,
                )
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise _FetchError(
                    f"it is {declared / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit",
                    response.status_code,
                )
            data = bytearray()
            for block in response.iter_bytes():
                data += block
                if len(data) > max_bytes:
                    raise _FetchError(
                        f"it is over the {max_bytes / 1e6:.1f} MB limit", response.status_code
                    )
    except httpx.TimeoutException:
        raise _FetchError("the server did not answer in time") from None
    except httpx.HTTPError as error:
        raise _FetchError(f"the server could not be reached ({type(error).__name__})") from None
    if kind == "application/pdf" and not data.startswith(b"%PDF-"):
        raise _FetchError("it was labelled a PDF but is not one", 200)
    return kind, bytes(data)


def write_manifest(manifest: Manifest, cache: Path) -> None:
    """The cache's sources.toml: one document per fetched file, named by its source."""
    lines = ["# Written by `swguide corpus fetch`: the numbered sources fetched here.", ""]
    for source in manifest.sources:
        found = sorted(cache.glob(f"source-{source.n}.*"))
        files = [f for f in found if f.suffix != RECORD_SUFFIX]
        if source.ibid is not None or not files:
            continue
        lines += [
            "[[documents]]",
            f'id = "source-{source.n}"',
            f"file = {json.dumps(files[0].name)}",
            f"title = {json.dumps(source.title or f'Source {source.n}')}",
            f"publisher = {json.dumps(source.publisher or '')}",
            f"url = {json.dumps(source.url or '')}",
            f"source = {source.n}",
            "",
        ]
    _write(cache / MANIFEST_NAME, "\n".join(lines) + _sources_toml(manifest))


def _sources_toml(manifest: Manifest) -> str:
    out = []
    for s in manifest.sources:
        out += ["[[sources]]", f"n = {s.n}"]
        if s.ibid is not None:
            out.append(f"ibid = {s.ibid}")
        else:
            out += [
                f"{k} = {json.dumps(v)}"
                for k, v in (("title", s.title), ("publisher", s.publisher), ("url", s.url))
                if v
            ]
        out.append("")
    return "\n".join(out)


def records(cache: Path) -> list[FetchRecord]:
    """The records of the last fetch of each source."""
    found = []
    for path in sorted(cache.glob(f"source-*{RECORD_SUFFIX}")):
        try:
            found.append(FetchRecord(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue
    return found


def _write(path: Path, text: str) -> None:
    _write_bytes(path, text.encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)
