"""Messaging platforms: Slack, Discord, Teams, Telegram, Meta, Twilio, SendGrid, Mailgun, Mailchimp.

Webhook URLs are secrets in their path only; the span is the path after the fixed prefix so the
masked text still shows which service the webhook was for.
"""

from __future__ import annotations

import base64
import binascii

from presidio_analyzer import EntityRecognizer

from ._base import KEYWORD_GAP, LB, RB, SecretRule, rule_recognizers


def _discord_user_id_segment(token: str) -> bool:
    """A Discord bot token's first segment is the base64 of the bot's numeric user id."""
    first = token.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4))
    except (binascii.Error, ValueError):
        return False
    return decoded.isdigit() and 17 <= len(decoded) <= 20


RULES: list[SecretRule] = [
    # bot, user, legacy workspace app, refresh, session, config and legacy tokens.
    SecretRule("slack_token", LB + r"xox[abeoprs]-[0-9A-Za-z][0-9A-Za-z\-]{8,250}" + RB),
    SecretRule("slack_token", LB + r"xoxe\.xox[bp]-\d-[0-9A-Za-z]{100,}" + RB),
    SecretRule("slack_token", LB + r"xapp-\d-[0-9A-Za-z\-]{20,}" + RB),
    SecretRule(
        "slack_webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<secret>[0-9A-Za-z+/_\-]{20,})",
    ),
    SecretRule(
        "discord_bot_token",
        LB + r"[0-9A-Za-z_\-]{23,28}\.[0-9A-Za-z_\-]{6,7}\.[0-9A-Za-z_\-]{27,40}" + RB,
        validate=_discord_user_id_segment,
    ),
    SecretRule(
        "discord_webhook",
        r"discord(?:app)?\.com/api/webhooks/(?P<secret>\d{17,20}/[0-9A-Za-z_\-]{60,})",
    ),
    SecretRule("teams_webhook", r"\.webhook\.office\.com/webhookb2/(?P<secret>[^\s\"'<>]{40,})"),
    SecretRule("telegram_bot_token", r"(?:(?<=bot)|(?<![0-9A-Za-z_\-:]))\d{8,10}:[0-9A-Za-z_\-]{35}" + RB, score=0.9),
    SecretRule("facebook_access_token", LB + r"EAA[MC][0-9A-Za-z]{100,}" + RB),
    SecretRule("twilio_api_key", LB + r"SK[0-9a-fA-F]{32}" + RB, score=0.9),
    SecretRule(
        "twilio_auth_token",
        r"(?i:twilio)" + KEYWORD_GAP + r"(?P<secret>(?<![0-9A-Za-z])[0-9a-f]{32})" + RB,
        score=0.85,
    ),
    SecretRule("sendgrid_api_key", LB + r"SG\.[0-9A-Za-z_\-]{22}\.[0-9A-Za-z_\-]{43}" + RB),
    SecretRule("mailgun_api_key", LB + r"key-[0-9a-f]{32}" + RB, score=0.9),
    SecretRule("mailgun_api_key", LB + r"[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}" + RB, score=0.85),
    SecretRule("mailchimp_api_key", LB + r"[0-9a-f]{32}-us\d{1,2}" + RB),
]


def recognizers() -> list[EntityRecognizer]:
    """Messaging-platform secret recognizers."""
    return rule_recognizers(RULES)
