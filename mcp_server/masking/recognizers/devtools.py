"""Developer-platform tokens: code hosting, package registries, CI/observability and workspace tools.

All are prefixed formats from gitleaks' rule list, so they score PREFIXED_SCORE.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from ._base import LB, RB, SecretRule, rule_recognizers

RULES: list[SecretRule] = [
    # GitHub: classic PAT, OAuth, user-to-server, server-to-server, refresh; fine-grained PAT.
    SecretRule("github_token", LB + r"gh[pousr]_[0-9A-Za-z]{36,251}" + RB),
    SecretRule("github_token", LB + r"github_pat_[0-9A-Za-z_]{82,}" + RB),
    # GitLab: PAT, deploy, feed, OAuth, runner, CI build, mail, trigger, agent, feature-flag tokens;
    # newer "routable" tokens carry dotted suffixes.
    SecretRule(
        "gitlab_token",
        LB + r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas|ffct|wt)-[0-9A-Za-z_\-]{20,300}"
        r"(?:\.[0-9A-Za-z]{1,16}){0,2}" + RB,
    ),
    SecretRule("gitlab_token", LB + r"GR1348941[0-9A-Za-z_\-]{20,}" + RB),
    SecretRule("npm_token", LB + r"npm_[0-9A-Za-z]{36}" + RB),
    # PyPI / TestPyPI macaroons: "pypi-" + base64 of a macaroon starting "AgE".
    SecretRule("pypi_token", LB + r"pypi-AgE[0-9A-Za-z_\-]{50,}" + RB),
    SecretRule("rubygems_token", LB + r"rubygems_[a-f0-9]{48}" + RB),
    SecretRule("docker_hub_token", LB + r"dckr_(?:pat|oat)_[0-9A-Za-z_\-]{20,}" + RB),
    SecretRule("atlassian_api_token", LB + r"ATATT3[0-9A-Za-z_\-=]{150,}" + RB),
    SecretRule("postman_api_key", LB + r"PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34}" + RB),
    SecretRule("terraform_cloud_token", LB + r"[a-z0-9]{14}\.atlasv1\.[a-z0-9_=\-]{60,70}" + RB),
    SecretRule("vault_token", LB + r"hv[sbr]\.[0-9A-Za-z_\-]{24,}" + RB),
    SecretRule("grafana_token", LB + r"glc_[A-Za-z0-9+/]{32,400}={0,2}" + RB),
    SecretRule("grafana_token", LB + r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}" + RB),
    SecretRule("new_relic_key", LB + r"NR(?:AK|II)-[A-Za-z0-9\-]{27,32}" + RB),
    SecretRule("sentry_token", LB + r"sntrys_eyJ[A-Za-z0-9+/=_\-]{50,}" + RB),
    SecretRule("sentry_token", LB + r"sntryu_[a-f0-9]{64}" + RB),
    SecretRule("linear_api_key", LB + r"lin_api_[0-9A-Za-z]{40}" + RB),
    SecretRule("doppler_token", LB + r"dp\.(?:pt|st|ct|sa|scim|audit)\.[0-9A-Za-z]{40,44}" + RB),
    SecretRule("pulumi_token", LB + r"pul-[a-f0-9]{40}" + RB),
    SecretRule("notion_token", LB + r"ntn_[0-9]{11}[0-9A-Za-z]{32,35}" + RB),
    SecretRule("notion_token", LB + r"secret_[0-9A-Za-z]{43}" + RB),
]


def recognizers() -> list[EntityRecognizer]:
    """Developer-platform secret recognizers."""
    return rule_recognizers(RULES)
