"""Text extraction per file type, and bad files turned into skip reasons (never exceptions)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from connectors.documents import SkippedFile
from connectors.extract import ExtractedText, extract, flatten_json

SECRET = "Zebulon Quixote-Marchetti"
"""A value that must never appear in a skip reason."""


def make_pdf(text: str) -> bytes:
    """A minimal valid one-page PDF showing `text` in Helvetica (xref offsets computed)."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.encrypt(user_password="s3cret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx(path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Quarterly Report"
    document.add_heading("Overview", level=1)
    document.add_paragraph("Revenue grew in the northern region.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Region"
    table.cell(0, 1).text = "Revenue"
    table.cell(1, 0).text = "North"
    table.cell(1, 1).text = "1200"
    document.save(str(path))


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def ok(result: ExtractedText | SkippedFile) -> ExtractedText:
    assert isinstance(result, ExtractedText), result
    return result


def skipped(result: ExtractedText | SkippedFile) -> SkippedFile:
    assert isinstance(result, SkippedFile), result
    assert SECRET not in result.reason
    return result


def test_markdown_title_is_first_heading(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.md", "```\n# not a title\n```\nintro\n\n## Refund policy\n\nbody text\n")
    result = ok(extract(path, 10_000))
    assert (result.title, result.media_type) == ("Refund policy", "text/markdown")
    assert "body text" in result.text


def test_plain_text_and_rst(tmp_path: Path) -> None:
    txt = ok(extract(write(tmp_path, "a.txt", "hello plain"), 10_000))
    assert (txt.title, txt.text, txt.media_type) == ("a.txt", "hello plain", "text/plain")
    rst = ok(extract(write(tmp_path, "b.rst", "=====\nGuide\n=====\n\nSome text.\n"), 10_000))
    assert (rst.title, rst.media_type) == ("Guide", "text/x-rst")
    log = ok(extract(write(tmp_path, "c.log", "\ufeffstarted ok\n"), 10_000))
    assert log.text == "started ok\n"


def test_html_keeps_title_and_drops_scripts(tmp_path: Path) -> None:
    html = (
        "<html><head><title>Price list</title><style>p{color:red}</style></head><body>"
        "<script>var hidden = 1;</script><h1>Prices</h1><p>Tea &amp; coffee</p><p>Cake</p></body></html>"
    )
    result = ok(extract(write(tmp_path, "p.html", html), 10_000))
    assert result.title == "Price list"
    assert result.text == "Prices\nTea & coffee\nCake"
    assert "hidden" not in result.text and "color" not in result.text


def test_json_becomes_key_value_lines(tmp_path: Path) -> None:
    data = {"customer": {"name": "Alice", "tags": ["vip", "eu"]}, "active": True, "note": None}
    result = ok(extract(write(tmp_path, "c.json", json.dumps(data)), 10_000))
    assert result.text.splitlines() == [
        "customer.name: Alice",
        "customer.tags: vip",
        "customer.tags: eu",
        "active: true",
    ]
    assert list(flatten_json([1, {"a": 2}])) == ["1", "a: 2"]


def test_jsonl_records(tmp_path: Path) -> None:
    result = ok(extract(write(tmp_path, "e.jsonl", '{"id": 1, "msg": "one"}\n\n{"id": 2}\n'), 10_000))
    assert result.text == "id: 1\nmsg: one\n\nid: 2"
    bad = skipped(extract(write(tmp_path, "bad.jsonl", f"{{{SECRET}\n"), 10_000))
    assert bad.reason == "invalid JSON Lines"


def test_csv_is_header_aware(tmp_path: Path) -> None:
    result = ok(extract(write(tmp_path, "p.csv", "name,city,age\nAlice,Paris,30\nBob,,41,extra\n"), 10_000))
    assert result.text.splitlines() == [
        "name: Alice; city: Paris; age: 30",
        "name: Bob; age: 41; column 4: extra",
    ]
    semicolons = ok(extract(write(tmp_path, "s.csv", "a;b\n1;2\n"), 10_000))
    assert semicolons.text == "a: 1; b: 2"


def test_pdf_text(tmp_path: Path) -> None:
    result = ok(extract(write(tmp_path, "r.pdf", make_pdf("Invoice total 42 euros")), 100_000))
    assert "Invoice total 42 euros" in result.text
    assert (result.title, result.media_type) == ("r.pdf", "application/pdf")


def test_encrypted_pdf_is_skipped(tmp_path: Path) -> None:
    result = skipped(extract(write(tmp_path, "locked.pdf", make_encrypted_pdf()), 100_000, ref="x/locked.pdf"))
    assert result.ref == "x/locked.pdf"
    assert result.reason.startswith("encrypted PDF")


@pytest.mark.parametrize("cut", [20, 200])
def test_truncated_pdf_is_skipped(tmp_path: Path, cut: int) -> None:
    result = skipped(extract(write(tmp_path, "t.pdf", make_pdf(SECRET)[:cut]), 100_000))
    assert "PDF" in result.reason


def test_docx_paragraphs_tables_and_title(tmp_path: Path) -> None:
    make_docx(tmp_path / "q.docx")
    result = ok(extract(tmp_path / "q.docx", 1_000_000))
    assert result.title == "Quarterly Report"
    assert result.text.splitlines() == [
        "Overview",
        "Revenue grew in the northern region.",
        "Region | Revenue",
        "North | 1200",
    ]
    assert result.media_type.endswith("wordprocessingml.document")


def test_broken_docx_files_are_skipped(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", SECRET)
    assert skipped(extract(write(tmp_path, "z.docx", buffer.getvalue()), 100_000)).reason.startswith("corrupt DOCX")
    junk = skipped(extract(write(tmp_path, "j.docx", SECRET.encode() * 3), 100_000))
    assert junk.reason == "corrupt DOCX: bad zip"


def test_binary_junk_and_invalid_utf8(tmp_path: Path) -> None:
    junk = skipped(extract(write(tmp_path, "junk.txt", bytes(range(256)) * 4), 100_000))
    assert "not valid UTF-8" in junk.reason
    mostly_bad = skipped(extract(write(tmp_path, "latin.txt", "é".encode("latin-1") * 50), 100_000))
    assert "not valid UTF-8" in mostly_bad.reason
    few_bad = ok(extract(write(tmp_path, "few.txt", b"x" * 200 + b"\xff" + b" end"), 100_000))
    assert few_bad.text.endswith("\ufffd end")
    utf16 = ok(extract(write(tmp_path, "w.txt", "wide text".encode("utf-16")), 100_000))
    assert utf16.text == "wide text"


def test_unknown_extensions(tmp_path: Path) -> None:
    assert ok(extract(write(tmp_path, "Makefile", "all: build"), 1000)).media_type == "text/plain"
    image = skipped(extract(write(tmp_path, "x.png", b"\x89PNG\r\n\x1a\n\x00\x00"), 1000))
    assert image.reason == "not UTF-8 text and not a known format"


def test_limits_and_invalid_json(tmp_path: Path) -> None:
    big = skipped(extract(write(tmp_path, "big.txt", "word " * 3000), 10_000))
    assert big.reason == "larger than max_file_bytes (15 kB > 10 kB)"
    assert skipped(extract(write(tmp_path, "b.json", f'{{"name": "{SECRET}"'), 1000)).reason == "invalid JSON"
    missing = skipped(extract(tmp_path / "absent.md", 1000))
    assert missing.reason == "unreadable file (FileNotFoundError)"
