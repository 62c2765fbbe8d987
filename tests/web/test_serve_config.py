"""The [serve] settings: defaults, every bad value stopping with file:line and the fix,
and the digest links that default to pages under serve.url."""

from __future__ import annotations

from pathlib import Path

import pytest

from gazette.config import Settings, load_settings
from gazette.errors import ConfigError

BASE = """\
[site]
title = "Served Site"
url = "https://served.example.org/"

[[sources]]
path = "posts/*.md"
format = "markdown"
"""


def load(tmp_path: Path, extra: str, environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "gazette.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    return load_settings(path, environ=environ or {})


def error_for(tmp_path: Path, extra: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, extra)
    return str(caught.value)


def test_defaults_listen_on_loopback_with_one_worker(tmp_path: Path) -> None:
    """Without [serve]: 127.0.0.1:8080, no public URL, one worker, no trusted proxy."""
    settings = load(tmp_path, "")
    assert settings.serve.address == ("127.0.0.1", 8080)
    assert (settings.serve.url, settings.serve.workers) == ("", 1)
    assert settings.serve.trusted_proxies == []
    assert settings.digest.unsubscribe_url == ""


GOOD_LISTEN = [
    ("0.0.0.0:80", ("0.0.0.0", 80)),  # noqa: S104 - listening everywhere is a valid choice
    ("[::1]:8443", ("::1", 8443)),
    ("[::]:8080", ("::", 8080)),
    ("localhost:9000", ("localhost", 9000)),
]


@pytest.mark.parametrize(("listen", "address"), GOOD_LISTEN)
def test_listen_takes_host_port_with_ipv6_in_brackets(
    tmp_path: Path, listen: str, address: tuple[str, int]
) -> None:
    """IPv4, bracketed IPv6 and host names are accepted and split into host and port."""
    assert load(tmp_path, f'[serve]\nlisten = "{listen}"\n').serve.address == address


BAD_VALUES = [
    ('listen = "8080"', "listen", "use host:port such as"),
    ('listen = "::1:8080"', "listen", "an IPv6 address goes in brackets"),
    ('listen = "[zz::1]:8080"', "listen", "is not an IPv6 address"),
    ('listen = "127.0.0.1:70000"', "listen", "port 70000 is not between 1 and 65535"),
    ('listen = "127.0.0.1:0"', "listen", "is not between 1 and 65535"),
    ('listen = "bad_host!:80"', "listen", "is not a host name or address"),
    ('url = "http://news.example.org"', "url", "must be an https URL"),
    ('url = "ftp://news.example.org"', "url", "must be an https URL"),
    ('url = "news.example.org"', "url", "must be an https URL"),
    ('url = "https://news.example.org/?a=1"', "url", "must not have a query"),
    ("workers = 0", "workers", "fix the value"),
    ('workers = "many"', "workers", "fix the value"),
    ('trusted_proxies = ["10.0.0.1/8"]', "trusted_proxies", "has host bits set"),
    ('trusted_proxies = ["proxy.example.org"]', "trusted_proxies", "network such as 10.0.0.0/8"),
    ('trusted_proxies = "10.0.0.1"', "trusted_proxies", None),
    ("listn = 1", "listn", "unknown key"),
]


@pytest.mark.parametrize(("line", "key", "fix"), BAD_VALUES, ids=[v[0] for v in BAD_VALUES])
def test_a_bad_serve_value_names_file_line_key_and_fix(
    tmp_path: Path, line: str, key: str, fix: str | None
) -> None:
    """Each bad [serve] value stops with gazette.toml:<its line>: [serve] <key>: and the fix."""
    extra = f"\n[serve]\n{line}\n"
    if fix is None:  # a string for the list is read as a comma-separated list: accepted
        assert load(tmp_path, extra).serve.trusted_proxies == ["10.0.0.1"]
        return
    number = len((BASE + extra).splitlines())
    message = error_for(tmp_path, extra)
    assert message.startswith(f"{tmp_path / 'gazette.toml'}:{number}: [serve] {key}: "), message
    assert fix in message


def test_a_loopback_http_url_is_accepted_for_local_trials(tmp_path: Path) -> None:
    """http is fine on 127.0.0.1, [::1] and localhost; a trailing slash is dropped."""
    for url in ("http://127.0.0.1:8080/", "http://[::1]:8080", "http://localhost:8080"):
        assert load(tmp_path, f'[serve]\nurl = "{url}"\n').serve.url == url.rstrip("/")


def test_digest_links_default_to_pages_under_serve_url(tmp_path: Path) -> None:
    """With serve.url set, unsubscribe_url and view_url point at serve's pages."""
    settings = load(tmp_path, '[serve]\nurl = "https://news.example.org/"\n')
    assert settings.digest.unsubscribe_url == "https://news.example.org/unsubscribe"
    assert settings.digest.view_url == "https://news.example.org/issues/{number}/"


def test_explicit_digest_links_win_over_serve_url(tmp_path: Path) -> None:
    """A digest link given in the file, or from the environment, is kept as given."""
    extra = (
        '[digest]\nunsubscribe_url = "https://mail.example.org/u"\n'
        '[serve]\nurl = "https://news.example.org"\n'
    )
    environ = {"GAZETTE_DIGEST_VIEW_URL": "https://web.example.org/{period}"}
    settings = load(tmp_path, extra, environ)
    assert settings.digest.unsubscribe_url == "https://mail.example.org/u"
    assert settings.digest.view_url == "https://web.example.org/{period}"


def test_serve_keys_come_from_the_environment(tmp_path: Path) -> None:
    """GAZETTE_SERVE_* set every key; trusted proxies as a comma-separated list; a bad
    one names the variable."""
    environ = {
        "GAZETTE_SERVE_LISTEN": "[::1]:9443",
        "GAZETTE_SERVE_URL": "https://env.example.org",
        "GAZETTE_SERVE_WORKERS": "3",
        "GAZETTE_SERVE_TRUSTED_PROXIES": "10.0.0.0/8, ::1",
    }
    settings = load(tmp_path, "", environ)
    serve = settings.serve
    assert (serve.address, serve.workers) == (("::1", 9443), 3)
    assert serve.url == "https://env.example.org"
    assert serve.trusted_proxies == ["10.0.0.0/8", "::1"]
    assert settings.digest.unsubscribe_url == "https://env.example.org/unsubscribe"
    with pytest.raises(ConfigError, match=r"^GAZETTE_SERVE_URL \(overrides \[serve\] url"):
        load(tmp_path, "", {"GAZETTE_SERVE_URL": "http://env.example.org"})


def test_subscribe_settings_have_defaults_and_take_durations(tmp_path: Path) -> None:
    """confirm_ttl 7d, confirm_interval 1h, 10 subscribes a minute by default; durations
    are read as the schedules' ("2d12h")."""
    serve = load(tmp_path, "").serve
    assert (serve.confirm_seconds, serve.interval_seconds) == (7 * 86400, 3600)
    assert serve.subscribe_per_minute == 10
    given = load(tmp_path, '[serve]\nconfirm_ttl = "2d12h"\nconfirm_interval = "90s"\n').serve
    assert (given.confirm_seconds, given.interval_seconds) == (216000, 90)


@pytest.mark.parametrize(
    ("line", "key"),
    [('confirm_ttl = "soon"', "confirm_ttl"), ('confirm_interval = "0s"', "confirm_interval"),
     ("subscribe_per_minute = 0", "subscribe_per_minute")],
)  # fmt: skip
def test_a_bad_subscribe_setting_names_file_line_and_key(
    tmp_path: Path, line: str, key: str
) -> None:
    """A bad duration or cap stops with gazette.toml:<line>: [serve] <key>:."""
    extra = f"\n[serve]\n{line}\n"
    number = len((BASE + extra).splitlines())
    message = error_for(tmp_path, extra)
    assert message.startswith(f"{tmp_path / 'gazette.toml'}:{number}: [serve] {key}: "), message


def test_ses_topics_name_the_regions_certificates_come_from(tmp_path: Path) -> None:
    """serve.ses_topic_arns (a list, or commas in the environment) gives each topic's
    region once: the only SNS hosts certificates are fetched from."""
    arns = ["arn:aws:sns:eu-west-1:123456789012:bounces", "arn:aws:sns:eu-west-1:123456789012:b2",
            "arn:aws-cn:sns:cn-north-1:123456789012:bounces"]  # fmt: skip
    settings = load(tmp_path, "", {"GAZETTE_SERVE_SES_TOPIC_ARNS": ",".join(arns)})
    assert settings.serve.ses_topic_arns == arns
    assert settings.serve.sns_regions == ["eu-west-1", "cn-north-1"]


BAD_SNS = [
    ('ses_topic_arns = ["gazette-bounces"]', "is not an SNS topic ARN"),
    ('ses_topic_arns = ["arn:aws:sqs:eu-west-1:123456789012:q"]', "is not an SNS topic ARN"),
    ('sns_test_host = "sns.eu-west-1.amazonaws.com:443"', "for tests only"),
    ('sns_test_host = "10.0.0.5:8443"', "for tests only"),
    ('sns_test_cafile = "ca.pem"', "sns_test_cafile needs sns_test_host"),
]


@pytest.mark.parametrize(("line", "problem"), BAD_SNS)
def test_bad_sns_settings_stop_with_the_fix(tmp_path: Path, line: str, problem: str) -> None:
    """A topic that is not an SNS topic ARN, a tests-only certificate host off loopback,
    and a tests-only CA file without its host are each refused at load, naming the key."""
    message = error_for(tmp_path, f"[serve]\n{line}\n")
    assert problem in message
    assert "gazette.toml" in message
