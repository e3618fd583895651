"""Fixture documents in the publishers' layouts, with invented text (never copies of the
real standards), and a local HTTP server that serves them the ways real servers do."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CODE = [
    ("Ethical Standards", None),
    ("1. Members' Ethical Responsibilities to the People They Serve", None),
    (
        "1.01 Commitment to the People Served",
        [
            "Members put the well-being of the people they serve first, within the limits set "
            "by law and by duties to the wider community.",
        ],
    ),
    (
        "1.06 Conflicts of Interest",
        [
            "(a) Members should stay alert to conflicts of interest that could cloud their "
            "judgment, and should tell the people they serve when one arises.",
            "(b) Members should never use a professional relationship to advance their own "
            "business, religious or political interests.",
            "(c) Members should not enter dual relationships in which there is a risk of harm "
            "or exploitation to the person served.",
            "(d) When members serve couples or families, they should explain at the start whom "
            "they consider the person served.",
            "(e) Members should avoid personal contact with the people they serve on social "
            "networking sites, because such contact can blur professional boundaries.",
        ],
    ),
]
TECHNOLOGY = [
    ("Section 2: Ethical Use of Technology", None),
    (
        "Standard 2.06: Boundaries Online",
        [
            "(a) Practitioners should decline friend and connection requests from current "
            "clients on personal social media accounts.",
            "(b) Practitioners should explain in their technology policy why they do not "
            "accept online connection requests from clients.",
            "(c) Practitioners should keep professional and personal profiles separate.",
        ],
    ),
    (
        "Standard 2.07: Searching for Clients Online",
        [
            "Practitioners should not search for information about clients on search engines "
            "without a clinical reason and the client's informed consent.",
        ],
    ),
]
JOURNAL = [
    (
        "Abstract",
        [
            "Clinicians increasingly meet their patients online, and this study "
            "describes the risks and benefits that practitioners report."
        ],
    ),
    (
        "Methods",
        [
            "We surveyed three hundred practitioners about their use of professional "
            "networking platforms and their policies."
        ],
    ),
    (
        "Results",
        [
            "Most respondents kept a written policy, and few accepted requests from "
            "patients to connect on personal accounts."
        ],
    ),
]


def html_page(title: str, parts: list[tuple[str, list[str] | None]]) -> str:
    """The publisher's page: navigation, a cookie banner and a footer around the text;
    standards as bold paragraphs, sections as headings."""
    body = []
    for heading, paragraphs in parts:
        if paragraphs is None:
            body.append(f"<h2>{heading}</h2>")
        else:
            body.append(f"<p><strong>{heading}</strong></p>")
            body += [f"<p>{p}</p>" for p in paragraphs]
    return f"""<!doctype html><html><head><title>{title}</title></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/join">Join</a></li>
<li><a href="/practice">Practice</a></li><li><a href="/shop">Shop</a></li></ul></nav>
<div class="cookie-banner">This site uses cookies. Accept all cookies to continue.</div>
<main><article><h1>{title}</h1>
{chr(10).join(body)}
</article></main>
<footer><p>Copyright 2026 Example Association. All rights reserved. Privacy policy.</p>
<p>750 First Street, Washington, DC</p></footer></body></html>"""


def journal_page() -> str:
    sections = "\n".join(f"<h2>{h}</h2>" + "".join(f"<p>{p}</p>" for p in ps) for h, ps in JOURNAL)
    return f"""<!doctype html><html><head><title>Networking and practice</title></head>
<body><nav><a href="/">Journal home</a> <a href="/issues">Issues</a></nav>
<main><article><h1>Professional networking platforms and clinical practice</h1>
{sections}</article></main><footer>Journal footer: terms, privacy, contact.</footer>
</body></html>"""


def pdf_bytes(title: str, parts: list[tuple[str, list[str] | None]], path: Path) -> bytes:
    """The same text as a PDF, laid out as such documents are: numbered standards on a
    line of their own, each lettered clause a paragraph."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for heading, paragraphs in parts:
        pdf.multi_cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
        for paragraph in paragraphs or []:
            pdf.multi_cell(0, 6, paragraph.replace("’", "'"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
    pdf.output(str(path))
    return path.read_bytes()


@dataclass
class Publisher:
    """Routes: path -> (status, content type, body, delay in seconds)."""

    routes: dict[str, tuple[int, str, bytes, float]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def serve(publisher: Publisher) -> Iterator[Publisher]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            publisher.hits[self.path] = publisher.hits.get(self.path, 0) + 1
            status, kind, body, delay = publisher.routes.get(
                self.path, (404, "text/html", b"<h1>Not found</h1>", 0.0)
            )
            if self.path == "/flaky" and publisher.hits[self.path] == 1:
                status = 503
            time.sleep(delay)
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    publisher.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield publisher
    finally:
        server.shutdown()
        server.server_close()
