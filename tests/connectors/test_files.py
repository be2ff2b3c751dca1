"""FileStore: incremental FTS5 index, safe queries, ref validation, broken files."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import connectors.files as files_module
from connectors.base import DocumentNotFound, DocumentUnreadable, InvalidRequest, RefDenied
from connectors.documents import DocumentHit, SkippedFile
from connectors.extract import ExtractedText
from connectors.files import FileStore, fts_query, glob_regex, split_chunks

PDF_HEADER = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "docs"
    (base / "policies").mkdir(parents=True)
    (base / "policies" / "refunds.md").write_text(
        "# Refund policy\n\nRefunds are paid within 14 days. A refund needs the receipt.\n"
    )
    (base / "policies" / "shipping.md").write_text("# Shipping\n\nParcels ship on Mondays; a refund is rare.\n")
    (base / "notes.txt").write_text("Meeting notes: the quarterly budget was approved.\n")
    (base / "people.csv").write_text("name,city\nAlice,Paris\nBob,Berlin\n")
    return base


@pytest.fixture
def store(root: Path, tmp_path: Path) -> Iterator[FileStore]:
    s = FileStore("docs", root, tmp_path / "state" / "index" / "docs.sqlite")
    yield s
    s.close()


def refs(hits: list[DocumentHit]) -> list[str]:
    return [h.ref for h in hits]


# -- helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*", "a.md", True),
        ("**/*", "x/y/a.md", True),
        ("*.md", "a.md", True),
        ("*.md", "x/a.md", False),
        ("**/*.md", "x/y/a.md", True),
        ("docs/**", "docs/a/b.txt", True),
        ("docs/**", "other/a.txt", False),
        ("a/**/b.txt", "a/b.txt", True),
        ("a/**/b.txt", "a/x/y/b.txt", True),
        ("?.txt", "ab.txt", False),
        ("[ab].txt", "b.txt", True),
        ("[!ab].txt", "b.txt", False),
        ("*.md", "a.md.bak", False),
        ("secret*", "secret/inner", False),
    ],
)
def test_glob_regex(pattern: str, path: str, expected: bool) -> None:
    assert bool(glob_regex(pattern).fullmatch(path)) is expected


def test_split_chunks_overlap_on_whitespace() -> None:
    text = " ".join(f"w{i}" for i in range(25)).replace("w5 ", "w5\n\n")
    chunks = split_chunks(text, 10)
    assert chunks[0].split() == [f"w{i}" for i in range(10)]
    assert "w5\n\nw6" in chunks[0]
    assert chunks[1].split()[0] == "w9"  # one word of overlap (10%)
    assert chunks[-1].split()[-1] == "w24"
    assert split_chunks("   ", 10) == []
    assert split_chunks("x" * 450, 1) == ["x" * 200, "x" * 200, "x" * 50]


def test_fts_query_quotes_everything() -> None:
    assert fts_query('refund "within 14 days" NEAR(') == '"refund" AND "within 14 days" AND "NEAR("'
    assert fts_query('say "hi', "OR") == '"say" OR "hi"'
    assert fts_query('* - " :') is None


# -- refresh ---------------------------------------------------------------------------------------


def test_refresh_indexes_and_reports(store: FileStore, tmp_path: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    report = store.refresh(lambda done, total, ref: seen.append((done, total, ref)))
    assert (report.files_seen, report.files_indexed, report.files_unchanged, report.files_removed) == (
        4,
        4,
        0,
        0,
    )
    assert report.chunks == 4 and report.skipped == ()
    assert [s[2] for s in seen] == ["notes.txt", "people.csv", "policies/refunds.md", "policies/shipping.md"]
    assert seen[-1][:2] == (4, 4)
    index = tmp_path / "state" / "index" / "docs.sqlite"
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    stats = store.stats()
    assert stats.documents == 4 and stats.chunks == 4 and stats.skipped == 0
    assert stats.types == {".md": 2, ".txt": 1, ".csv": 1}
    assert stats.last_refresh and stats.index_bytes and stats.index_bytes > 0


def test_search_ranking_and_titles(store: FileStore) -> None:
    store.refresh()
    hits = store.search("refund")
    assert refs(hits) == ["policies/refunds.md", "policies/shipping.md"]
    assert hits[0].score > hits[1].score
    assert hits[0].title == "Refund policy" and "receipt" in hits[0].chunk and hits[0].chunk_index == 0
    assert refs(store.search("refunds")) == refs(hits)  # porter stemming
    assert refs(store.search('"paid within 14 days"')) == ["policies/refunds.md"]
    assert refs(store.search("Berlin")) == ["people.csv"]
    # no document holds every word: fall back to any word
    assert refs(store.search("budget nonexistentword")) == ["notes.txt"]
    assert len(store.search("refund", limit=1)) == 1


@pytest.mark.parametrize("query", ['"', "AND OR", "NEAR(", "*", "foo:bar", "-x", "title:refund", "a OR", "(", "^x"])
def test_hostile_queries_do_not_raise(store: FileStore, query: str) -> None:
    store.refresh()
    assert isinstance(store.search(query), list)


def test_empty_query_is_an_error(store: FileStore) -> None:
    with pytest.raises(InvalidRequest):
        store.search("   ")


def test_incremental_refresh(store: FileStore, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store.refresh()
    calls: list[str] = []
    real = files_module.extract_bytes

    def counting(data: bytes, name: str, ref: str, max_bytes: int) -> ExtractedText | SkippedFile:
        calls.append(ref)
        return real(data, name, ref, max_bytes)

    monkeypatch.setattr(files_module, "extract_bytes", counting)
    assert not store.needs_refresh()
    report = store.refresh()
    assert (report.files_unchanged, report.files_indexed, calls) == (4, 0, [])

    notes = root / "notes.txt"
    os.utime(notes, ns=(notes.stat().st_atime_ns, notes.stat().st_mtime_ns + 5_000_000_000))
    assert store.needs_refresh()
    report = store.refresh()  # same bytes, new mtime: hashed, not re-extracted
    assert (report.files_unchanged, calls) == (4, [])
    assert not store.needs_refresh()

    notes.write_text("Meeting notes: the budget was rejected. Spaceship purchase postponed.\n")
    (root / "policies" / "shipping.md").unlink()
    report = store.refresh()
    assert calls == ["notes.txt"]
    assert (report.files_seen, report.files_indexed, report.files_unchanged, report.files_removed) == (
        3,
        1,
        2,
        1,
    )
    assert refs(store.search("spaceship")) == ["notes.txt"]
    assert store.search("approved") == []
    assert refs(store.search("parcels")) == []
    assert store.stats().documents == 3


def test_broken_files_are_skipped_and_remembered(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "broken.pdf").write_bytes(PDF_HEADER)
    (root / "fake.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (root / "junk.txt").write_bytes(bytes(range(256)) * 8)
    (root / "huge.log").write_text("big " * 5000)
    (root / "bad.txt").write_bytes("café crème brûlée".encode("latin-1") * 3)
    store = FileStore("docs", root, tmp_path / "idx.sqlite", max_file_bytes=10_000)
    try:
        report = store.refresh()
        reasons = {s.ref: s.reason for s in report.skipped}
        assert set(reasons) == {"broken.pdf", "fake.docx", "junk.txt", "huge.log", "bad.txt"}
        assert reasons["broken.pdf"].startswith("corrupt PDF")
        assert reasons["fake.docx"] == "corrupt DOCX: bad zip"
        assert reasons["huge.log"] == "larger than max_file_bytes (20 kB > 10 kB)"
        assert report.files_indexed == 4 and report.files_seen == 9
        assert refs(store.search("refund"))[0] == "policies/refunds.md"
        assert [s.ref for s in store.skipped()] == sorted(reasons)

        calls: list[str] = []
        real = files_module.extract_bytes
        monkeypatch.setattr(files_module, "extract_bytes", lambda *a: calls.append(a[2]) or real(*a))
        again = store.refresh()
        assert calls == [] and again.files_unchanged == 9 and len(again.skipped) == 5

        (root / "junk.txt").write_text("now readable kumquat text")
        fixed = store.refresh()
        assert calls == ["junk.txt"] and fixed.files_indexed == 1
        assert refs(store.search("kumquat")) == ["junk.txt"]
        assert store.stats().skipped == 4
        with pytest.raises(DocumentUnreadable):
            store.read("broken.pdf")
    finally:
        store.close()


def test_hidden_excluded_and_index_files_are_not_indexed(root: Path) -> None:
    (root / ".env").write_text("refund secret")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("refund secret")
    (root / "drafts").mkdir()
    (root / "drafts" / "refund.md").write_text("refund draft")
    (root / "policies" / "old.bak").write_text("refund backup")
    store = FileStore("docs", root, root / "index.sqlite", exclude=("drafts/**", "**/*.bak"))
    try:
        report = store.refresh()
        assert report.files_seen == 4 and report.skipped == ()
        assert set(refs(store.search("refund", limit=50))) == {"policies/refunds.md", "policies/shipping.md"}
        assert store.refresh().files_unchanged == 4  # the index itself is never picked up
    finally:
        store.close()


def test_include_patterns(root: Path, tmp_path: Path) -> None:
    store = FileStore("docs", root, tmp_path / "i.sqlite", include=("policies/**",))
    try:
        assert store.refresh().files_seen == 2
        with pytest.raises(RefDenied):
            store.resolve_ref("notes.txt")
    finally:
        store.close()


def test_index_is_rebuilt_when_settings_change(root: Path, tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite"
    first = FileStore("docs", root, path)
    first.refresh()
    first.close()
    second = FileStore("docs", root, path, chunk_words=5)
    try:
        assert second.needs_refresh()
        report = second.refresh()
        assert report.files_indexed == 4 and report.chunks > 4
    finally:
        second.close()


def test_concurrent_searches_during_refresh(store: FileStore, root: Path) -> None:
    for i in range(30):
        (root / f"extra{i}.md").write_text(f"# Extra {i}\n\nrefund number {i}\n")
    errors: list[BaseException] = []

    def searcher() -> None:
        try:
            for _ in range(20):
                store.search("refund")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for t in threads:
        t.start()
    store.refresh()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.search("refund", limit=100)) == 32


# -- refs ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    [
        "../etc/passwd",
        "/etc/passwd",
        "a/../../x",
        "policies/../notes.txt",
        "./notes.txt",
        "policies//refunds.md",
        "%2e%2e/x",
        "%2E%2E%2Fetc%2Fpasswd",
        "notes.txt\x00.md",
        "policies\\refunds.md",
        "..\\..\\x",
        "C:/Windows/win.ini",
        ".env",
        "policies/.hidden.md",
        "drafts/plan.md",
        "",
        "x" * 5000,
    ],
)
def test_refs_denied(store: FileStore, root: Path, ref: str) -> None:
    (root / ".env").write_text("SECRET=1")
    (root / "policies" / ".hidden.md").write_text("hidden")
    (root / "drafts").mkdir()
    (root / "drafts" / "plan.md").write_text("plan")
    excluded = FileStore("docs", root, root.parent / "x.sqlite", exclude=("drafts/**",))
    try:
        with pytest.raises(RefDenied):
            excluded.resolve_ref(ref)
        with pytest.raises(RefDenied):
            excluded.read(ref)
    finally:
        excluded.close()


def test_symlinks(store: FileStore, root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("refund outside secret")
    (root / "to_secret.txt").symlink_to(outside / "secret.txt")
    (root / "outdir").symlink_to(outside, target_is_directory=True)
    (root / ".hidden.txt").write_text("refund hidden")
    (root / "to_hidden.txt").symlink_to(root / ".hidden.txt")
    (root / "alias.md").symlink_to(root / "policies" / "refunds.md")
    (root / "loop").symlink_to(root, target_is_directory=True)
    for ref in ("to_secret.txt", "outdir/secret.txt", "to_hidden.txt"):
        with pytest.raises(RefDenied):
            store.resolve_ref(ref)
    report = store.refresh()
    assert "to_secret.txt" not in refs(store.search("outside", limit=50))
    assert store.search("secret") == []
    assert store.read("alias.md").title == "Refund policy"
    assert report.files_seen == 5  # the 4 files + alias.md; a link to the root itself is ignored


def test_read_and_not_found(store: FileStore, root: Path) -> None:
    doc = store.read("policies/refunds.md")
    assert (doc.ref, doc.title, doc.media_type) == ("policies/refunds.md", "Refund policy", "text/markdown")
    (root / "notes.txt").write_text("fresh content not yet indexed")
    assert store.read("notes.txt").text == "fresh content not yet indexed"
    (root / "100%.md").write_text("percent")
    assert store.read("100%.md").text == "percent"
    for ref in ("missing.md", "policies", "policies/none/x.md"):
        with pytest.raises(DocumentNotFound) as caught:
            store.read(ref)
        assert not isinstance(caught.value, DocumentUnreadable)
