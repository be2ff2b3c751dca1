"""SECRET recognizers: one hit per family, exact value spans, and near-misses that must stay unmasked.

Fake tokens are assembled at run time from a seeded generator, so this file holds no literal that a
secret scanner (GitHub push protection, gitleaks) would flag; AWS's documented example key is the
exception.
"""

from __future__ import annotations

import base64
import json
import random
import string
import time

import pytest
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from mcp_server.masking.recognizers import (
    SECRET_ENTITY,
    SECRET_KIND_KEY,
    maskwire_recognizers,
    secret_recognizers,
)
from mcp_server.masking.recognizers._values import is_placeholder
from mcp_server.masking.recognizers.assignments import secret_kind_for_key
from mcp_server.masking.recognizers.entropy import is_high_entropy_secret
from mcp_server.masking.recognizers.keys import jwt_valid

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
HEX = "0123456789abcdef"


def fake(n: int, alphabet: str = ALNUM, seed: str = "") -> str:
    """Deterministic random-looking filler."""
    rng = random.Random(f"{seed}|{n}|{alphabet}")
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64url_json(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


JWT = ".".join(
    [
        b64url_json({"alg": "HS256", "typ": "JWT"}),
        b64url_json({"sub": "1234567890", "name": "Jane Doe", "iat": 1516239022}),
        fake(43, B64URL, "jwt"),
    ]
)
DISCORD_BOT = ".".join(
    [base64.b64encode(b"123456789012345678").decode(), fake(6, B64URL, "d1"), fake(27, B64URL, "d2")]
)
PEM_BODY = "\n".join(fake(64, B64, f"pem{i}") for i in range(5))
AZURE_KEY = fake(86, B64, "azure") + "=="


def hit(kind: str, before: str, secret: str, after: str = "") -> tuple[str, str, str]:
    """(kind, text, secret): the recognizer must report exactly `secret` inside `text`."""
    return kind, before + secret + after, secret


HITS: list[tuple[str, str, str]] = [
    hit("aws_access_key_id", "aws_access_key_id = ", "AKIAIOSFODNN7EXAMPLE"),
    hit("aws_access_key_id", "role creds ", "ASIA" + fake(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "asia"), "."),
    hit("aws_secret_access_key", "aws_secret_access_key=", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    hit("google_api_key", "maps key: ", "AIza" + fake(35, B64URL, "gapi")),
    hit("google_oauth_client_secret", '"client_secret": "', "GOCSPX-" + fake(28, B64URL, "gocspx"), '"'),
    hit(
        "azure_storage_account_key",
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=",
        AZURE_KEY,
        ";EndpointSuffix=core.windows.net",
    ),
    hit("azure_ad_client_secret", "app secret ", fake(3, ALNUM, "az1") + "8Q~" + fake(34, ALNUM, "az2")),
    hit("digitalocean_token", "", "dop_v1_" + fake(64, HEX, "do")),
    hit("heroku_api_key", "", "HRKU-AA" + fake(58, B64URL, "heroku")),
    hit("heroku_api_key", "HEROKU_API_KEY: ", "01234567-89ab-cdef-0123-456789abcdef"),
    hit("databricks_token", "token ", "dapi" + fake(32, HEX, "dbx")),
    hit("github_token", "git clone https://x:", "ghp_" + fake(36, ALNUM, "ghp"), "@github.com/o/r"),
    hit("github_token", "GH_TOKEN=", "gho_" + fake(36, ALNUM, "gho")),
    hit("github_token", "(", "ghs_" + fake(36, ALNUM, "ghs"), ")"),
    hit("github_token", "", "github_pat_" + fake(22, ALNUM, "pat1") + "_" + fake(59, ALNUM, "pat2")),
    hit("gitlab_token", "PRIVATE-TOKEN: ", "glpat-" + fake(20, B64URL, "glpat")),
    hit("gitlab_token", "runner ", "glrt-" + fake(20, B64URL, "glrt")),
    hit("npm_token", "//registry.npmjs.org/:_authToken=", "npm_" + fake(36, ALNUM, "npm")),
    hit("pypi_token", "password = ", "pypi-AgEIcHlwaS5vcmc" + fake(70, B64URL, "pypi")),
    hit("docker_hub_token", "", "dckr_pat_" + fake(27, B64URL, "dckr")),
    hit("vault_token", "VAULT_TOKEN=", "hvs." + fake(90, B64URL, "hvs")),
    hit("grafana_token", "", "glsa_" + fake(32, ALNUM, "glsa") + "_" + fake(8, HEX, "glsa2")),
    hit("new_relic_key", "", "NRAK-" + fake(27, string.ascii_uppercase + string.digits, "nr")),
    hit(
        "terraform_cloud_token",
        "",
        fake(14, string.ascii_lowercase + string.digits, "tf")
        + ".atlasv1."
        + fake(67, string.ascii_lowercase + string.digits, "tf2"),
    ),
    hit("slack_token", "SLACK_BOT_TOKEN=", "xoxb-1234567890123-1234567890123-" + fake(24, ALNUM, "xoxb")),
    hit("slack_token", "", "xoxp-1234567890-1234567890-1234567890-" + fake(32, HEX, "xoxp")),
    hit("slack_token", "", "xapp-1-A0123456789-1234567890123-" + fake(64, HEX, "xapp")),
    hit("slack_webhook", "https://hooks.slack.com/services/", "T00000000/B00000000/" + fake(24, ALNUM, "hook")),
    hit("discord_bot_token", "Authorization: Bot ", DISCORD_BOT),
    hit("discord_webhook", "https://discord.com/api/webhooks/", "123456789012345678/" + fake(68, B64URL, "dw")),
    hit("telegram_bot_token", "https://api.telegram.org/bot", "123456789:AA" + fake(33, B64URL, "tg"), "/getMe"),
    hit("twilio_api_key", "", "SK" + fake(32, HEX, "twilio")),
    hit("twilio_auth_token", "TWILIO_AUTH_TOKEN ", fake(32, HEX, "twauth")),
    hit("sendgrid_api_key", "", "SG." + fake(22, B64URL, "sg1") + "." + fake(43, B64URL, "sg2")),
    hit("mailgun_api_key", "api:", "key-" + fake(32, HEX, "mg")),
    hit("mailchimp_api_key", "", fake(32, HEX, "mc") + "-us14"),
    hit("stripe_secret_key", "Stripe.api_key = '", "sk_live_" + fake(24, ALNUM, "sk"), "'"),
    hit("stripe_secret_key", "", "sk_test_" + fake(24, ALNUM, "skt")),
    hit("stripe_restricted_key", "", "rk_live_" + fake(24, ALNUM, "rk")),
    hit("stripe_webhook_secret", "", "whsec_" + fake(32, ALNUM, "whsec")),
    hit("square_access_token", "", "sq0atp-" + fake(22, B64URL, "sq")),
    hit("square_oauth_secret", "", "sq0csp-" + fake(43, B64URL, "sqc")),
    hit("shopify_token", "X-Shopify-Access-Token: ", "shpat_" + fake(32, HEX, "shp")),
    hit(
        "openai_api_key",
        "OPENAI_API_KEY=",
        "sk-proj-" + fake(74, B64URL, "oai1") + "T3BlbkFJ" + fake(74, B64URL, "oai2"),
    ),
    hit("openai_api_key", "", "sk-" + fake(20, ALNUM, "oai3") + "T3BlbkFJ" + fake(20, ALNUM, "oai4")),
    hit("anthropic_api_key", "x-api-key: ", "sk-ant-api03-" + fake(93, B64URL, "ant") + "AA"),
    hit("huggingface_token", "", "hf_" + fake(34, string.ascii_letters, "hf")),
    hit("groq_api_key", "", "gsk_" + fake(52, ALNUM, "groq")),
    hit("jwt", "Authorization: Bearer ", JWT),
    hit("jwt", "https://app.example.com/cb#id_token=", JWT, "&state=xyz"),
    hit("jwt", "The session cookie was ", JWT, "."),
    hit("private_key", "-----BEGIN RSA PRIVATE KEY-----\n", PEM_BODY, "\n-----END RSA PRIVATE KEY-----\n"),
    hit("private_key", "-----BEGIN OPENSSH PRIVATE KEY-----\n", PEM_BODY, "\n-----END OPENSSH PRIVATE KEY-----"),
    hit("age_secret_key", "", "AGE-SECRET-KEY-1" + fake(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", "age")),
    hit("connection_url_password", "DATABASE_URL=postgresql://app:", "Tr0ub4dor&3", "@db.internal:5432/orders"),
    hit("connection_url_password", "redis://:", "p4ssw0rd", "@cache:6379/0"),
    hit("connection_url_password", "mongodb+srv://admin:", "p@ss", "@cluster0.example.net/db"),
    hit("password", "password=", "hunter2x"),
    hit("password", "passwd: ", "s3cr3t!x"),
    hit("password", '{"user": "bob", "password": "', "s3cr3t-P@ss", '"}'),
    hit("password", "db:\n  host: x\n  password: ", "Sup3rS3cret!", "\n"),
    hit("password", "DB_PASSWORD=", "Sup3rS3cret!", " # prod only"),
    hit("password", "export MYSQL_ROOT_PASSWORD='", "r00t-Pass", "'"),
    hit("password", "Server=db;Database=shop;User Id=sa;Password=", "Sw0rdfish!", ";"),
    hit("password", "mysql -u root --password ", "hunter22x", " shop"),
    hit("password", "CREATE USER app WITH PASSWORD '", "Sw0rdfish!", "';"),
    hit("password", "<password>", "Sw0rdfish!", "</password>"),
    hit("password", '<add key="DbPassword" value="', "Sw0rdfish!", '" />'),
    hit("password", "Your login: bob, password = ", "Summer2024!", "."),
    hit("password", "password = ", "5f4dcc3b5aa765d61d8327deb882cf99"),
    hit("password", "password=", "changeme"),
    hit("password", "admin_pass_hash: ", "$2b$12$" + fake(53, ALNUM + "./", "bcrypt")),
    hit("secret", "client_secret=", fake(24, ALNUM, "cs")),
    hit("token", "https://api.example.com/v1/items?access_token=", fake(24, ALNUM, "at"), "&page=2"),
    hit("token", "Authorization: Bearer ", fake(40, ALNUM, "bearer")),
    hit("api_key", "const config = { apiKey: '", fake(32, ALNUM, "ak"), "' };"),
    hit("api_key", "X-API-Key: ", fake(32, ALNUM, "xak")),
    hit("high_entropy_string", "The Cloudflare key is ", fake(37, ALNUM, "cf"), " (rotate monthly)"),
]


@pytest.fixture(scope="module")
def engine() -> AnalyzerEngine:
    """An AnalyzerEngine holding only Maskwire's recognizers, with no NLP model (NoOpNlpEngine)."""
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "noop"}])
    registry = RecognizerRegistry(recognizers=maskwire_recognizers(), supported_languages=["en"])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


def scan(engine: AnalyzerEngine, text: str) -> list[RecognizerResult]:
    return engine.analyze(text, language="en", entities=[SECRET_ENTITY], score_threshold=0.5)


@pytest.mark.parametrize(("kind", "text", "secret"), HITS, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(HITS)])
def test_secret_hit_kind_and_span(engine: AnalyzerEngine, kind: str, text: str, secret: str) -> None:
    results = scan(engine, text)
    start = text.rindex(secret)
    covering = [r for r in results if r.start <= start and r.end >= start + len(secret)]
    assert covering, f"{kind} not found in {text!r}: {[(text[r.start : r.end], r.score) for r in results]}"
    best = max(covering, key=lambda r: r.score)
    assert (best.start, best.end) == (start, start + len(secret)), text[best.start : best.end]
    assert best.recognition_metadata[SECRET_KIND_KEY] == kind


def test_span_is_value_not_keyword(engine: AnalyzerEngine) -> None:
    text = 'settings: {"api_token": "tok_' + fake(24, ALNUM, "v") + '"}'
    (result,) = scan(engine, text)
    assert text[result.start : result.end] == "tok_" + fake(24, ALNUM, "v")
    assert "api_token" not in text[result.start : result.end]


def test_connection_url_keeps_host_readable(engine: AnalyzerEngine) -> None:
    text = "postgresql+psycopg://reporting:Xk9#mQ2v@warehouse.internal:5432/sales"
    (result,) = scan(engine, text)
    assert text[result.start : result.end] == "Xk9#mQ2v"


def test_pem_block_masks_body_not_armour(engine: AnalyzerEngine) -> None:
    text = "-----BEGIN PRIVATE KEY-----\n" + PEM_BODY + "\n-----END PRIVATE KEY-----"
    (result,) = scan(engine, text)
    assert text[result.start : result.end] == PEM_BODY
    assert result.score >= 0.95


def test_json_escaped_pem_in_service_account_file(engine: AnalyzerEngine) -> None:
    body = PEM_BODY.replace("\n", "\\n")
    text = '{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\\n' + body
    text += '\\n-----END PRIVATE KEY-----\\n", "client_email": "x@p.iam.gserviceaccount.com"}'
    results = scan(engine, text)
    assert any(text[r.start : r.end] == body for r in results)


def test_truncated_pem_block_still_masked(engine: AnalyzerEngine) -> None:
    text = "-----BEGIN EC PRIVATE KEY-----\n" + PEM_BODY
    (result,) = scan(engine, text)
    assert text[result.start : result.end] == PEM_BODY


def test_scores_by_evidence(engine: AnalyzerEngine) -> None:
    prefixed = scan(engine, "ghp_" + fake(36, ALNUM, "score"))
    keyword = scan(engine, "password=hunter2x")
    entropy = scan(engine, "the key is " + fake(30, ALNUM, "score2"))
    assert [r.score for r in prefixed] == [0.95]
    assert [r.score for r in keyword] == [0.8]
    assert [r.score for r in entropy] == [0.7]


NEAR_MISSES: list[str] = [
    "request id 550e8400-e29b-41d4-a716-446655440000 completed",
    "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2a0b822cd15d08f4b33bf4c8",
    "md5 checksum 5d41402abc4b2a76b9719d911017c592 and token refresh is fixed",
    "Merged commit 3f2a9c1e4b5d6a7f8e9d0c1b2a3f4e5d6c7b8a9f (key rotation)",
    "see commit 3f2a9c1 for the token fix",
    '<img alt="key" src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk'
    'YPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==">',
    "The password policy requires 12 characters and one digit.",
    "Please reset your password before Monday.",
    "Forgot your password? Click the link; passwords expire after 90 days.",
    "password: expired on 2024-05-12, contact IT",
    "password=<redacted>",
    "password=${DB_PASSWORD}",
    'password: "{{ vault_db_password }}"',
    "DB_PASSWORD=$DB_PASSWORD",
    "password: ********",
    "api_key=xxxxxxxxxxxxxxxx",
    'token: "<YOUR_TOKEN_HERE>"',
    "password=abc",
    "secret: short",
    "password = os.environ['DB_PASSWORD']",
    "password = get_password(user)",
    "token = settings.API_TOKEN",
    "def login(user: str, password: str) -> Token:",
    "max_tokens: 4096",
    "nextPageToken: CAUQAAxyz",
    "password_min_length: 12",
    "token_type: bearer",
    "2024-05-12T10:11:12Z order ORD-2024-000123 shipped",
    "client 192.168.10.24 connected from 2001:db8::8a2e:370:7334",
    "Order #4111111111111111 for invoice INV-2024-00042",
    "Bearer authentication is configured in the gateway.",
    "Stripe publishable key pk_live_" + fake(24, ALNUM, "pk") + " is embedded in checkout.js",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl user@host public key",
    "https://example.com:8443/path?next=/home",
    "the monkey keyboard 0123456789abcdefABCDEF",
    "call Ed25519PrivateKey.generate() to create a signing key",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_miss_yields_nothing(engine: AnalyzerEngine, text: str) -> None:
    results = scan(engine, text)
    assert results == [], [(text[r.start : r.end], r.recognition_metadata[SECRET_KIND_KEY]) for r in results]


def test_recognizers_work_without_nlp_artifacts() -> None:
    for recognizer in secret_recognizers():
        assert recognizer.analyze("password=hunter2x", [SECRET_ENTITY], nlp_artifacts=None) is not None


def test_other_entities_are_ignored() -> None:
    for recognizer in secret_recognizers():
        assert recognizer.analyze("password=hunter2x ghp_" + fake(36), ["PERSON"]) == []


def test_every_recognizer_is_named_and_secret_kind_is_set() -> None:
    recognizers: list[EntityRecognizer] = secret_recognizers()
    names = [r.name for r in recognizers]
    assert len(names) == len(set(names))
    assert all(name.startswith("SecretRecognizer:") for name in names)
    assert all(r.supported_entities == [SECRET_ENTITY] for r in recognizers)
    result = recognizers[0].analyze("AKIAIOSFODNN7EXAMPLE", [SECRET_ENTITY])[0]
    assert result.recognition_metadata[RecognizerResult.RECOGNIZER_NAME_KEY] == "SecretRecognizer:aws_access_key_id"
    assert result.recognition_metadata[SECRET_KIND_KEY] == "aws_access_key_id"


# --- helpers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("password", "password"),
        ("DB_PASSWORD", "password"),
        ("dbPassword", "password"),
        ("db.pass", "password"),
        ("admin_password_hash", "password"),
        ("client_secret", "secret"),
        ("SECRET_KEY", "secret"),
        ("GITHUB_TOKEN", "token"),
        ("refreshToken", "token"),
        ("x-api-key", "api_key"),
        ("AccountKey", "api_key"),
        ("signing_key", "api_key"),
        ("private_key", "private_key"),
        ("aws_credentials", "credential"),
        ("password_policy", None),
        ("token_count", None),
        ("nextPageToken", None),
        ("max_tokens", None),
        ("primary_key", None),
        ("bypass", None),
        ("keyboard", None),
    ],
)
def test_secret_kind_for_key(key: str, kind: str | None) -> None:
    assert secret_kind_for_key(key) == kind


@pytest.mark.parametrize(
    "value",
    [
        "<redacted>",
        "${DB_PASSWORD}",
        "$DB_PASSWORD",
        "{{ vault_pw }}",
        "%(password)s",
        "[REDACTED]",
        "********",
        "xxxxxxxx",
        "XXXX-XXXX-XXXX",
        "your_api_key_here",
        "null",
        "REDACTED",
    ],
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["changeme", "hunter2x", "Sw0rdfish!", "$ecret123", "my_s3cret"])
def test_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_jwt_header_must_decode_to_json_with_alg() -> None:
    assert jwt_valid(JWT)
    no_alg = ".".join([b64url_json({"typ": "JWT"}), b64url_json({"sub": "1"}), "sig"])
    assert not jwt_valid(no_alg)
    assert not jwt_valid("eyJub3QganNvbg.eyJzdWIiOiIxIn0.c2ln")
    unsigned = ".".join([b64url_json({"alg": "none"}), b64url_json({"sub": "1"}), ""])
    assert jwt_valid(unsigned)


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        (fake(24, ALNUM, "e1"), True),
        (fake(40, B64, "e2"), True),
        (fake(20, HEX, "e3"), True),
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2a0b822cd15d08f4b33bf4c8", False),  # sha256
        ("550e8400-e29b-41d4-a716-446655440000", False),
        ("Ed25519PrivateKey", False),
        ("base64url_decode", False),
        ("MY_API_KEY_2024_PROD", False),
        ("aaaaaaaaaaaaaaaa1", False),
        ("authentication_middleware", False),
    ],
)
def test_high_entropy_secret(value: str, secret: bool) -> None:
    assert is_high_entropy_secret(value) is secret


@pytest.mark.parametrize(
    "text",
    [
        "ey" * 50_000,  # JWT-prefix run with no dot
        "-----BEGIN PRIVATE KEY-----" * 4_000,  # BEGIN markers without END, no newline
        '{"password":"x1234567",' * 4_000,  # one very long line of assignments
        "key " + fake(100_000, B64, "long"),
    ],
)
def test_pathological_input_stays_fast(text: str) -> None:
    started = time.perf_counter()
    for recognizer in maskwire_recognizers():
        recognizer.analyze(text, None)
    assert time.perf_counter() - started < 5.0
