"""Keys that cannot vanish silently: fingerprints in the vault and the ledger, refusal at start, rotation."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mcp_server.cli import main
from mcp_server.config import load_config
from mcp_server.ledger.deployment import open_ledger
from mcp_server.ledger.keys import LedgerKeyError, fingerprint
from mcp_server.ledger.store import LedgerEntry
from mcp_server.masking.pseudonyms import MaskingKeyError, Pseudonymizer, load_or_create_key
from mcp_server.masking.vault import TokenVault, VaultError

KEY_A = b"a" * 64
KEY_B = b"b" * 64
SEEDED = "odalys.fenwick@example.com"


def test_vault_refuses_another_masking_key(tmp_path: Path) -> None:
    vault = TokenVault(tmp_path / "vault.sqlite", KEY_A, check_key=True)
    vault.put_many({"0123456789ab": SEEDED})
    vault.close()
    with pytest.raises(VaultError, match="not the key the token vault was written under") as refused:
        TokenVault(tmp_path / "vault.sqlite", KEY_B, check_key=True)
    assert fingerprint(KEY_A) in str(refused.value) and SEEDED not in str(refused.value)
    assert TokenVault(tmp_path / "vault.sqlite", KEY_A, check_key=True).get("0123456789ab") == SEEDED


def test_vault_from_before_fingerprints_is_checked_by_decrypting(tmp_path: Path) -> None:
    vault = TokenVault(tmp_path / "vault.sqlite", KEY_A, check_key=True)
    vault.put_many({"0123456789ab": SEEDED})
    vault.close()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'vault.sqlite'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE maskwire_vault_meta")  # as written by an earlier version
    engine.dispose()
    with pytest.raises(VaultError):
        TokenVault(tmp_path / "vault.sqlite", KEY_B, check_key=True)
    TokenVault(
        tmp_path / "vault.sqlite", KEY_A, check_key=True
    ).close()  # the right key: accepted, fingerprint recorded
    with pytest.raises(VaultError, match=fingerprint(KEY_A)):
        TokenVault(tmp_path / "vault.sqlite", KEY_B, check_key=True)


def test_a_deleted_key_file_is_not_silently_replaced(tmp_path: Path) -> None:
    key = load_or_create_key(None, tmp_path)
    TokenVault(tmp_path / "vault.sqlite", key, check_key=True).close()
    (tmp_path / "masking.key").unlink()
    with pytest.raises(MaskingKeyError, match="missing"):
        load_or_create_key(None, tmp_path)
    assert not (tmp_path / "masking.key").exists()


SOURCE = '[[sources]]\nname = "docs"\nkind = "files"\npath = "documents"\n'


def _workspace(tmp_path: Path) -> Path:
    """A config with one (empty) document source: `serve` refuses a config without sources."""
    (tmp_path / "documents").mkdir(exist_ok=True)
    config = tmp_path / "maskwire.toml"
    config.write_text('[server]\nstate_dir = "state"\n' + SOURCE)
    return config


def test_serve_refuses_to_start_without_its_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_path = _workspace(tmp_path)
    config = load_config(config_path)
    key = load_or_create_key(None, config.state_dir)
    TokenVault(config.token_vault_url, key, check_key=True).close()
    open_ledger(config, masking_key=key, serving=True).dispose()
    (config.state_dir / "masking.key").unlink()
    assert main(["serve", "--config", str(config_path)]) == 1
    assert "masking key file is missing" in capsys.readouterr().err
    # a configured key that is not the recorded one is refused by the vault and the ledger alike
    config_path.write_text('[server]\nstate_dir = "state"\n[masking]\nkey = "another-key-0123456789"\n' + SOURCE)
    assert main(["serve", "--config", str(config_path)]) == 1
    assert "is not the key" in capsys.readouterr().err
    with pytest.raises(LedgerKeyError, match="masking key"):
        open_ledger(config, masking_key=b"another-key-0123456789", serving=True)


def test_keys_rotate_masking_rekeys_the_vault(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_path = _workspace(tmp_path)
    config = load_config(config_path)
    old = load_or_create_key(None, config.state_dir)
    vault = TokenVault(config.token_vault_url, old, check_key=True)
    pseudonyms = Pseudonymizer(old, vault=vault)
    token = pseudonyms.token("EMAIL_ADDRESS", SEEDED)
    pseudonyms.close()
    ledger = open_ledger(config, masking_key=old, serving=True)
    ledger.append(LedgerEntry(agent="a", tool="query", status="ok"))
    ledger.dispose()

    assert main(["keys", "rotate", "masking", "--config", str(config_path)]) == 0
    out = capsys.readouterr().out
    new = load_or_create_key(None, config.state_dir)
    assert new != old and fingerprint(new) in out and SEEDED not in out
    assert [p.name.startswith("masking.key.retired-") for p in config.state_dir.glob("masking.key.retired-*")] == [True]
    rekeyed = Pseudonymizer(new, vault=TokenVault(config.token_vault_url, new, check_key=True))
    assert rekeyed.resolve(token) == SEEDED  # a token issued before the rotation still works as a literal
    assert rekeyed.token("EMAIL_ADDRESS", SEEDED) != token
    rekeyed.close()
    with pytest.raises(VaultError):
        TokenVault(config.token_vault_url, old, check_key=True)
    ledger = open_ledger(config, masking_key=new, serving=True)
    entries = list(ledger.entries())
    assert entries[-1].tool == "keys rotate" and entries[-1].arguments["new"] == fingerprint(new)
    assert ledger.verify()[1] == []
    ledger.dispose()
    with pytest.raises(LedgerKeyError):
        open_ledger(config, masking_key=old, serving=True)

    assert main(["keys", "rotate", "masking", "--retire-old-tokens", "--config", str(config_path)]) == 0
    newest = load_or_create_key(None, config.state_dir)
    assert TokenVault(config.token_vault_url, newest, check_key=True).get(token[-13:-1]) is None
