"""AI platform API keys: OpenAI, Anthropic, Hugging Face, Groq, Replicate, Perplexity."""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from ._base import LB, RB, SecretRule, rule_recognizers

RULES: list[SecretRule] = [
    SecretRule("anthropic_api_key", LB + r"sk-ant-[a-z]+\d{2}-[0-9A-Za-z_\-]{32,}" + RB),
    # Project, service-account and admin keys, then the legacy forms ("T3BlbkFJ" is base64 "OpenAI").
    SecretRule("openai_api_key", LB + r"sk-(?:proj|svcacct|admin|None)-[0-9A-Za-z_\-]{40,}" + RB),
    SecretRule("openai_api_key", LB + r"sk-[0-9A-Za-z_\-]{16,80}T3BlbkFJ[0-9A-Za-z_\-]{16,80}" + RB),
    SecretRule("openai_api_key", LB + r"sk-[0-9A-Za-z]{48}" + RB, score=0.9),
    SecretRule("huggingface_token", LB + r"hf_[0-9A-Za-z]{34,40}" + RB),
    SecretRule("huggingface_token", LB + r"api_org_[0-9A-Za-z]{34}" + RB),
    SecretRule("groq_api_key", LB + r"gsk_[0-9A-Za-z]{52}" + RB),
    SecretRule("replicate_api_token", LB + r"r8_[0-9A-Za-z]{37}" + RB),
    SecretRule("perplexity_api_key", LB + r"pplx-[0-9A-Za-z]{48}" + RB),
]


def recognizers() -> list[EntityRecognizer]:
    """AI-platform secret recognizers."""
    return rule_recognizers(RULES)
