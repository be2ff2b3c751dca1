"""Roles and operators through the real server (in-process MCP client)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from mcp_server.config import ConfigError, load_config, parse_config
from mcp_server.demo.workspace import DEMO_CONFIG, prepare_demo
from mcp_server.masking.operators import apply, generalize, partial
from mcp_server.masking.pseudonyms import Pseudonymizer
from mcp_server.runtime import Runtime
from mcp_server.server import build_server

ROLES = """
[masking.operators]
CREDIT_CARD = "partial"
DATE_OF_BIRTH = "generalize"

[roles.analyst]
sources = ["crm"]
tables = ["crm.customers", "crm.orders", "crm.products"]
clear = ["LOCATION"]

[roles.support]
sources = ["docs"]

[roles.researcher]
preset = "hipaa-safe-harbor"

[roles.billing]
preset = "pci"
operators = { EMAIL_ADDRESS = "keep" }

[[agents]]
name = "analyst-bot"
role = "analyst"

[[agents]]
name = "support-bot"
role = "support"

[[agents]]
name = "research-bot"
role = "researcher"

[[agents]]
name = "billing-bot"
role = "billing"
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    prepare_demo(tmp_path)
    (tmp_path / "maskwire.toml").write_text(DEMO_CONFIG + ROLES)
    return tmp_path


async def _call(workspace: Path, agent: str, tool: str, args: dict) -> dict:  # type: ignore[type-arg]
    runtime = Runtime.start(load_config(workspace / "maskwire.toml"), agent=agent)
    try:
        async with Client(build_server(runtime)) as client:
            result = await client.call_tool(tool, args)
        return {"error": result.is_error, "data": result.structured_content, "text": result.content[0].text}
    finally:
        runtime.close()


async def test_role_sees_allowed_entities_in_clear(workspace: Path) -> None:
    sql = "SELECT email, city, card_number, birth_date FROM customers ORDER BY id LIMIT 3"
    out = await _call(workspace, "analyst-bot", "query", {"source": "crm", "sql": sql})
    assert not out["error"], out["text"]
    for email, city, card, birth in out["data"]["rows"]:
        assert email.startswith("<EMAIL_ADDRESS:")
        assert not city.startswith("<")  # LOCATION is clear for analysts
        assert card.startswith("<CREDIT_CARD:…") and len(card) == len("<CREDIT_CARD:…1234>")
        assert len(birth) == 4 and birth.isdigit()  # generalised to the year
    assert "LOCATION" not in out["data"]["entities_masked"]


async def test_a_preset_per_role(workspace: Path) -> None:
    """The same columns under two roles' presets; the default role keeps [masking]'s operators."""
    sql = "SELECT first_name, email, card_number, birth_date, postal_code FROM customers ORDER BY id LIMIT 3"
    research = await _call(workspace, "research-bot", "query", {"source": "crm", "sql": sql})
    billing = await _call(workspace, "billing-bot", "query", {"source": "crm", "sql": sql})
    default = await _call(workspace, "someone-else", "query", {"source": "crm", "sql": sql})
    for out in (research, billing, default):
        assert not out["error"], out["text"]
    for name, email, card, birth, postal in research["data"]["rows"]:  # Safe Harbor: removed, no keyed codes
        assert name == "<PERSON>" and email == "<EMAIL_ADDRESS>" and card == "<CREDIT_CARD>"
        assert len(birth) == 4 and birth.isdigit()  # dates to the year
        assert len(postal.rstrip("…")) <= 3  # ZIP to three digits
    for name, email, card, _birth, _postal in billing["data"]["rows"]:
        assert name.startswith("<PERSON:")  # pci keeps pseudonyms by default
        assert "@" in email  # the role's own operators win over its preset
        assert card.startswith("<CREDIT_CARD:…") and len(card) == len("<CREDIT_CARD:…1234>")
    for name, email, card, birth, _postal in default["data"]["rows"]:
        assert name.startswith("<PERSON:") and email.startswith("<EMAIL_ADDRESS:")
        assert card.startswith("<CREDIT_CARD:…")  # [masking.operators] of this config
        assert len(birth) == 4


def test_unknown_role_preset_is_refused() -> None:
    with pytest.raises(ConfigError, match="preset"):
        parse_config('[roles.x]\npreset = "sox"\n')


async def test_default_role_masks_everything(workspace: Path) -> None:
    out = await _call(workspace, "someone-else", "query", {"source": "crm", "sql": "SELECT city FROM customers"})
    assert all(row[0].startswith("<LOCATION:") for row in out["data"]["rows"])


async def test_table_outside_the_role_is_denied_not_empty(workspace: Path) -> None:
    out = await _call(
        workspace, "analyst-bot", "query", {"source": "crm", "sql": "SELECT t.body FROM support_tickets t"}
    )
    assert out["error"] and "may not read" in out["text"] and "support_tickets" in out["text"]
    out = await _call(
        workspace,
        "analyst-bot",
        "query",
        {"source": "crm", "sql": "SELECT c.id FROM customers c JOIN support_tickets t ON t.customer_id = c.id"},
    )
    assert out["error"]
    described = await _call(workspace, "analyst-bot", "describe", {"source": "crm"})
    assert {t["name"] for t in described["data"]["tables"]} == {"customers", "orders", "products"}


async def test_source_outside_the_role(workspace: Path) -> None:
    listed = await _call(workspace, "support-bot", "list_sources", {})
    assert [s["name"] for s in listed["data"]["sources"]] == ["docs"]
    out = await _call(workspace, "support-bot", "query", {"source": "crm", "sql": "SELECT 1"})
    assert out["error"] and "may not use source" in out["text"]
    out = await _call(workspace, "analyst-bot", "search", {"query": "refund"})
    assert out["error"]


def test_roles_must_exist() -> None:
    with pytest.raises(ConfigError, match="not defined"):
        parse_config('[[agents]]\nname = "a"\nrole = "ghost"\n')
    with pytest.raises(ConfigError, match="unknown sources"):
        parse_config('[roles.r]\nsources = ["nowhere"]\n')
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config("[roles.r]\nsee_everything = true\n")


def test_operators() -> None:
    p = Pseudonymizer(b"k" * 32)
    assert partial("CREDIT_CARD", "4111 1111 1111 4242") == "<CREDIT_CARD:…4242>"
    assert partial("EMAIL_ADDRESS", "ann@example.com") == "<EMAIL_ADDRESS:…@example.com>"
    assert partial("US_SSN", "1234") == "<US_SSN>"  # too short to show a part of
    assert generalize("DATE_OF_BIRTH", "1985-03-02") == "1985"
    assert generalize("POSTAL_CODE", "94107") == "941…"
    assert generalize("POSTAL_CODE", "9100") == "91…"
    assert generalize("POSTAL_CODE", "SW1A 2AA") == "SW1…"
    assert generalize("STREET_ADDRESS", "1234 Oak Street Apt. 5, Springfield") == "Oak Street"
    assert generalize("STREET_ADDRESS", "Wingertweg 126") == "<STREET_ADDRESS>"
    assert generalize("LOCATION", "Springfield") == "<LOCATION>"
    assert generalize("AGE", "37") == "30-39"
    assert generalize("PERSON", "Maria") == "<PERSON>"
    hashed = apply("hash", "US_SSN", "123-45-6789", p)
    assert hashed.startswith("<US_SSN:#") and len(hashed) == len("<US_SSN:#>") + 64
    assert apply("keep", "PERSON", "Maria", p) == "Maria"
    assert apply("redact", "PERSON", "Maria", p) == "<PERSON>"
    assert apply("pseudonym", "PERSON", "Maria", p) == p.token("PERSON", "Maria")
