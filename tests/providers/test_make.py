"""Each provider's ``make``: settings and environment in, a checked provider out."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest

from gazette.config import Settings
from gazette.errors import ConfigError
from gazette.mail.base import Provider

SOURCES = """\
[[sources]]
path = "posts/*.md"
format = "markdown"
"""

SECRETS = {
    "postmark": {"GAZETTE_POSTMARK_TOKEN": "pm"},
    "sendgrid": {"GAZETTE_SENDGRID_API_KEY": "SG.x"},
    "mailgun": {"GAZETTE_MAILGUN_API_KEY": "key-x"},
    "resend": {"GAZETTE_RESEND_API_KEY": "re_x"},
    "ses": {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret"},
}
MAIL = {
    "mailgun": 'mailgun_domain = "mg.example.org"\n',
    "ses": 'ses_region = "eu-west-1"\n',
}


@pytest.fixture
def configure(site: Callable[..., Settings]) -> Callable[..., Settings]:
    """Settings with ``[mail] provider = name`` and the given extra [mail] lines."""

    def make(name: str, extra: str | None = None) -> Settings:
        lines = MAIL.get(name, "") if extra is None else extra
        mail = f'\n[mail]\nprovider = "{name}"\nfrom = "Notes <digest@example.org>"\n{lines}'
        return site(SOURCES, mail)

    return make


def build(name: str, settings: Settings, environ: dict[str, str]) -> Provider:
    """Calls ``gazette.mail.<name>.make``, as the provider factory does."""
    module = importlib.import_module(f"gazette.mail.{name}")
    provider: Provider = module.make(settings, environ)
    return provider


@pytest.mark.parametrize(
    ("name", "variable"),
    [(name, variable) for name, secrets in SECRETS.items() for variable in secrets],
)
def test_a_missing_secret_names_its_variable(
    configure: Callable[..., Settings], name: str, variable: str
) -> None:
    """Without the secret, make raises a ConfigError naming the variable and the fix."""
    environ = {key: value for key, value in SECRETS[name].items() if key != variable}
    with pytest.raises(ConfigError, match=f"{variable} is not set.*export {variable}="):
        build(name, configure(name), environ)


@pytest.mark.parametrize(
    ("name", "batch", "idempotent"),
    [
        ("postmark", 500, False),
        ("sendgrid", 1, False),
        ("mailgun", 1, False),
        ("resend", 100, True),
        ("ses", 1, False),
    ],
)
def test_make_builds_the_provider(
    configure: Callable[..., Settings], name: str, batch: int, idempotent: bool
) -> None:
    """With its secret, each provider has its name, batch size and idempotency."""
    provider = build(name, configure(name), SECRETS[name])
    assert (provider.name, provider.batch_size, provider.idempotent) == (name, batch, idempotent)
    provider.close()


@pytest.mark.parametrize(
    ("name", "extra", "key"),
    [
        ("mailgun", "", "mail.mailgun_domain"),
        ("mailgun", 'mailgun_domain = "https://mg.example.org/"\n', "mail.mailgun_domain"),
        ("ses", "", r"mail.ses_region \(or AWS_REGION\)"),
        ("ses", 'ses_region = "Ireland"\n', "mail.ses_region"),
        ("postmark", "batch_size = 501\n", "mail.batch_size"),
        ("resend", "batch_size = 101\n", "mail.batch_size"),
        ("sendgrid", "batch_size = 2\n", "mail.batch_size"),
        ("postmark", 'endpoint = "api.postmarkapp.com"\n', "mail.endpoint"),
        ("postmark", 'postmark_stream = " "\n', "mail.postmark_stream"),
    ],
)
def test_a_bad_option_names_its_key(
    configure: Callable[..., Settings], name: str, extra: str, key: str
) -> None:
    """A missing or wrong [mail] key is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=key):
        build(name, configure(name, extra), SECRETS[name])


def test_mailgun_region_picks_the_api_host(configure: Callable[..., Settings]) -> None:
    """EU domains are served by api.eu.mailgun.net, US ones by api.mailgun.net."""
    eu = build(
        "mailgun",
        configure("mailgun", MAIL["mailgun"] + 'mailgun_region = "eu"\n'),
        SECRETS["mailgun"],
    )
    us = build("mailgun", configure("mailgun"), SECRETS["mailgun"])
    assert eu.options.connection.base_url == "https://api.eu.mailgun.net"  # type: ignore[attr-defined]
    assert us.options.connection.base_url == "https://api.mailgun.net"  # type: ignore[attr-defined]


def test_ses_region_can_come_from_aws_region(configure: Callable[..., Settings]) -> None:
    """With no mail.ses_region, AWS_REGION picks the endpoint."""
    provider = build("ses", configure("ses", ""), {**SECRETS["ses"], "AWS_REGION": "us-east-2"})
    url = provider.options.connection.base_url  # type: ignore[attr-defined]
    assert url == "https://email.us-east-2.amazonaws.com"


def test_endpoint_overrides_the_public_url(configure: Callable[..., Settings]) -> None:
    """mail.endpoint points any provider elsewhere (a proxy, a test server)."""
    settings = configure("resend", 'endpoint = "http://127.0.0.1:9"\ntimeout = 3\n')
    provider = build("resend", settings, SECRETS["resend"])
    connection = provider.options.connection  # type: ignore[attr-defined]
    assert (connection.base_url, connection.timeout) == ("http://127.0.0.1:9", 3.0)


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_secrets_stay_out_of_reprs(configure: Callable[..., Settings], name: str) -> None:
    """A provider or its options printed in a log or traceback shows no secret."""
    environ = dict.fromkeys(SECRETS[name], "s3cr3t-value")
    provider = build(name, configure(name), environ)
    shown = repr(provider.options) + repr(vars(provider))  # type: ignore[attr-defined]
    assert "s3cr3t" not in shown
