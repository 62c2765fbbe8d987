"""Settings: the TOML config file plus ``GAZETTE_*`` environment overrides.

Loaded once into frozen, validated models. Any problem stops with a ConfigError that
names the file, the key (and its line when it can be found) and the fix.
"""

from __future__ import annotations

import codecs
import ipaddress
import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gazette.errors import ConfigError
from gazette.schedules import build_trigger, cron_trigger, parse_duration

DEFAULT_CONFIG = Path("config/gazette.toml")
# The top-level templates/ folder, linked into the package so an install carries it.
BUNDLED_TEMPLATES = Path(__file__).resolve().parent / "templates"
# The message catalogs of the languages pages and mails are written in.
LOCALES = Path(__file__).resolve().parent / "locale"
ENV_PREFIX = "GAZETTE_"
# Variables that are not settings: where the config is, and secrets.
NON_SETTING_VARIABLES = frozenset({"GAZETTE_CONFIG", "GAZETTE_SECRET_KEY"})
POST_URL_FIELDS = frozenset({"slug", "id", "year", "month", "day"})
# Characters XML 1.0 cannot carry: a feed, or a mail header, could not be written.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SiteSettings(_Section):
    title: str = Field(min_length=1)
    url: str
    language: str = "en"
    timezone: str = "UTC"
    description: str = ""
    author: str = ""
    post_url: str = "posts/{slug}/"
    tag_authority: str = ""

    @field_validator("url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an absolute http(s) URL such as https://example.org/")
        return value if value.endswith("/") else value + "/"

    @field_validator("title", "description", "author")
    @classmethod
    def _printable(cls, value: str) -> str:
        found = _CONTROL_CHARACTERS.search(value)
        if found:
            raise ValueError(f"contains the control character U+{ord(found[0]):04X}; remove it")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone; use an IANA name such as Asia/Shanghai") from None
        return value

    @field_validator("post_url")
    @classmethod
    def _known_placeholders(cls, value: str) -> str:
        unknown = set(re.findall(r"{(\w*)}", value)) - POST_URL_FIELDS
        if unknown:
            allowed = ", ".join(f"{{{name}}}" for name in sorted(POST_URL_FIELDS))
            raise ValueError(f"unknown placeholder {{{sorted(unknown)[0]}}}; use {allowed}")
        if "{slug}" not in value and "{id}" not in value:
            raise ValueError("must contain {slug} or {id} so that every post gets its own URL")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def authority(self) -> str:
        """The tagging authority of minted tag URIs (RFC 4151): the site's host by default."""
        if self.tag_authority:
            return self.tag_authority
        return re.sub(r"^https?://([^/:]+).*$", r"\1", self.url)


class SourceSettings(_Section):
    path: str = Field(min_length=1)
    format: Literal["listing", "markdown", "jsonl", "feed"]
    year: int | None = Field(default=None, ge=1970, le=2200)
    order: Literal["ascending", "descending"] = "ascending"
    encoding: str = "utf-8"
    more_marker: str = Field(default="点击阅读全文...", min_length=1)
    lang: str = ""
    timeout: float = Field(default=10.0, gt=0)
    optional: bool = False  # a glob that may match nothing (a folder of drafts to come)
    math: list[Literal["kramdown", "backticks"]] = []  # markdown: see gazette.catalog.mdmath
    # markdown: see gazette.catalog.generators
    generator: Literal["jekyll", "hugo", "hexo"] | None = None

    @field_validator("math", "generator")
    @classmethod
    def _markdown_only(cls, value: Any, info: ValidationInfo) -> Any:
        if value and info.data.get("format") != "markdown":
            raise ValueError(f'{info.field_name} is for format = "markdown" sources only')
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError("unknown encoding; use a Python codec name such as gb18030") from None
        return value

    @property
    def is_url(self) -> bool:
        return self.path.startswith(("http://", "https://"))


class CatalogSettings(_Section):
    excerpt_width: int = Field(default=240, ge=20, le=5000)
    max_file_mb: float = Field(default=10, gt=0)  # a larger source file is skipped, an error


class FeedsSettings(_Section):
    output: str = "public"
    base_url: str = ""  # where the output folder is served; site.url when empty
    entries: int = Field(default=20, ge=1, le=1000)
    content: Literal["full", "summary"] = "full"
    archives: bool = True
    archive_size: int = Field(default=50, ge=1, le=10000)
    tag_feeds: bool = True
    series_feeds: bool = True
    index_posts: int = Field(default=100, ge=0, le=100000)
    icon: str = ""  # an image URL, absolute or relative to base_url
    websub_hub: str = ""
    websub_timeout: float = Field(default=10.0, gt=0)
    math: Literal["mathml", "image"] = "mathml"  # formulas in feed content
    schedule: str = "15m"  # the scheduler's build job: an interval or a crontab line

    @field_validator("schedule")
    @classmethod
    def _runnable_schedule(cls, value: str) -> str:
        return check_interval_or_crontab(value)

    @field_validator("base_url", "websub_hub")
    @classmethod
    def _absolute_or_empty(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be empty or an absolute http(s) URL")
        return value


class DigestSettings(_Section):
    schedule: str = "0 8 * * mon"
    unsubscribe_url: str = ""
    unsubscribe_mailto: str = ""
    view_url: str = ""  # "view in browser" link; may contain {number} and {period}
    subject: str = ""  # a Jinja2 template over site, issue, posts; "": digest.subject.j2
    max_age: int = Field(default=30, ge=1)  # days
    max_posts: int = Field(default=10, ge=1, le=200)
    first_issue_posts: int = Field(default=5, ge=1, le=200)
    templates: str = ""  # a folder whose digest.*.j2 override the bundled templates
    misfire_grace: str = "6h"  # a digest missed while stopped is still sent this late
    # Formulas in mail: images under <feeds url>math/, or their TeX ("tex").
    math: Literal["image", "tex"] = "image"

    @field_validator("schedule")
    @classmethod
    def _crontab(cls, value: str) -> str:
        cron_trigger(value, ZoneInfo("UTC"))
        return value

    @field_validator("misfire_grace")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def grace(self) -> timedelta:
        return parse_duration(self.misfire_grace)


class MailSettings(_Section):
    provider: Literal["outbox", "smtp", "postmark", "sendgrid", "mailgun", "resend", "ses"] = (
        "outbox"
    )
    sender: str = Field(default="", alias="from")
    reply_to: str = ""
    outbox: str = "outbox"  # folder of the outbox provider
    endpoint: str = ""  # the provider's base URL, when not its public one (tests, proxies)
    timeout: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, le=20)
    batch_size: int = Field(default=0, ge=0)  # 0: the provider's own maximum
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""  # the password comes from GAZETTE_SMTP_PASSWORD
    smtp_cafile: str = ""  # a PEM file of CAs to trust instead of the system's
    postmark_stream: str = "broadcast"
    mailgun_domain: str = ""
    mailgun_region: Literal["us", "eu"] = "us"
    ses_region: str = ""
    ses_configuration_set: str = ""
    # imaps://user@host/INBOX: where DSNs and abuse reports arrive (SMTP senders); the
    # password comes from GAZETTE_BOUNCE_MAILBOX_PASSWORD
    bounce_mailbox: str = ""
    bounce_processed: str = "gazette-processed"  # the folder reports are moved to
    bounce_schedule: str = "10m"  # how often `gazette run` polls it: an interval or crontab
    # This many soft (transient) bounces within soft_bounce_days make an address bounced.
    soft_bounce_limit: int = Field(default=3, ge=1, le=100)
    soft_bounce_days: int = Field(default=7, ge=1, le=365)

    @field_validator("bounce_schedule")
    @classmethod
    def _runnable_schedule(cls, value: str) -> str:
        return check_interval_or_crontab(value)


class StateSettings(_Section):
    database: str = "sqlite:///state/gazette.db"
    # How long a running scheduler's claim on the state outlives its last renewal.
    lease_timeout: str = "60s"

    @field_validator("lease_timeout")
    @classmethod
    def _long_enough(cls, value: str) -> str:
        if parse_duration(value) < timedelta(seconds=3):
            raise ValueError('must be at least "3s"; the holder renews it every third of it')
        return value

    @property
    def lease_seconds(self) -> float:
        return parse_duration(self.lease_timeout).total_seconds()


SNS_TOPIC_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:sns:(?P<region>[a-z]{2}(?:-[a-z]+)+-\d):\d{12}:[A-Za-z0-9_.-]{1,256}"
)
_LISTEN = re.compile(r"^(?:\[(?P<v6>[^\]]*)\]|(?P<host>[^:\[\]\s]+)):(?P<port>\d{1,5})$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


class ServeSettings(_Section):
    listen: str = "127.0.0.1:8080"  # host:port, IPv6 in brackets: "[::1]:8080"
    url: str = ""  # the public base URL readers see; digest links derive from it
    workers: int = Field(default=1, ge=1, le=64)
    trusted_proxies: list[str] = Field(default_factory=list)  # addresses or CIDR networks
    confirm_ttl: str = "7d"  # how long a confirmation link holds
    confirm_interval: str = "1h"  # one confirmation request per address this often
    subscribe_per_minute: int = Field(default=10, ge=1, le=100000)  # per client address
    # The SNS topics SES publishes bounces and complaints to (POST /webhooks/ses); the
    # signing certificate is fetched only from the SNS host of each topic's region.
    ses_topic_arns: list[str] = Field(default_factory=list)
    # For tests only: a loopback host:port serving SNS certificates in place of
    # sns.<region>.amazonaws.com, and the CA file to trust for it. Signatures are checked
    # all the same.
    sns_test_host: str = ""
    sns_test_cafile: str = ""

    @field_validator("confirm_ttl", "confirm_interval")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def confirm_seconds(self) -> float:
        return parse_duration(self.confirm_ttl).total_seconds()

    @property
    def interval_seconds(self) -> float:
        return parse_duration(self.confirm_interval).total_seconds()

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value:
            check_public_url(value)
        return value.rstrip("/")

    @field_validator("trusted_proxies", "ses_topic_arns", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        """A GAZETTE_SERVE_TRUSTED_PROXIES (or _SES_TOPIC_ARNS) variable lists them
        separated by commas."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item)
            except ValueError as error:
                raise ValueError(
                    f"{item!r} is not an address or network ({error}); use an address such "
                    "as 10.0.0.1 or a network such as 10.0.0.0/8"
                ) from None
        return value

    @field_validator("ses_topic_arns")
    @classmethod
    def _topic_arns(cls, value: list[str]) -> list[str]:
        for item in value:
            if not SNS_TOPIC_ARN.fullmatch(item):
                raise ValueError(
                    f"{item[:120]!r} is not an SNS topic ARN; copy it from the SNS console, "
                    'e.g. "arn:aws:sns:eu-west-1:123456789012:gazette-bounces"'
                )
        return value

    @field_validator("sns_test_host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value and not _is_loopback(parse_listen(value)[0]):
            raise ValueError(
                "is for tests only and must be a loopback host:port such as "
                '"127.0.0.1:8443"; unset it to fetch certificates from SNS'
            )
        return value

    @model_validator(mode="after")
    def _test_cafile_with_test_host(self) -> ServeSettings:
        if self.sns_test_cafile and not self.sns_test_host:
            raise ValueError("sns_test_cafile needs sns_test_host; unset sns_test_cafile")
        return self

    @property
    def sns_regions(self) -> list[str]:
        """The regions of the configured topics, in order, each once."""
        found = (SNS_TOPIC_ARN.fullmatch(arn) for arn in self.ses_topic_arns)
        return list(dict.fromkeys(match["region"] for match in found if match))

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) to bind; an IPv6 host without its brackets."""
        return parse_listen(self.listen)


def check_interval_or_crontab(value: str) -> str:
    """A schedule the scheduler can run: an interval ("15m") or a crontab line."""
    try:
        build_trigger(value, ZoneInfo("UTC"))
    except ValueError as error:
        raise ValueError(
            f'{error}; use an interval such as "15m" or a crontab line such as "*/15 * * * *"'
        ) from None
    return value


def parse_listen(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port``) as (host, port); a ValueError saying the fix."""
    example = 'use host:port such as "127.0.0.1:8080", or "[::1]:8080" for IPv6'
    found = _LISTEN.match(value)
    if found is None:
        hint = " (an IPv6 address goes in brackets)" if value.count(":") > 1 else ""
        raise ValueError(f"not host:port{hint}; {example}")
    host = found["v6"] if found["v6"] is not None else found["host"]
    if found["v6"] is not None:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"[{host}] is not an IPv6 address; {example}") from None
    elif not _HOSTNAME.match(host):
        raise ValueError(f"{host!r} is not a host name or address; {example}")
    port = int(found["port"])
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535; {example}")
    return host, port


def check_public_url(value: str) -> None:
    """https, or http on a loopback address (local trials); no query or fragment."""
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        pass
    elif not (parts.scheme == "http" and _is_loopback(host)):
        raise ValueError(
            "must be an https URL such as https://news.example.org (http only on a loopback "
            "address, e.g. http://127.0.0.1:8080, for local trials)"
        )
    if parts.query or parts.fragment:
        raise ValueError("must not have a query or fragment; e.g. https://news.example.org")


def is_loopback_http(url: str) -> bool:
    """An http URL on this machine (``http://127.0.0.1:8080/…``): a local trial's."""
    parts = urlsplit(url)
    return parts.scheme == "http" and _is_loopback(parts.hostname or "") and not any(
        character.isspace() for character in url
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(_Section):
    site: SiteSettings
    sources: list[SourceSettings] = Field(min_length=1)
    catalog: CatalogSettings = CatalogSettings()
    feeds: FeedsSettings = FeedsSettings()
    digest: DigestSettings = DigestSettings()
    mail: MailSettings = MailSettings()
    state: StateSettings = StateSettings()
    serve: ServeSettings = ServeSettings()
    config_path: Path = Path()

    @model_validator(mode="before")
    @classmethod
    def _links_under_serve_url(cls, data: Any) -> Any:
        """With serve.url set, digest.unsubscribe_url and digest.view_url default to the
        pages `gazette serve` answers there; a value given for them still wins."""
        serve = data.get("serve") if isinstance(data, dict) else None
        url = serve.get("url") if isinstance(serve, dict) else None
        digest = data.setdefault("digest", {}) if isinstance(url, str) and url else None
        if isinstance(digest, dict) and isinstance(url, str):
            base = url.rstrip("/")
            digest.setdefault("unsubscribe_url", f"{base}/unsubscribe")
            digest.setdefault("view_url", f"{base}/issues/{{number}}/")
        return data

    @property
    def serve_base_url(self) -> str:
        """Where serve's pages are: serve.url, else http://<serve.listen> (local trials)."""
        return self.serve.url or f"http://{self.serve.listen}"

    @property
    def feeds_url(self) -> str:
        """The URL the output folder is served at, ending in /."""
        url = self.feeds.base_url or self.site.url
        return url if url.endswith("/") else url + "/"

    @property
    def base_dir(self) -> Path:
        return self.config_path.parent

    def resolve(self, relative: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        return (self.base_dir / relative).resolve()

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL, with a relative SQLite path made relative to the config."""
        url = self.state.database
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url[len(prefix) :].startswith("/"):
            rest = url[len(prefix) :]
            if rest and rest != ":memory:":
                return prefix + str(self.resolve(rest))
        return url


def config_path_from(explicit: str | os.PathLike[str] | None) -> Path:
    """Where the config is: the --config option, then $GAZETTE_CONFIG, then the default."""
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("GAZETTE_CONFIG") or DEFAULT_CONFIG)


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read, override from the environment, and validate the config at ``path``."""
    config_path = config_path_from(path)
    text = _read_config_text(config_path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{config_path}: not valid TOML: {error}; fix the syntax there") from None
    overrides = _apply_environment(data, os.environ if environ is None else environ, config_path)
    data["config_path"] = config_path.resolve()
    try:
        return Settings.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error, config_path, text, overrides)) from None


def _read_config_text(config_path: Path) -> str:
    try:
        return config_path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"{config_path}: config file not found; pass --config PATH or set GAZETTE_CONFIG"
        ) from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{config_path}: not UTF-8 (byte {error.start}); save the file as UTF-8"
        ) from None
    except OSError as error:
        raise ConfigError(f"{config_path}: cannot read: {error.strerror}") from None


def _section_models() -> dict[str, type[BaseModel]]:
    models: dict[str, type[BaseModel]] = {}
    for name, field in Settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            models[name] = annotation
    return models


def _apply_environment(
    data: dict[str, Any], environ: Any, config_path: Path
) -> dict[tuple[str, str], str]:
    """GAZETTE_<SECTION>_<KEY>=value overrides [section] key, e.g. GAZETTE_STATE_DATABASE.

    Returns which variable set which (section, key), so errors can name it.
    """
    sections = _section_models()
    overrides: dict[tuple[str, str], str] = {}
    for variable, value in sorted(environ.items()):
        if not variable.startswith(ENV_PREFIX) or variable in NON_SETTING_VARIABLES:
            continue
        section, _, key = variable[len(ENV_PREFIX) :].lower().partition("_")
        if section == "sources":
            raise ConfigError(
                f"{variable}: [[sources]] cannot be set from the environment; "
                f"edit them in {config_path}"
            )
        if section not in sections:
            continue
        model = sections[section]
        known = {f.alias or n for n, f in model.model_fields.items()}
        if key not in known:
            raise ConfigError(
                f"{variable}: [{section}] has no key {key!r}; known keys: "
                f"{', '.join(sorted(known))}; unset the variable or fix its name"
            )
        table = data.setdefault(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{config_path}: [{section}] must be a table")
        table[key] = value
        overrides[(section, key)] = variable
    return overrides


def _describe(
    error: ValidationError, config_path: Path, text: str, overrides: dict[tuple[str, str], str]
) -> str:
    """The first validation problem as one line: file:line: key: problem; fix."""
    first = error.errors()[0]
    loc = [part for part in first["loc"] if part != "__root__"]
    key = _key_name(loc)
    variable = overrides.get((str(loc[0]), str(loc[-1]))) if len(loc) == 2 else None
    if variable:
        return f"{variable} (overrides {key} of {config_path}): {_problem_and_fix(first, loc)}"
    line = _line_of(text, loc)
    where = f"{config_path}:{line}" if line else str(config_path)
    return f"{where}: {key}: {_problem_and_fix(first, loc)}"


def _key_name(loc: list[Any]) -> str:
    if not loc:
        return "(top level)"
    if loc[0] == "sources" and len(loc) > 1 and isinstance(loc[1], int):
        head = f"[[sources]] #{loc[1] + 1}"
        rest = loc[2:]
    elif len(loc) > 1:
        head, rest = f"[{loc[0]}]", loc[1:]
    else:
        return f"[{loc[0]}]" if loc[0] in _section_models() or loc[0] == "sources" else str(loc[0])
    return f"{head} {'.'.join(str(p) for p in rest)}".strip()


def _problem_and_fix(detail: Any, loc: list[Any]) -> str:
    kind = detail["type"]
    name = str(loc[-1]) if loc else "key"
    section = _key_name(loc[:-1]) if len(loc) > 1 else "the top level"
    if kind == "missing":
        return f"required but missing; add `{name} = ...` under {section}"
    if kind == "extra_forbidden":
        return "unknown key; remove it or fix its spelling (see the README's config reference)"
    if kind == "literal_error":
        expected = detail.get("ctx", {}).get("expected", "")
        return f"got {detail.get('input')!r}; use one of {expected}"
    if kind == "value_error":
        return f"got {detail.get('input')!r}: {detail['msg'].removeprefix('Value error, ')}"
    return f"got {detail.get('input')!r}: {detail['msg'].lower()}; fix the value"


def _line_of(text: str, loc: list[Any]) -> int | None:
    """Best effort: the line where the key at ``loc`` (or its table) is written."""
    if not loc:
        return None
    section, index = str(loc[0]), 0
    key = str(loc[-1]) if len(loc) > 1 and not isinstance(loc[-1], int) else None
    if section == "sources" and len(loc) > 1 and isinstance(loc[1], int):
        index = loc[1]
        key = str(loc[2]) if len(loc) > 2 else None
    header = re.compile(r"^\s*\[\[?\s*" + re.escape(section) + r"\s*\]\]?\s*(#.*)?$")
    seen, start = -1, None
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if header.match(line):
            seen += 1
            if seen == index:
                start = number
                break
    if start is None:
        return None
    if key is None:
        return start
    key_line = re.compile(r"^\s*\"?" + re.escape(key) + r"\"?\s*=")
    for number in range(start, len(lines)):
        line = lines[number]
        if re.match(r"^\s*\[", line):
            break
        if key_line.match(line):
            return number + 1
    return start
