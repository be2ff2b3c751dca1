"""Cloud provider credentials: AWS, Google Cloud, Azure, Alibaba, DigitalOcean, Heroku, Databricks."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from ._base import KEYWORD_GAP, KEYWORD_SCORE, LB, RB, SecretRule, rule_recognizers
from ._values import UUID_REGEX, shannon_entropy


def _aws_secret_ok(value: str) -> bool:
    """A 40-char AWS secret is base64-ish random: mixed classes and high entropy, not a hex digest."""
    has_upper = any(c.isupper() for c in value)
    has_lower = any(c.islower() for c in value)
    return has_upper and has_lower and shannon_entropy(value) >= 4.0


RULES: list[SecretRule] = [
    # gitleaks aws-access-token: AKIA (long-term), ASIA (STS), ABIA, ACCA, A3T*.
    SecretRule("aws_access_key_id", LB + r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}" + RB),
    SecretRule(
        "aws_secret_access_key",
        r"(?<![a-z])(?i:aws)[^\n]{0,40}?(?:=>|:=|=|:|\s)[\s\"'`]*"
        r"(?P<secret>(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        score=0.85,
        validate=_aws_secret_ok,
    ),
    SecretRule("google_api_key", LB + r"AIza[0-9A-Za-z_\-]{35}" + RB),
    SecretRule("google_oauth_client_secret", LB + r"GOCSPX-[0-9A-Za-z_\-]{28}" + RB),
    SecretRule("google_oauth_access_token", LB + r"ya29\.[0-9A-Za-z_\-]{30,}" + RB, score=0.9),
    # Storage / Service Bus / Event Hubs connection strings: mask the key value only.
    SecretRule(
        "azure_storage_account_key",
        r"(?i:AccountKey)\s*=\s*(?P<secret>[A-Za-z0-9+/]{86}==)",
    ),
    SecretRule(
        "azure_shared_access_key",
        r"(?i:SharedAccessKey|SharedAccessSignature)\s*=\s*(?P<secret>[^;\s'\"]{20,})",
    ),
    # Entra ID (Azure AD) client secrets carry a "Q~" marker at position 4.
    SecretRule(
        "azure_ad_client_secret",
        r"(?<![A-Za-z0-9_~.\-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}(?![A-Za-z0-9_~.\-])",
        score=0.9,
    ),
    SecretRule("alibaba_access_key_id", LB + r"LTAI[A-Za-z0-9]{20}" + RB, score=0.9),
    SecretRule("digitalocean_token", LB + r"do[opr]_v1_[a-f0-9]{64}" + RB),
    SecretRule("heroku_api_key", LB + r"HRKU-AA[0-9A-Za-z_\-]{58}" + RB),
    SecretRule(
        "heroku_api_key",
        r"(?i:heroku)" + KEYWORD_GAP + r"(?P<secret>" + UUID_REGEX + ")" + RB,
        score=KEYWORD_SCORE,
    ),
    SecretRule("databricks_token", LB + r"dapi[a-f0-9]{32}(?:-\d)?" + RB),
]


def recognizers() -> list[EntityRecognizer]:
    """Cloud-provider secret recognizers."""
    return rule_recognizers(RULES)
