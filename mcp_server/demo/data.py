"""Deterministic generator of the demo workspace: a small SQLite CRM plus a folder of documents.

Everything is fictional but shaped like real data (names with accents and apostrophes, US phone numbers
in the 555-01xx range, Luhn-valid card numbers, plausible SSNs, pasted credentials), so that the demo
shows masking at work. Every value that must be masked is recorded at the moment it is written, in
`SeededValues`, so tests can assert that none of them ever reaches a client.

Same seed, same output: all randomness comes from one `random.Random(seed)`, dates come from fixed
bases, and nothing depends on the clock, the locale, or set/dict iteration order.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import random
import shutil
import sqlite3
import string
import unicodedata
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path

DATABASE_NAME = "crm.sqlite"
DOCUMENTS_NAME = "documents"
COMPANY = "Trailhead Outfitters"

MIN_CUSTOMERS = 10
MAX_CUSTOMERS = 500  # bounded by the pool of distinct fictional phone numbers
ORDERS_PER_CUSTOMER = 5
TICKETS = 40
EMPLOYEES = 10

FIRST_NAMES: tuple[str, ...] = (
    "Maria", "James", "José", "Zoë", "Aisha", "Wei", "Priya", "Liam", "Sofia", "Mateo",
    "Chloé", "Noah", "Fatima", "Hiroshi", "Olga", "Kwame", "Ingrid", "Rahul", "Amélie", "Diego",
    "Siobhán", "Lars", "Yuki", "Omar", "Elena", "Tomasz", "Nia", "Björn", "Leila", "Carlos",
    "Hannah", "Jamal", "Mei", "Santiago", "Renée", "Arjun", "Freya", "Ibrahim", "Lucía", "Daniel",
    "Emma", "Kofi", "Anya", "Gabriel", "Nadia", "Ethan", "Thandiwe", "Luca", "Soo-jin", "Marcus",
    "Isabel", "Dmitri", "Grace", "Tariq", "Camille", "Oliver", "Ngozi", "Rafael", "Astrid", "Samuel",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Gonzalez", "O'Brien", "Smith-Jones", "Nguyen", "Müller", "Okafor", "Kowalski", "Tanaka", "Patel",
    "García", "Haddad", "Johansson", "Rossi", "Kim", "Novak", "Mensah", "Fernández", "Chen", "Dubois",
    "Ivanova", "Schneider", "Martínez", "Yilmaz", "Andersen", "Sato", "Khan", "Walsh", "Costa",
    "Lindqvist", "Mahlangu", "Nakamura", "Petrov", "Silva", "Brennan", "Achebe", "Larsen", "Moreau",
    "Singh", "Castillo", "Horvath", "Abubakar", "Fitzgerald", "Wójcik", "Herrera", "Eriksson",
    "Rahman", "Thompson", "Park", "MacLeod", "Núñez", "Bauer", "Osei", "Lee-Watson", "D'Angelo",
    "Cohen", "Ferreira", "Varga", "Delgado", "Kaur", "Whitfield",
)  # fmt: skip

STREETS: tuple[str, ...] = (
    "Oak", "Maple", "Cedar", "Pine", "Elm", "Willow", "Birch", "Lakeview", "Hillcrest", "Sunset",
    "Park", "Washington", "Lincoln", "Madison", "Franklin", "Highland", "Riverside", "Chestnut",
)  # fmt: skip
STREET_SUFFIXES: tuple[str, ...] = ("Street", "Avenue", "Lane", "Road", "Drive", "Court", "Boulevard")

# (city, state, first three digits of its ZIP codes)
CITIES: tuple[tuple[str, str, str], ...] = (
    ("Austin", "TX", "787"), ("Portland", "OR", "972"), ("Denver", "CO", "802"),
    ("Seattle", "WA", "981"), ("Boston", "MA", "021"), ("Chicago", "IL", "606"),
    ("Atlanta", "GA", "303"), ("San Diego", "CA", "921"), ("Minneapolis", "MN", "554"),
    ("Raleigh", "NC", "276"), ("Phoenix", "AZ", "850"), ("Nashville", "TN", "372"),
    ("Salt Lake City", "UT", "841"), ("Madison", "WI", "537"), ("Burlington", "VT", "054"),
)  # fmt: skip

AREA_CODES: tuple[str, ...] = ("415", "212", "312", "617", "206", "303", "512", "646")
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "mail.example.net")
STAFF_DOMAIN = "trailhead.example.com"
JOB_TITLES: tuple[str, ...] = (
    "Support Lead", "Customer Support Agent", "Customer Support Agent", "Site Reliability Engineer",
    "Data Engineer", "Head of Sales", "Account Manager", "People Operations", "Payroll Specialist",
    "Warehouse Manager",
)  # fmt: skip

# (sku, name, category, price)
PRODUCTS: tuple[tuple[str, str, str, float], ...] = (
    ("TR-1001", "Trail Running Shoe", "Footwear", 129.0),
    ("TR-1002", "Waterproof Hiking Boot", "Footwear", 189.0),
    ("TR-1003", "Approach Shoe", "Footwear", 149.0),
    ("TR-1004", "Recovery Sandal", "Footwear", 59.0),
    ("AP-2001", "Merino Base Layer", "Apparel", 89.0),
    ("AP-2002", "Insulated Down Jacket", "Apparel", 249.0),
    ("AP-2003", "Rain Shell", "Apparel", 179.0),
    ("AP-2004", "Softshell Trousers", "Apparel", 119.0),
    ("AP-2005", "Wool Hiking Socks", "Apparel", 19.5),
    ("AP-2006", "Sun Hoodie", "Apparel", 64.0),
    ("PK-3001", "Daypack 22L", "Packs", 99.0),
    ("PK-3002", "Backpacking Pack 60L", "Packs", 279.0),
    ("PK-3003", "Hydration Vest", "Packs", 134.0),
    ("PK-3004", "Hip Pack", "Packs", 39.0),
    ("CP-4001", "Two-Person Tent", "Camping", 399.0),
    ("CP-4002", "Ultralight Sleeping Bag", "Camping", 329.0),
    ("CP-4003", "Inflatable Sleeping Pad", "Camping", 149.0),
    ("CP-4004", "Canister Stove", "Camping", 54.95),
    ("CP-4005", "Titanium Cook Pot", "Camping", 44.0),
    ("CP-4006", "Water Filter", "Camping", 39.95),
    ("AC-5001", "Trekking Poles", "Accessories", 119.0),
    ("AC-5002", "Rechargeable Headlamp", "Accessories", 49.95),
    ("AC-5003", "GPS Watch", "Accessories", 349.0),
    ("AC-5004", "Insulated Bottle 1L", "Accessories", 34.0),
    ("AC-5005", "First Aid Kit", "Accessories", 29.0),
)

LOYALTY_TIERS: tuple[str, ...] = ("bronze", "silver", "gold")
ORDER_STATUSES: tuple[str, ...] = ("delivered", "shipped", "processing", "cancelled", "returned")
ORDER_STATUS_WEIGHTS: tuple[int, ...] = (70, 10, 8, 6, 6)
TICKET_STATUSES: tuple[str, ...] = ("open", "pending", "resolved", "closed")

# Business dates live in 2024-2026 and birth dates in 1950-2002, so they can never coincide.
BUSINESS_START = date(2024, 1, 1)
SIGNUP_END = date(2025, 12, 31)
BUSINESS_END = date(2026, 3, 31)
BIRTH_START = date(1950, 1, 1)
BIRTH_END = date(2002, 12, 31)

MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
B64URL = ALNUM + "-_"
POSTGRES_URL_PASSWORD = "S3cretPass!"
POSTGRES_URL = f"postgresql://app:{POSTGRES_URL_PASSWORD}@db.internal:5432/crm"

PHONE_STYLES: tuple[str, ...] = ("paren", "dash", "intl", "dot")
CARD_STYLES: tuple[str, ...] = ("plain", "spaced", "dashed")


@dataclass(frozen=True)
class SeededValues:
    """Raw personal values and secrets planted in the workspace.

    Tests assert none of them ever reaches a client. Names are full names as written ("Maria
    Gonzalez", and "MARIA GONZALEZ" where a letter prints it so); phones and card numbers appear in
    every format actually used.
    """

    names: tuple[str, ...]
    emails: tuple[str, ...]
    phones: tuple[str, ...]
    ssns: tuple[str, ...]
    card_numbers: tuple[str, ...]
    street_addresses: tuple[str, ...]
    birth_dates: tuple[str, ...]
    secrets: tuple[str, ...]

    def all_values(self) -> tuple[str, ...]:
        """Every planted value, sorted and deduplicated."""
        return tuple(
            sorted(
                {
                    *self.names,
                    *self.emails,
                    *self.phones,
                    *self.ssns,
                    *self.card_numbers,
                    *self.street_addresses,
                    *self.birth_dates,
                    *self.secrets,
                }
            )
        )

    def must_not_leak(self) -> tuple[str, ...]:
        """Every value above that is distinctive enough to search for in output (len >= 6), sorted."""
        return tuple(value for value in self.all_values() if len(value) >= 6)


@dataclass(frozen=True)
class DemoWorkspace:
    root: Path
    database: Path
    documents: Path
    seeded: SeededValues


# --------------------------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    area_code: str
    line: str  # the last four digits, always 01xx
    ssn: str
    street_address: str
    city: str
    state: str
    postal_code: str
    birth_date: str
    card_number: str  # 16 digits, no separators

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def phone(self, style: str) -> str:
        area, line = self.area_code, self.line
        formats = {
            "paren": f"({area}) 555-{line}",
            "dash": f"{area}-555-{line}",
            "intl": f"+1 {area} 555 {line}",
            "dot": f"{area}.555.{line}",
        }
        return formats[style]

    def card(self, style: str) -> str:
        groups = [self.card_number[i : i + 4] for i in range(0, 16, 4)]
        separator = {"plain": "", "spaced": " ", "dashed": "-"}[style]
        return separator.join(groups)


@dataclass
class _Planted:
    """Collects every sensitive string at the moment it is written, so SeededValues is exact."""

    names: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    ssns: set[str] = field(default_factory=set)
    card_numbers: set[str] = field(default_factory=set)
    street_addresses: set[str] = field(default_factory=set)
    birth_dates: set[str] = field(default_factory=set)
    secrets: set[str] = field(default_factory=set)

    def name(self, person: Person, *, upper: bool = False) -> str:
        value = person.full_name.upper() if upper else person.full_name
        self.names.add(value)
        return value

    def email(self, person: Person) -> str:
        self.emails.add(person.email)
        return person.email

    def phone(self, person: Person, style: str) -> str:
        value = person.phone(style)
        self.phones.add(value)
        return value

    def ssn(self, person: Person) -> str:
        self.ssns.add(person.ssn)
        return person.ssn

    def card(self, person: Person, style: str = "plain") -> str:
        value = person.card(style)
        self.card_numbers.add(value)
        return value

    def street(self, person: Person) -> str:
        self.street_addresses.add(person.street_address)
        return person.street_address

    def birth_date(self, person: Person) -> str:
        self.birth_dates.add(person.birth_date)
        return person.birth_date

    def secret(self, value: str) -> str:
        self.secrets.add(value)
        return value

    def freeze(self) -> SeededValues:
        return SeededValues(
            names=tuple(sorted(self.names)),
            emails=tuple(sorted(self.emails)),
            phones=tuple(sorted(self.phones)),
            ssns=tuple(sorted(self.ssns)),
            card_numbers=tuple(sorted(self.card_numbers)),
            street_addresses=tuple(sorted(self.street_addresses)),
            birth_dates=tuple(sorted(self.birth_dates)),
            secrets=tuple(sorted(self.secrets)),
        )


def _ascii_slug(text: str) -> str:
    """'Núñez' -> 'nunez', "O'Brien" -> 'obrien', 'Smith-Jones' -> 'smith-jones' (for emails, file names)."""
    text = text.replace("ø", "o").replace("ß", "ss").replace("ł", "l")
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in ascii_only.lower() if c.isascii() and (c.isalnum() or c == "-"))


def _luhn_check_digit(payload: str) -> str:
    """The digit that makes payload + digit pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:  # these positions are doubled once the check digit is appended
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def _card_number(rng: random.Random) -> str:
    prefix = rng.choice(("4", "51", "52", "53", "54", "55"))
    payload = prefix + "".join(rng.choice(string.digits) for _ in range(15 - len(prefix)))
    return payload + _luhn_check_digit(payload)


def _ssn(rng: random.Random) -> str:
    """A plausible SSN that Presidio's UsSsnRecognizer accepts.

    Area 100-665, group 01-99, serial 0001-9999; never all one digit nor the published sample SSN.
    """
    while True:
        value = f"{rng.randint(100, 665):03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        digits = value.replace("-", "")
        if len(set(digits)) > 1 and digits != "123456789":
            return value


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _email(rng: random.Random, first: str, last: str, domain: str | None) -> str:
    f, last_slug = _ascii_slug(first), _ascii_slug(last)
    if domain is not None:  # staff addresses follow one convention
        return f"{f}.{last_slug}@{domain}"
    local = rng.choice((f"{f}.{last_slug}", f"{f[0]}{last_slug}", f"{f}_{last_slug}{rng.randint(10, 99)}"))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def _people(rng: random.Random, count: int, used: dict[str, set[str]], *, domain: str | None = None) -> list[Person]:
    """`count` people whose names, emails, phones, SSNs, addresses and cards are unique across `used`."""

    def fresh(kind: str, make: Callable[[], str]) -> str:
        while (value := make()) in used[kind]:
            pass
        used[kind].add(value)
        return value

    people = []
    for _ in range(count):
        full = fresh("name", lambda: f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}")
        first, last = full.split(" ", 1)
        email = fresh("email", partial(_email, rng, first, last, domain))
        phone = fresh("phone", lambda: f"{rng.choice(AREA_CODES)}:01{rng.randint(0, 99):02d}")
        street = fresh(
            "street",
            lambda: f"{rng.randint(100, 9899)} {rng.choice(STREETS)} {rng.choice(STREET_SUFFIXES)}",
        )
        city, state, zip_prefix = rng.choice(CITIES)
        area_code, line = phone.split(":")
        people.append(
            Person(
                first_name=first,
                last_name=last,
                email=email,
                area_code=area_code,
                line=line,
                ssn=fresh("ssn", lambda: _ssn(rng)),
                street_address=street,
                city=city,
                state=state,
                postal_code=f"{zip_prefix}{rng.randint(1, 99):02d}",
                birth_date=_random_date(rng, BIRTH_START, BIRTH_END).isoformat(),
                card_number=fresh("card", lambda: _card_number(rng)),
            )
        )
    return people


# --------------------------------------------------------------------------------------------- secrets


def _token(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _password(rng: random.Random) -> str:
    return rng.choice(string.ascii_uppercase) + _token(rng, ALNUM + "!#%&*", 13)


def _jwt(rng: random.Random) -> str:
    def encode(payload: dict[str, object]) -> str:
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = encode({"alg": "HS256", "typ": "JWT"})
    claims = encode({"sub": "svc-crm-export", "role": "admin", "iat": 1730419200})
    return f"{header}.{claims}.{_token(rng, B64URL, 43)}"


# --------------------------------------------------------------------------------------------- database


@dataclass(frozen=True)
class Customer:
    id: int
    person: Person
    phone_style: str
    loyalty_tier: str
    created_at: datetime


@dataclass(frozen=True)
class Order:
    id: int
    customer_id: int
    product_id: int
    quantity: int
    amount: float
    status: str
    ordered_at: date


@dataclass(frozen=True)
class Ticket:
    id: int
    customer_id: int
    subject: str
    body: str
    status: str
    opened_at: datetime


SCHEMA = """
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT NOT NULL,
    ssn TEXT NOT NULL,
    street_address TEXT NOT NULL,
    city TEXT NOT NULL,
    state TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    card_number TEXT NOT NULL,
    loyalty_tier TEXT NOT NULL CHECK (loyalty_tier IN ('bronze', 'silver', 'gold')),
    created_at TEXT NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price REAL NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    amount REAL NOT NULL,
    status TEXT NOT NULL,
    ordered_at TEXT NOT NULL
);
CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_at TEXT NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id);
CREATE INDEX support_tickets_customer ON support_tickets(customer_id);
"""


def _customers(rng: random.Random, people: Sequence[Person]) -> list[Customer]:
    customers = []
    for index, person in enumerate(people, start=1):
        signup = _random_date(rng, BUSINESS_START, SIGNUP_END)
        moment = time(rng.randint(7, 22), rng.randint(0, 59), rng.randint(0, 59))
        customers.append(
            Customer(
                id=index,
                person=person,
                phone_style=rng.choice(PHONE_STYLES[:3]),
                loyalty_tier=rng.choices(LOYALTY_TIERS, weights=(55, 30, 15))[0],
                created_at=datetime.combine(signup, moment),
            )
        )
    return customers


def _orders(rng: random.Random, customers: Sequence[Customer]) -> list[Order]:
    """ORDERS_PER_CUSTOMER orders on average, at least one each, numbered 10001.. in date order."""
    owners = [c.id for c in customers]
    owners += [rng.choice(owners) for _ in range(len(customers) * (ORDERS_PER_CUSTOMER - 1))]
    drafts = []
    for owner in owners:
        signup = customers[owner - 1].created_at.date()
        product_id = rng.randint(1, len(PRODUCTS))
        quantity = rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
        status = rng.choices(ORDER_STATUSES, weights=ORDER_STATUS_WEIGHTS)[0]
        drafts.append((_random_date(rng, signup, BUSINESS_END), owner, product_id, quantity, status))
    drafts.sort()
    return [
        Order(
            id=10001 + index,
            customer_id=owner,
            product_id=product_id,
            quantity=quantity,
            amount=round(PRODUCTS[product_id - 1][3] * quantity, 2),
            status=status,
            ordered_at=ordered_at,
        )
        for index, (ordered_at, owner, product_id, quantity, status) in enumerate(drafts)
    ]


def _write_database(
    path: Path, customers: Sequence[Customer], orders: Sequence[Order], tickets: Sequence[Ticket]
) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA foreign_keys = ON")
        db.executescript(SCHEMA)
        db.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    c.id,
                    c.person.first_name,
                    c.person.last_name,
                    c.person.email,
                    c.person.phone(c.phone_style),
                    c.person.ssn,
                    c.person.street_address,
                    c.person.city,
                    c.person.state,
                    c.person.postal_code,
                    c.person.birth_date,
                    c.person.card_number,
                    c.loyalty_tier,
                    c.created_at.isoformat(),
                )
                for c in customers
            ],
        )
        db.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?, ?)",
            [(index, *product) for index, product in enumerate(PRODUCTS, start=1)],
        )
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (o.id, o.customer_id, o.product_id, o.quantity, o.amount, o.status, o.ordered_at.isoformat())
                for o in orders
            ],
        )
        db.executemany(
            "INSERT INTO support_tickets VALUES (?, ?, ?, ?, ?, ?)",
            [(t.id, t.customer_id, t.subject, t.body, t.status, t.opened_at.isoformat()) for t in tickets],
        )
        db.commit()


# --------------------------------------------------------------------------------------------- tickets


def _human_date(day: date) -> str:
    """'March 4, 2025' without strftime, whose month names depend on the locale."""
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


@dataclass(frozen=True)
class _TicketContext:
    rng: random.Random
    planted: _Planted
    person: Person
    order: Order
    tier: str

    @property
    def product(self) -> str:
        return PRODUCTS[self.order.product_id - 1][1]

    def name(self) -> str:
        return self.planted.name(self.person)

    def email(self) -> str:
        return self.planted.email(self.person)

    def phone(self) -> str:
        return self.planted.phone(self.person, self.rng.choice(PHONE_STYLES))

    def card(self) -> str:
        return self.planted.card(self.person, self.rng.choice(CARD_STYLES))


def _t_damaged(c: _TicketContext) -> tuple[str, str]:
    return (
        f"Order {c.order.id} arrived damaged",
        f"Hi, this is {c.name()}. My order #{c.order.id} placed on {_human_date(c.order.ordered_at)} "
        f"arrived with the box crushed and the {c.product} inside is broken.\n"
        f"Please call me back at {c.phone()} or email {c.email()}.\nThanks",
    )


def _t_double_charge(c: _TicketContext) -> tuple[str, str]:
    return (
        f"Charged twice for order {c.order.id}",
        f"Hello support,\n\nI was billed twice for order {c.order.id} on my card {c.card()}. "
        f"Can you refund the duplicate charge? You can reach me on {c.phone()}.\n\n-- {c.name()}",
    )


def _t_address_change(c: _TicketContext) -> tuple[str, str]:
    p = c.person
    return (
        "Please update my shipping address",
        f"Hi team, {c.name()} here ({c.email()}). I moved last week, please send order {c.order.id} "
        f"to my new address instead:\n{c.planted.street(p)}\n{p.city}, {p.state} {p.postal_code}\n"
        f"Phone: {c.phone()}",
    )


def _t_locked_out(c: _TicketContext) -> tuple[str, str]:
    return (
        "Can't log in to my account",
        f"I'm locked out after too many password attempts. Email on file is {c.email()}, "
        f"phone {c.phone()}. For verification my date of birth is {c.planted.birth_date(c.person)}. "
        f"I need to check the status of order {c.order.id}.\n{c.name()}",
    )


def _t_callback(c: _TicketContext) -> tuple[str, str]:
    name = c.name()
    return (
        f"Callback request for {name}",
        f"Customer {name} called about order {c.order.id} ({c.product}) on "
        f"{_human_date(c.order.ordered_at + timedelta(days=3))}. Wants a callback on {c.phone()} "
        f"before 5pm. Agent note: verified last four of card {c.person.card_number[-4:]}.",
    )


def _t_return(c: _TicketContext) -> tuple[str, str]:
    return (
        f"Return for order {c.order.id}",
        f"Dear {COMPANY} team,\n\nI would like to return the {c.product} from order {c.order.id}, "
        f"delivered {_human_date(c.order.ordered_at + timedelta(days=4))}. It does not fit. "
        f"Please refund the original card ending {c.person.card_number[-4:]}.\n\n"
        f"Kind regards,\n{c.name()}\n{c.email()}",
    )


def _t_new_card(c: _TicketContext) -> tuple[str, str]:
    return (
        "Update payment card",
        f"Please replace the card on my account with {c.card()} (exp 08/27), the old one was "
        f"compromised. Order {c.order.id} should go through on the new card.\n{c.name()}, {c.phone()}",
    )


def _t_financing(c: _TicketContext) -> tuple[str, str]:
    return (
        f"Financing application for order {c.order.id}",
        f"Applying for the 12-month financing plan for order {c.order.id} ({c.product}).\n"
        f"SSN: {c.planted.ssn(c.person)}\nDOB: {c.planted.birth_date(c.person)}\n"
        f"Contact: {c.email()} / {c.phone()}\n- {c.name()}",
    )


def _t_late(c: _TicketContext) -> tuple[str, str]:
    due = c.order.ordered_at + timedelta(days=7)
    return (
        f"Where is my order {c.order.id}?",
        f"hey, order {c.order.id} was supposed to arrive {_human_date(due)} and nothing yet. "
        f"tracking hasnt updated in a week. {c.name()} / {c.phone()}",
    )


def _t_loyalty(c: _TicketContext) -> tuple[str, str]:
    return (
        "Loyalty points missing",
        f"Hi, I'm a {c.tier} member ({c.email()}) and the points for order {c.order.id} never "
        f"showed up. My phone number on file is {c.phone()}.\nThanks, {c.name()}",
    )


TICKET_TEMPLATES: tuple[Callable[[_TicketContext], tuple[str, str]], ...] = (
    _t_damaged, _t_double_charge, _t_address_change, _t_locked_out, _t_callback,
    _t_return, _t_new_card, _t_financing, _t_late, _t_loyalty,
)  # fmt: skip


def _credential_snippets(rng: random.Random, planted: _Planted) -> list[Callable[[Person], str]]:
    """Six ways customers paste credentials into tickets; each secret is drawn once, when used."""

    def stripe_webhook(_: Person) -> str:
        key = planted.secret("sk_live_" + _token(rng, ALNUM, 24))
        return f"P.S. our developer said to include this so you can check the webhook:\nSTRIPE_SECRET_KEY={key}"

    def github_token(_: Person) -> str:
        token = planted.secret("ghp_" + _token(rng, ALNUM, 36))
        return f"Here is the token our integration uses, maybe it expired?\n{token}"

    def aws_key_id(_: Person) -> str:
        key_id = planted.secret("AKIA" + _token(rng, UPPER_ALNUM, 16))
        return f"The nightly export log says access key {key_id} was rejected."

    def login(person: Person) -> str:
        password = planted.secret(_password(rng))
        return f"Login details in case you need to look:\nusername={planted.email(person)}\npassword={password}"

    def database_url(_: Person) -> str:
        planted.secret(POSTGRES_URL_PASSWORD)
        return f"Our connector points at {POSTGRES_URL} and times out."

    def order_feed(_: Person) -> str:
        key = planted.secret("sk_live_" + _token(rng, ALNUM, 24))
        return f"API key we use for the order feed: {key}"

    return [stripe_webhook, github_token, aws_key_id, login, database_url, order_feed]


def _tickets(
    rng: random.Random, planted: _Planted, customers: Sequence[Customer], orders: Sequence[Order]
) -> list[Ticket]:
    orders_by_customer: dict[int, list[Order]] = {}
    for order in orders:
        orders_by_customer.setdefault(order.customer_id, []).append(order)
    snippets = _credential_snippets(rng, planted)
    with_credential = sorted(rng.sample(range(TICKETS), len(snippets)))
    tickets = []
    for index in range(TICKETS):
        customer = rng.choice(customers)
        order = rng.choice(orders_by_customer[customer.id])
        context = _TicketContext(rng, planted, customer.person, order, customer.loyalty_tier)
        subject, body = TICKET_TEMPLATES[index % len(TICKET_TEMPLATES)](context)
        if index in with_credential:
            body += "\n\n" + snippets[with_credential.index(index)](customer.person)
        opened = datetime.combine(
            order.ordered_at + timedelta(days=rng.randint(1, 20)),
            time(rng.randint(8, 20), rng.randint(0, 59), rng.randint(0, 59)),
        )
        status = rng.choice(TICKET_STATUSES)
        tickets.append(Ticket(index + 1, customer.id, subject, body, status, opened))
    return tickets


# --------------------------------------------------------------------------------------------- documents


def _welcome_letter(planted: _Planted, customer: Customer, signer: Person) -> str:
    p = customer.person
    return (
        f"# Welcome to {COMPANY}\n\n"
        f"{planted.name(p, upper=True)}  \n{planted.street(p)}  \n{p.city}, {p.state} {p.postal_code}\n\n"
        f"Dear {p.first_name},\n\n"
        f"Thank you for joining {COMPANY}. Your membership number is C-{customer.id:05d} and you start "
        f"at the **{customer.loyalty_tier}** loyalty tier. Every purchase earns points towards free "
        f"shipping and early access to new gear.\n\n"
        f"We will send order updates to {planted.email(p)} and text delivery notices to "
        f"{planted.phone(p, customer.phone_style)}. You can change these at any time in your account.\n\n"
        f"See you on the trail,\n\n{planted.name(signer)}  \nCustomer Support, {COMPANY}\n"
    )


def _escalation_notes(
    rng: random.Random, planted: _Planted, affected: Sequence[tuple[Customer, Order]], staff: Sequence[Person]
) -> str:
    lead, agent, sre = staff[0], staff[1], staff[3]
    rows = "\n".join(
        f"| {planted.name(c.person)} | {planted.email(c.person)} | {planted.phone(c.person, c.phone_style)} | {o.id} |"
        for c, o in affected
    )
    key = planted.secret("sk_live_" + _token(rng, ALNUM, 24))
    first = affected[0][0].person
    return (
        "# Escalation notes: payments webhook incident\n\n"
        f"_Owner: {planted.name(lead)} (Support Lead). Last updated 2025-11-14._\n\n"
        "## Summary\n\n"
        "On 2025-11-12 between 09:40 and 11:15 UTC, card payments failed for part of the checkout "
        "sessions because the payments webhook rejected its signing key. Three customers escalated.\n\n"
        "## Affected customers\n\n"
        "| Customer | Email | Phone | Order |\n|---|---|---|---|\n"
        f"{rows}\n\n"
        "## Timeline\n\n"
        f"- 09:40 {planted.name(agent)} notices a spike of declined payments in the support queue.\n"
        f"- 10:05 {planted.name(sre)} pasted the live key into the incident channel to test the webhook "
        "by hand:\n\n"
        f"      curl https://api.payments.example/v1/charges -u {key}:\n\n"
        "  The key must be rotated (rotation ticket OPS-2291).\n"
        "- 11:15 Webhook secret redeployed, payments recover.\n\n"
        "## Follow-up\n\n"
        f"- Call {planted.name(first)} back on {planted.phone(first, 'intl')}: they were charged "
        f"but the order shows as failed. Card on file {planted.card(first, 'spaced')}.\n"
        f"- Send an apology voucher to {planted.email(affected[1][0].person)}.\n"
    )


def _refund_requests(planted: _Planted, refunds: Sequence[tuple[Customer, Order]], approver: Person) -> str:
    lines = [
        f"{COMPANY} refund requests log",
        "",
        "date        order  customer                      card                 amount",
    ]
    approver_name = planted.name(approver)
    for customer, order in sorted(refunds, key=lambda pair: pair[1].id):
        day = (order.ordered_at + timedelta(days=9)).isoformat()
        name = planted.name(customer.person)
        card = planted.card(customer.person, "dashed")
        lines.append(f"{day}  {order.id}  {name:<28}  {card}  ${order.amount:>8.2f}")
    lines += ["", f"All approved by {approver_name}. Refunds go back to the card on file.", ""]
    return "\n".join(lines)


def _employee_directory(planted: _Planted, staff: Sequence[Person]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("name", "email", "phone", "title"))
    for person, title in zip(staff, JOB_TITLES, strict=True):
        writer.writerow((planted.name(person), planted.email(person), planted.phone(person, "dash"), title))
    return buffer.getvalue()


def _payroll_setup(planted: _Planted, hires: Sequence[Person], specialist: Person) -> str:
    blocks = [
        f"PAYROLL SETUP: new hires, prepared by {planted.name(specialist)}",
        "Confidential. Delete after the records are entered in the payroll system.",
        "",
    ]
    for person in hires:
        blocks += [
            f"Employee:      {planted.name(person)}",
            f"SSN:           {planted.ssn(person)}",
            f"Date of birth: {planted.birth_date(person)}",
            f"Home address:  {planted.street(person)}, {person.city}, {person.state} {person.postal_code}",
            f"Mobile:        {planted.phone(person, 'paren')}",
            "",
        ]
    return "\n".join(blocks)


def _runbook(rng: random.Random, planted: _Planted, oncall: Person, backup: Person) -> str:
    db_password = planted.secret(_password(rng))
    key_id = planted.secret("AKIA" + _token(rng, UPPER_ALNUM, 16))
    secret_key = planted.secret(_token(rng, ALNUM + "/+", 40))
    jwt = planted.secret(_jwt(rng))
    return (
        "# CRM export service: runbook\n\n"
        f"On call: {planted.name(oncall)} ({planted.phone(oncall, 'dash')}), "
        f"backup {planted.name(backup)}.\n\n"
        "## Restarting the exporter\n\n"
        "1. Check the queue depth on the dashboard; above 5,000 jobs, pause the scheduler first.\n"
        "2. `systemctl restart crm-export`\n"
        "3. Watch the logs for `export finished` within ten minutes.\n\n"
        "## Local configuration\n\n"
        "Copy the production settings into `.env` (do **not** commit this file):\n\n"
        "```env\n"
        f"DATABASE_URL=postgresql://crm_app:{db_password}@crm-prod.internal:5432/crm\n"
        f"DB_PASSWORD={db_password}\n"
        f"AWS_ACCESS_KEY_ID={key_id}\n"
        f"AWS_SECRET_ACCESS_KEY={secret_key}\n"
        "AWS_REGION=us-east-1\n"
        "```\n\n"
        "## Calling the internal API\n\n"
        "```sh\n"
        f'curl -H "Authorization: Bearer {jwt}" https://crm-api.internal/v1/health\n'
        "```\n"
    )


PRIVACY_POLICY = f"""# {COMPANY} privacy policy

_Effective 2025-01-01._

## What we collect

We collect the information you give us when you create an account or place an order: your name,
contact details, shipping address and payment details. We also record the orders you place and the
messages you send to our support team.

## How we use it

We use your information to deliver orders, provide support, run the loyalty programme and meet our
legal obligations. We never sell personal information.

## How long we keep it

Order records are kept for seven years for tax purposes. Support conversations are deleted two years
after they are closed. Payment card numbers are held by our payment processor, not by us.

## Your rights

You can ask for a copy of your data, ask us to correct it, or ask us to delete it, through the privacy
form in your account settings. We answer every request within 30 days.
"""


def _q3_report(orders: Sequence[Order]) -> str:
    """Control document: product names, amounts and dates only."""
    start, end = date(2025, 7, 1), date(2025, 9, 30)
    sold = [o for o in orders if start <= o.ordered_at <= end and o.status != "cancelled"]
    lines = [
        f"{COMPANY}: Q3 2025 sales report",
        f"Period: {start.isoformat()} to {end.isoformat()}",
        "Prepared: 2025-10-06",
        "",
        "Revenue by product",
        f"{'product':<28}{'units':>6}{'revenue':>12}",
    ]
    for product_id, (_, name, _, _) in enumerate(PRODUCTS, start=1):
        units = sum(o.quantity for o in sold if o.product_id == product_id)
        revenue = sum(o.amount for o in sold if o.product_id == product_id)
        if units:
            lines.append(f"{name:<28}{units:>6}{revenue:>12.2f}")
    lines.append(f"{'Total':<28}{sum(o.quantity for o in sold):>6}{sum(o.amount for o in sold):>12.2f}")
    lines += ["", "Revenue by month"]
    for month in (7, 8, 9):
        revenue = sum(o.amount for o in sold if o.ordered_at.month == month)
        lines.append(f"2025-{month:02d}{revenue:>12.2f}")
    if sold:
        largest = max(sold, key=lambda o: (o.amount, -o.id))
        lines += ["", f"Largest order: {largest.amount:.2f} on {largest.ordered_at.isoformat()}"]
    lines.append("")
    return "\n".join(lines)


def _key_accounts(planted: _Planted, customers: Sequence[Customer], orders: Sequence[Order], manager: Person) -> str:
    spend: dict[int, float] = {}
    for order in orders:
        if order.status != "cancelled":
            spend[order.customer_id] = spend.get(order.customer_id, 0.0) + order.amount
    top = sorted(customers, key=lambda c: (-round(spend.get(c.id, 0.0), 2), c.id))[:5]
    lines = [
        "# Key accounts",
        "",
        f"Account manager: {planted.name(manager)}. Review monthly; call before each seasonal sale.",
        "",
        "| Customer | Tier | Email | Phone | Lifetime spend |",
        "|---|---|---|---|---|",
    ]
    for c in top:
        lines.append(
            f"| {planted.name(c.person)} | {c.loyalty_tier} | {planted.email(c.person)} | "
            f"{planted.phone(c.person, c.phone_style)} | ${spend.get(c.id, 0.0):,.2f} |"
        )
    lines.append("")
    return "\n".join(lines)


def _customer_export(planted: _Planted, customers: Sequence[Customer]) -> str:
    records = [
        {
            "id": c.id,
            "name": planted.name(c.person),
            "email": planted.email(c.person),
            "phone": planted.phone(c.person, c.phone_style),
            "address": {
                "street": planted.street(c.person),
                "city": c.person.city,
                "state": c.person.state,
                "postal_code": c.person.postal_code,
            },
            "birth_date": planted.birth_date(c.person),
            "loyalty_tier": c.loyalty_tier,
        }
        for c in customers
    ]
    return json.dumps(records, indent=2, ensure_ascii=False) + "\n"


def _documents(
    rng: random.Random,
    planted: _Planted,
    customers: Sequence[Customer],
    orders: Sequence[Order],
    staff: Sequence[Person],
) -> dict[str, str]:
    """Relative path -> text of every document, in a fixed order."""
    first_order: dict[int, Order] = {}
    for order in orders:
        first_order.setdefault(order.customer_id, order)

    picks = rng.sample(list(customers), len(customers))  # a shuffled copy to draw distinct people from
    welcome: list[Customer] = []
    for customer in picks:
        if _ascii_slug(customer.person.last_name) not in {_ascii_slug(w.person.last_name) for w in welcome}:
            welcome.append(customer)
        if len(welcome) == 3:
            break
    escalated = [(c, first_order[c.id]) for c in picks[3:6]]
    refunds = [(c, first_order[c.id]) for c in picks[6:10]]
    exported = sorted(picks[:5], key=lambda c: c.id)

    docs: dict[str, str] = {}
    for customer in welcome:
        slug = _ascii_slug(customer.person.last_name)
        docs[f"onboarding/welcome-letter-{slug}.md"] = _welcome_letter(planted, customer, staff[2])
    docs["support/escalation-notes.md"] = _escalation_notes(rng, planted, escalated, staff)
    docs["support/refund-requests.txt"] = _refund_requests(planted, refunds, staff[0])
    docs["hr/employee-directory.csv"] = _employee_directory(planted, staff)
    docs["hr/payroll-setup.txt"] = _payroll_setup(planted, staff[4:7], staff[8])
    docs["it/runbook.md"] = _runbook(rng, planted, staff[3], staff[4])
    docs["policies/privacy-policy.md"] = PRIVACY_POLICY
    docs["sales/q3-report.txt"] = _q3_report(orders)
    docs["sales/key-accounts.md"] = _key_accounts(planted, customers, orders, staff[6])
    docs["customers/export.json"] = _customer_export(planted, exported)
    return docs


# --------------------------------------------------------------------------------------------- entry point


def _clear(database: Path, documents: Path) -> None:
    """Remove what a previous build wrote; nothing else under root is touched."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    if documents.exists():
        shutil.rmtree(documents)


def build_demo_workspace(root: Path, *, seed: int = 7, customers: int = 60) -> DemoWorkspace:
    """Create (or recreate, replacing previous content) the demo workspace under root."""
    if not MIN_CUSTOMERS <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between {MIN_CUSTOMERS} and {MAX_CUSTOMERS}, got {customers}")
    rng = random.Random(seed)
    planted = _Planted()

    used: dict[str, set[str]] = {kind: set() for kind in ("name", "email", "phone", "street", "ssn", "card")}
    customer_rows = _customers(rng, _people(rng, customers, used))
    staff = _people(rng, EMPLOYEES, used, domain=STAFF_DOMAIN)
    orders = _orders(rng, customer_rows)
    tickets = _tickets(rng, planted, customer_rows, orders)
    for customer in customer_rows:  # every customer's stored values count, even when only in the database
        person = customer.person
        planted.name(person)
        planted.email(person)
        planted.phone(person, customer.phone_style)
        planted.ssn(person)
        planted.street(person)
        planted.birth_date(person)
        planted.card(person)
    docs = _documents(rng, planted, customer_rows, orders, staff)

    root.mkdir(parents=True, exist_ok=True)
    database, documents = root / DATABASE_NAME, root / DOCUMENTS_NAME
    _clear(database, documents)
    _write_database(database, customer_rows, orders, tickets)
    for relative, text in docs.items():
        target = documents / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))
    return DemoWorkspace(root=root, database=database, documents=documents, seeded=planted.freeze())
