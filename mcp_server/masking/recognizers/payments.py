"""Payment and commerce credentials: Stripe, Square, Shopify, Braintree/PayPal, Flutterwave.

Stripe publishable keys (``pk_live_``/``pk_test_``) are deliberately NOT detected: Stripe designs them
to be embedded in web pages, they grant no API access, and masking them would only add noise.
Test-mode secret keys (``sk_test_``) ARE detected: they still read and write the account's test data.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from ._base import LB, RB, SecretRule, rule_recognizers

RULES: list[SecretRule] = [
    SecretRule("stripe_secret_key", LB + r"sk_(?:live|test|prod)_[0-9A-Za-z]{10,247}" + RB),
    SecretRule("stripe_restricted_key", LB + r"rk_(?:live|test|prod)_[0-9A-Za-z]{10,247}" + RB),
    SecretRule("stripe_webhook_secret", LB + r"whsec_[0-9A-Za-z]{32,}" + RB),
    SecretRule("square_access_token", LB + r"sq0atp-[0-9A-Za-z_\-]{22,60}" + RB),
    SecretRule("square_access_token", LB + r"EAAA[0-9A-Za-z_\-]{60}" + RB),
    SecretRule("square_oauth_secret", LB + r"sq0csp-[0-9A-Za-z_\-]{43}" + RB),
    # Admin API, custom app, private app access tokens and shared secrets.
    SecretRule("shopify_token", LB + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + RB),
    SecretRule(
        "braintree_access_token",
        LB + r"access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32}" + RB,
    ),
    SecretRule("flutterwave_secret_key", LB + r"FLWSECK(?:_TEST)?-[a-hA-H0-9]{32}-X" + RB),
]


def recognizers() -> list[EntityRecognizer]:
    """Payment-provider secret recognizers."""
    return rule_recognizers(RULES)
