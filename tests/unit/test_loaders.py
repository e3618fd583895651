"""Loading documents: each format's text, and one clear reason for each bad document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.loaders import load_document
from swguide.errors import DocumentError

LIMIT = 1_000_000

HTML = """<html><head><title>Agency Social Media Policy</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a> <a href="/contact">Contact</a></nav>
<div class="cookie-banner">We use cookies to improve your experience. Accept all cookies.</div>
<main><article><h1>Agency Social Media Policy</h1>
<p>Staff members must not accept friend requests from current clients on any platform,
because such contact can blur the professional relationship and confuse the client.</p>
<h2>Posting about work</h2>
<p>Staff members should never post photographs taken inside the agency building, even when
no client appears in them, since visitors could still be identified by others.</p>
</article></main>
<footer>Copyright 2026 Example Agency. Privacy policy. Terms of use.</footer>
</body></html>"""


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=11)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    pdf.output(str(path))
    return path


def test_markdown_keeps_its_source_text(write: Any) -> None:
    path = write("p.md", "# Policy\n\nClients get the policy at intake.[1]\n")
    doc = load_document(path, LIMIT)
    assert doc.kind == "md" and doc.title == "Policy"
    assert doc.text == path.read_text()
    assert len(doc.sha256) == 64


def test_html_keeps_main_content_only(write: Any) -> None:
    doc = load_document(write("policy.html", HTML), LIMIT)
    assert doc.kind == "html"
    assert doc.title == "Agency Social Media Policy"
    assert "friend requests from current clients" in doc.text
    assert [b.text for b in doc.blocks if b.is_heading] == [
        "Agency Social Media Policy",
        "Posting about work",
    ]
    for noise in ("About us", "cookies", "Copyright", "Terms of use"):
        assert noise not in doc.text


def test_pdf_text_pages_and_paragraphs(write: Any, tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "board-rule.pdf",
        [
            [
                "Electronic Communication Rule",
                "A licensee shall keep a written policy on "
                "electronic communication with clients and shall give it to each client.",
            ],
            [
                "Records",
                "A licensee shall store electronic records of client contact securely "
                "and shall keep them for seven years after the last contact.",
            ],
        ],
    )
    doc = load_document(path, LIMIT)
    assert doc.kind == "pdf"
    assert "written policy on electronic communication" in " ".join(doc.text.split())
    assert doc.page_starts[0] == 0 and len(doc.page_starts) == 2
    assert doc.page_at(doc.text.index("seven years")) == 2
    assert "Records" in [b.text for b in doc.blocks if b.is_heading]


def test_pdf_with_a_blank_page(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "blank.pdf", [["Policy", "Staff keep a written policy."], []])
    doc = load_document(path, LIMIT)
    assert len(doc.page_starts) == 2 and "written policy" in doc.text


def test_damaged_pdf_pages_are_a_reason_not_a_crash(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", [["Title", "Some text about policy here."]]).read_bytes()
    for at in range(200, len(good) - 50, max(1, len(good) // 60)):
        broken = tmp_path / f"broken-{at}.pdf"
        broken.write_bytes(good[:at] + b"\x00garbage\xff" + good[at + 12 :])
        try:
            load_document(broken, LIMIT)
        except DocumentError as error:
            assert "\n" not in str(error)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", "", "is empty"),
        ("blank.txt", "   \n\n  ", "is empty"),
        ("binary.txt", b"\x00\x01\x02abc" * 10, "looks binary"),
        ("latin1.txt", "Caf\xe9 policy".encode("latin-1"), "not UTF-8"),
        ("notes.docx", "text", "unsupported file type"),
        ("fake.pdf", "this is not a pdf", "not a PDF"),
        ("broken.pdf", b"%PDF-1.7\n garbage \x00\x01", "damaged or unsupported PDF"),
        ("only-heading.md", "# Just a title\n", "no text paragraphs"),
        ("script.html", "<html><body><script>var x = 1;</script></body></html>", "no main text"),
    ],
)
def test_bad_documents_give_one_reason(write: Any, name: str, content: Any, reason: str) -> None:
    with pytest.raises(DocumentError) as caught:
        load_document(write(name, content), LIMIT)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)


def test_oversized_document(write: Any) -> None:
    with pytest.raises(DocumentError, match=r"over the 0\.0 MB limit"):
        load_document(write("big.md", "x" * 5000), 4000)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot be read"):
        load_document(tmp_path / "gone.md", LIMIT)
