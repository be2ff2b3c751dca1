"""search/read over the demo documents through DocumentTools with the real masker."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.sql import SqlDatabase
from mcp_server.catalog import SqlCatalog
from mcp_server.config import load_config
from mcp_server.demo.data import DemoWorkspace
from mcp_server.demo.workspace import prepare_demo
from mcp_server.masking.masker import Masker
from mcp_server.masking.pseudonyms import Pseudonymizer
from mcp_server.pipeline.documents import DocumentTools, cut_snippet, split_pieces
from mcp_server.policy import Policy, build_policies
from mcp_server.tokens import TokenCounter
from mcp_server.tools.problems import ToolProblem


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> DemoWorkspace:
    return prepare_demo(tmp_path_factory.mktemp("docs"))


@pytest.fixture(scope="module")
def docs(workspace: DemoWorkspace, detector) -> DocumentTools:  # type: ignore[no-untyped-def]
    config = load_config(workspace.root / "maskwire.toml")
    crm = config.source("crm")
    database = SqlDatabase("crm", config.sql_url(crm))  # type: ignore[arg-type]
    for entity, values in SqlCatalog(crm, database, detector, 50).known_values():  # type: ignore[arg-type]
        detector.known_values.add(entity, values)
    masker = Masker(detector, Pseudonymizer(b"k" * 32))
    tools = DocumentTools(config, masker, TokenCounter())
    yield tools
    tools.close()


@pytest.fixture(scope="module")
def policy(workspace: DemoWorkspace, docs: DocumentTools) -> Policy:
    return build_policies(load_config(workspace.root / "maskwire.toml"), docs.masker)["default"]


def _leaks(text: str, workspace: DemoWorkspace) -> list[str]:
    folded = text.casefold()
    return [v for v in workspace.seeded.must_not_leak() if v.casefold() in folded]


@pytest.mark.parametrize("query", ["refund", "password", "api key", "welcome", "escalation", "employee", "runbook"])
def test_search_snippets_are_masked(docs: DocumentTools, workspace: DemoWorkspace, query: str, policy: Policy) -> None:
    out = docs.search(query, None, None, policy)
    dump = out.text + out.structured.model_dump_json()
    assert not _leaks(dump, workspace)


def test_search_finds_and_refs_are_opaque(docs: DocumentTools, policy: Policy) -> None:
    out = docs.search("refund", None, None, policy)
    hits = out.structured.hits  # type: ignore[attr-defined]
    assert hits, "the demo documents mention refunds"
    for hit in hits:
        assert hit.ref.startswith("<DOC:") and "/" not in hit.ref
        assert not hit.title.endswith(".md")


def test_read_every_document_masked_and_paged(docs: DocumentTools, workspace: DemoWorkspace, policy: Policy) -> None:
    store = docs.stores["docs"]
    refs = store.indexed_refs()  # type: ignore[union-attr]
    assert len(refs) >= 10
    for ref in refs:
        token = docs.ref_token("docs", ref)
        cursor = None
        pages = 0
        while True:
            out = docs.read("docs", token, cursor, policy)
            assert not _leaks(out.text + out.structured.model_dump_json(), workspace), ref
            pages += 1
            cursor = out.structured.cursor  # type: ignore[attr-defined]
            if not cursor:
                break
            assert pages < 50


def test_read_pages_respect_the_token_budget(workspace: DemoWorkspace, detector, policy: Policy) -> None:  # type: ignore[no-untyped-def]
    config = load_config(workspace.root / "maskwire.toml")
    config = config.model_copy(update={"tokens": config.tokens.model_copy(update={"max_output_tokens": 300})})
    counter = TokenCounter()
    tools = DocumentTools(config, Masker(detector, Pseudonymizer(b"k" * 32)), counter)
    token = tools.ref_token("docs", "it/runbook.md")
    texts, cursor = [], None
    while True:
        out = tools.read("docs", token, cursor, policy)
        assert counter.count(out.text) <= 300
        texts.append(out.structured.text)  # type: ignore[attr-defined]
        cursor = out.structured.cursor  # type: ignore[attr-defined]
        if not cursor:
            break
    assert len(texts) > 1
    tools.close()


def test_bad_refs_and_queries(docs: DocumentTools, policy: Policy) -> None:
    for ref in ["../etc/passwd", "it/runbook.md", "<DOC:0000000000000000>", ""]:
        with pytest.raises(ToolProblem):
            docs.read("docs", ref, None, policy)
    with pytest.raises(ToolProblem):
        docs.read("nope", "<DOC:0000000000000000>", None, policy)
    with pytest.raises(ToolProblem):
        docs.search("   ", None, None, policy)
    with pytest.raises(ToolProblem):
        docs.search("x" * 5000, None, None, policy)
    with pytest.raises(ToolProblem, match="unknown or expired token"):
        docs.search("<PERSON:0123456789ab>", None, None, policy)
    token = docs.ref_token("docs", "it/runbook.md")
    with pytest.raises(ToolProblem, match="cursor"):
        docs.read("docs", token, "not-a-cursor", policy)


def test_token_in_query_matches_its_value(docs: DocumentTools, workspace: DemoWorkspace, policy: Policy) -> None:
    email = next(e for e in workspace.seeded.emails if "trailhead" in e)
    token = docs.masker.pseudonyms.token("EMAIL_ADDRESS", email)
    out = docs.search(token, None, None, policy)
    assert out.structured.hits  # type: ignore[attr-defined]
    assert email not in out.text


def test_split_pieces_never_cuts_words() -> None:
    text = ("word " * 3000) + "\n\n" + "tail"
    pieces = split_pieces(text, 1000)
    assert "".join(pieces) == text
    assert all(len(p) <= 1001 for p in pieces)


def test_snippet_centres_on_term() -> None:
    chunk = " ".join(f"w{i}" for i in range(200)) + " refund " + " ".join(f"x{i}" for i in range(200))
    snippet = cut_snippet(chunk, ["refund"], words=20)
    assert "refund" in snippet and snippet.startswith("…") and snippet.endswith("…")


def test_index_lives_in_state_dir(workspace: DemoWorkspace, docs: DocumentTools) -> None:
    assert (workspace.root / ".maskwire" / "index" / "docs.sqlite").exists()
    assert isinstance(workspace.root, Path)


def test_refs_survive_a_restart_through_the_vault(workspace: DemoWorkspace, detector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from mcp_server.masking.vault import TokenVault

    config = load_config(workspace.root / "maskwire.toml")
    key = b"v" * 32

    def tools() -> DocumentTools:
        pseudonyms = Pseudonymizer(key, vault=TokenVault(tmp_path / "vault.sqlite", key))
        return DocumentTools(config, Masker(detector, pseudonyms), TokenCounter())

    first = tools()
    ref = first.ref_token("docs", "it/runbook.md")
    first.masker.pseudonyms.close()
    first.close()
    second = tools()
    # a folder source could rebuild its refs from the index; the vault answers first and for pgdocs too
    second.stores["docs"].indexed_refs = list  # type: ignore[attr-defined]  # an index that lists nothing
    assert second.resolve_ref("docs", ref) == "it/runbook.md"
    with pytest.raises(ToolProblem):
        second.resolve_ref("other", ref)
    second.masker.pseudonyms.close()
    second.close()


def test_snippet_centres_on_a_token_in_the_query(docs: DocumentTools, workspace: DemoWorkspace, policy: Policy) -> None:
    email = next(e for e in workspace.seeded.emails if "trailhead" in e)
    token = docs.masker.pseudonyms.token("EMAIL_ADDRESS", email)
    hits = docs.search(token, None, None, policy).structured.hits  # type: ignore[attr-defined]
    assert any(token in hit.snippet for hit in hits)


def test_a_masked_value_is_not_found_by_searching_for_it(
    docs: DocumentTools, workspace: DemoWorkspace, policy: Policy
) -> None:
    """Search judges hits on the masked text: a guessed secret, e-mail address or fragment of one finds no
    document, or whether a hit came back would say the guess is in the documents. Its token still finds them."""
    corpus = " ".join(p.read_text("utf-8", "replace") for p in (workspace.root / "documents").rglob("*") if p.is_file())
    present = [v for v in workspace.seeded.must_not_leak() if v in corpus and len(v) >= 8 and " " not in v]
    assert present, "the demo documents hold seeded values"
    for value in present:
        out = docs.search(value, None, 50, policy)
        assert not out.structured.hits, value  # type: ignore[attr-defined]
        fragment = value[2:-2]
        assert not docs.search(fragment, None, 50, policy).structured.hits, fragment  # type: ignore[attr-defined]
    email = next(e for e in workspace.seeded.emails if "trailhead" in e)
    assert docs.search(docs.masker.pseudonyms.token("EMAIL_ADDRESS", email), None, 50, policy).structured.hits  # type: ignore[attr-defined]
