"""The command line: one thin command per step, over the library."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from gazette import __version__
from gazette.catalog import check_catalog, iter_posts, post_as_json, update_catalog
from gazette.catalog.text import display_width
from gazette.config import Settings, load_settings
from gazette.errors import GazetteError
from gazette.feeds import build_feeds
from gazette.models import Post
from gazette.store import Store


class _Group(click.Group):
    """Turns a GazetteError into one line on stderr and its exit code: no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GazetteError as error:
            click.echo(f"gazette: error: {error}", err=True)
            ctx.exit(error.exit_code)


@dataclass
class _State:
    config: str | None

    def settings(self) -> Settings:
        return load_settings(self.config)

    def store(self, settings: Settings) -> Store:
        return Store(settings.database_url)


@click.group(cls=_Group)
@click.option(
    "--config",
    "config",
    metavar="PATH",
    help="The config file (default: $GAZETTE_CONFIG, else config/gazette.toml).",
)
@click.version_option(__version__, prog_name="gazette")
@click.pass_context
def cli(ctx: click.Context, config: str | None) -> None:
    """Publish a blog: a clean catalog of its posts, feeds, and mailed digests."""
    ctx.obj = _State(config)


def _now() -> datetime:
    return datetime.now(UTC)


@cli.command()
@click.pass_obj
def check(state: _State) -> None:
    """Lint the catalog: every finding with path:line; exit 1 on errors.

    Example: gazette --config config/gazette.toml check
    """
    settings = state.settings()
    findings = check_catalog(settings, state.store(settings), _now())
    for finding in findings:
        click.echo(str(finding))
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    click.echo(f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} notes")
    if counts["error"]:
        sys.exit(1)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post and line.")
@click.option("--all", "include_future", is_flag=True, help="Include posts dated in the future.")
@click.pass_obj
def posts(state: _State, as_json: bool, include_future: bool) -> None:
    """The normalized posts, newest first: a table, or JSON Lines with --json.

    Example: gazette posts --json > posts.jsonl
    """
    settings = state.settings()
    store = state.store(settings)
    now = _now()
    update_catalog(settings, store, now)
    with store.transaction() as connection:
        for post in iter_posts(settings, connection, now, include_future):
            if as_json:
                click.echo(json.dumps(post_as_json(post), ensure_ascii=False))
            else:
                click.echo(_table_row(post))


@cli.command()
@click.pass_obj
def build(state: _State) -> None:
    """Write the feeds: RSS, Atom and JSON Feed, per tag and series, archives, index.html.

    Example: gazette --config config/gazette.toml build
    """
    settings = state.settings()
    store = state.store(settings)
    now = _now()
    update_catalog(settings, store, now)
    report = build_feeds(settings, store, now)
    for path in report.written:
        click.echo(f"wrote   {path}")
    for path in report.removed:
        click.echo(f"removed {path}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    output = settings.resolve(settings.feeds.output)
    click.echo(
        f"{len(report.written)} written, {report.kept} kept, {len(report.removed)} removed "
        f"in {output}"
    )


def _table_row(post: Post) -> str:
    flags = "~" if post.title_inferred else " "
    series = f" [{post.series} #{post.series_index}]" if post.series else ""
    title = _fit(post.title + series, 60)
    tags = ", ".join(post.tags)
    return f"{post.published:%Y-%m-%d} {flags}{title}  {tags}".rstrip()


def _fit(text: str, width: int) -> str:
    """Cut and pad to ``width`` display columns (a CJK character takes two)."""
    out: list[str] = []
    used = 0
    for char in text:
        char_width = display_width(char)
        if used + char_width > width - 1 and len(text) > len(out) + 1:
            out.append("…")
            used += 1
            break
        out.append(char)
        used += char_width
    return "".join(out) + " " * max(0, width - used)


def main() -> None:
    cli(prog_name="gazette")
