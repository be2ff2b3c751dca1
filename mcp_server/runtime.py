"""Everything one server process holds: config, masker, tool service, ledger, agents, token counter."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mcp_server.config import Config
from mcp_server.identity import Identities
from mcp_server.ledger.agents import AgentStore
from mcp_server.ledger.store import Ledger
from mcp_server.masking.detector import shared_detector
from mcp_server.masking.masker import Masker
from mcp_server.masking.pseudonyms import Pseudonymizer, load_or_create_key
from mcp_server.masking.term_lists import TermLists
from mcp_server.masking.vault import TokenVault
from mcp_server.tokens import TokenCounter
from mcp_server.tools.service import ToolService

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    masker: Masker
    service: ToolService
    ledger: Ledger
    counter: TokenCounter
    identities: Identities
    agent_override: str | None = None
    """The agent named by `serve --agent` / $MASKWIRE_AGENT (stdio only)."""

    @classmethod
    def start(cls, config: Config, agent: str | None = None) -> Runtime:
        """Load the NLP pipeline, the key, the sources and the ledger. Fails loudly, before serving."""
        masking = config.masking
        key = load_or_create_key(masking.key, config.state_dir)
        detector = shared_detector(masking.spacy_model, masking.language, masking.score_threshold)
        vault = TokenVault(config.state_dir / "vault.sqlite", key) if masking.token_vault else None
        masker = Masker(
            detector,
            Pseudonymizer(key, vault=vault),
            operator=masking.default_operator,
            max_cell_chars=masking.max_cell_chars,
            term_lists=TermLists(masking.allow_list, masking.deny_list),
        )
        counter = TokenCounter(config.tokens.encoding)
        ledger = Ledger(config.ledger_url)
        identities = Identities(config, AgentStore(ledger.engine))
        service = ToolService(config, masker, counter)
        for catalog in service.catalogs.values():
            try:
                for entity, values in catalog.known_values():
                    detector.known_values.add(entity, values)
            except Exception as exc:  # the source stays usable; NER alone then finds names in its text
                log.warning("could not read known names from source %s (%s)", catalog.name, type(exc).__name__)
        return cls(config, masker, service, ledger, counter, identities, agent)

    def close(self) -> None:
        self.service.close()
        self.ledger.dispose()
        self.masker.pseudonyms.close()
