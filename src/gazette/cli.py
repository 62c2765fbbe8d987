"""The command line: one thin command per step, over the library."""

from __future__ import annotations

import gc
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from gazette import __version__
from gazette.errors import GazetteError
from gazette.models import SUBSCRIBER_STATUSES

# Each command imports what it uses inside its body, so that `gazette --help` (and any
# command's --help) answers without loading the database, the feeds or the providers.
# ruff: noqa: PLC0415
if TYPE_CHECKING:
    from gazette.config import Settings
    from gazette.digest import Issue, Plan, Run
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
        from gazette.config import load_settings

        return load_settings(self.config)

    def store(self, settings: Settings) -> Store:
        """The state database, closed when the command ends."""
        from gazette.store import Store

        store = Store(settings.database_url)
        click.get_current_context().call_on_close(store.close)
        return store


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
    from gazette.catalog import check_catalog

    settings = state.settings()
    findings = check_catalog(settings, state.store(settings), _now())
    for finding in findings:
        click.echo(str(finding))
    counts = {s: sum(f.severity == s for f in findings) for s in ("error", "warning", "info")}
    click.echo(", ".join(_plural(counts[s], w) for s, w in _CHECK_WORDS))
    if counts["error"]:
        sys.exit(1)


_CHECK_WORDS = (("error", "error"), ("warning", "warning"), ("info", "note"))
_INFERRED_LEGEND = "~ before a title: the post gives none; inferred from its text (see check)"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per post and line.")
@click.option("--all", "include_future", is_flag=True, help="Include posts dated in the future.")
@click.pass_obj
def posts(state: _State, as_json: bool, include_future: bool) -> None:
    """The normalized posts, newest first: a table, or JSON Lines with --json.

    Example: gazette posts --json > posts.jsonl
    """
    from gazette.catalog import iter_posts, post_as_json, update_catalog

    settings = state.settings()
    store = state.store(settings)
    now = _now()
    update_catalog(settings, store, now)
    inferred = False
    with store.transaction() as connection:
        for post in iter_posts(settings, connection, now, include_future):
            if as_json:
                click.echo(json.dumps(post_as_json(post), ensure_ascii=False))
            else:
                click.echo(_table_row(post))
                inferred = inferred or post.title_inferred
    if inferred:
        click.echo(_INFERRED_LEGEND)


@cli.command()
@click.pass_obj
def build(state: _State) -> None:
    """Write the feeds: RSS, Atom and JSON Feed, per tag and series, archives, index.html.

    Nothing is read or written when no source, template, setting or output file changed
    since the last build.

    Example: gazette --config config/gazette.toml build
    """
    from gazette.cycle import build_if_changed
    from gazette.freshness import recorded_files

    settings = state.settings()
    store = state.store(settings)
    outcome = build_if_changed(settings, store, _now())
    output = settings.resolve(settings.feeds.output)
    if outcome.report is None:
        click.echo("up to date: no source, template or setting changed since the last build")
        click.echo(f"0 written, {recorded_files(store)} kept, 0 removed in {output}")
        return
    report = outcome.report
    for path in report.written:
        click.echo(f"wrote   {path}")
    for path in report.removed:
        click.echo(f"removed {path}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
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
    from gazette.catalog.text import display_width

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


# --- init ------------------------------------------------------------------------------


@cli.command()
@click.argument("blog", metavar="[PATH | URL]", default=".")
@click.pass_obj
def init(state: _State, blog: str) -> None:
    """Write a commented starter config for the blog at PATH (a Jekyll, Hugo or Hexo
    site's folder) or for a feed URL, where --config says (never over a file).

    Example: gazette init ~/blog && gazette check && gazette build
    """
    from gazette.config import config_path_from
    from gazette.starter import (
        Layout,
        blog_in_folder,
        blog_of_feed,
        starter_config,
        write_new_file,
    )

    config = config_path_from(state.config)
    is_url = blog.startswith(("http://", "https://"))
    found = blog_of_feed(blog) if is_url else blog_in_folder(Path(blog))
    layout = Layout.for_config(config, found, Path.cwd())
    write_new_file(config, starter_config(found, layout, blog))
    counted = _plural(found.posts, "post file" if found.folder else "post")
    click.echo(f"wrote {config} for {found.described}: {counted}")
    for guess in found.guesses():
        click.echo(f"  guessed: {guess}", err=True)
    if found.published_with(config):
        click.echo(f"  warning: {found.published_with(config)}", err=True)
    _print_next_steps(state.config, config)


def _print_next_steps(given: str | None, config: Path) -> None:
    from gazette.config import DEFAULT_CONFIG

    default = not given and not os.environ.get("GAZETTE_CONFIG") and config == DEFAULT_CONFIG
    gazette = "gazette" if default else f"gazette --config {config}"
    click.echo("next: read the file, then")
    click.echo(f"  {gazette} check    (every post as gazette reads it, and what it guessed)")
    click.echo(f"  {gazette} build    (the feeds, in feeds.output)")
    click.echo(f"  {gazette} subscribers add you@example.org && {gazette} publish")
    click.echo("    (a first digest, written to the outbox folder)")


# --- digest ----------------------------------------------------------------------------


@cli.command()
@click.option("--dry-run", is_flag=True, help="Say what would go out; write nothing.")
@click.option(
    "--preview",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the next issue's HTML, text and .eml to DIR.",
)
@click.option("--send", is_flag=True, help="Send: unfinished issues, then a new one.")
@click.option("--resume", is_flag=True, help="Finish unfinished issues only.")
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="Also send again to recipients whose provider call never answered.",
)
@click.pass_obj
def digest(
    state: _State,
    dry_run: bool,
    preview: Path | None,
    send: bool,
    resume: bool,
    resend_uncertain: bool,
) -> None:
    """Mail subscribers the posts that are new since the last issue.

    Example: gazette digest --dry-run && gazette digest --send
    """
    from gazette.digest import period_for, plan_digest

    mode = _digest_mode(dry_run=dry_run, preview=preview is not None, send=send, resume=resume)
    settings = state.settings()
    store = state.store(settings)
    now = _now()
    period = period_for(now, settings.site.zone)
    if mode == "dry_run":
        _print_plan(plan_digest(settings, store, period, now))
    elif preview is not None:
        _preview(settings, store, period, preview, now)
    else:
        _send(settings, store, period, new_issue=mode == "send", resend=resend_uncertain)


def _digest_mode(**given: bool) -> str:
    """The one mode asked for; two are a usage error, since each would do another thing."""
    chosen = [name for name, on in given.items() if on]
    if len(chosen) != 1:
        flags = " and ".join(f"--{name.replace('_', '-')}" for name in chosen)
        raise click.UsageError(
            (f"{flags} conflict: " if chosen else "")
            + "give one of --dry-run, --preview DIR, --send or --resume"
        )
    return chosen[0]


def _print_plan(plan: Plan) -> None:
    for issue, counts in plan.unfinished:
        waiting = counts.get("pending", 0) + counts.get("in-flight", 0)
        click.echo(
            f"unfinished issue {issue.number} ({issue.period}) {issue.subject!r}: {waiting} "
            f"to send, {counts.get('uncertain', 0)} uncertain, {counts.get('sent', 0)} sent"
        )
    if plan.done_for_period is not None:
        click.echo(f"issue {plan.done_for_period.number} for period {plan.period} went out already")
    elif not plan.posts:
        click.echo("nothing new since the last issue: no issue would go out")
    else:
        click.echo(f"new issue for period {plan.period}: {plan.subject!r}")
        for post in plan.posts:
            click.echo(f"  {post.published:%Y-%m-%d}  {post.title}")
        click.echo(f"to {plan.recipients} active subscribers (dry run: nothing written)")


def _preview(settings: Settings, store: Store, period: str, folder: Path, now: datetime) -> None:
    from gazette.digest import write_preview

    paths = write_preview(settings, store, period, folder, os.environ, now)
    if paths is None:
        click.echo("nothing new since the last issue: nothing to preview")
        return
    for path in paths:
        click.echo(str(path))


@dataclass
class _Progress:
    """One progress bar per issue being sent."""

    bar: Any = None
    issues: list[int] = field(default_factory=list)

    def start(self, issue: Issue, total: int) -> None:
        self.close()
        self.issues.append(issue.number)
        self.bar = click.progressbar(length=total, label=f"issue {issue.number}", file=sys.stderr)
        self.bar.__enter__()

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _send(settings: Settings, store: Store, period: str, new_issue: bool, resend: bool) -> None:
    from gazette.catalog import update_catalog
    from gazette.cycle import SendOptions, send_digest

    progress = _Progress()
    with _exclusive(settings, store, "digest") as stop:
        update_catalog(settings, store, _now())
        options = SendOptions(resend, stop, progress.start, progress.advance, manual=True)
        try:
            run = send_digest(settings, store, os.environ, period if new_issue else None, options)
        finally:
            progress.close()
    _print_run(run)


def _print_run(run: Run) -> None:
    for summary in run.summaries:
        click.echo(str(summary))
        if summary.count("uncertain"):
            click.echo(
                f"{summary.count('uncertain')} uncertain: the provider may or may not have "
                "delivered them; `gazette digest --resume --resend-uncertain` sends them again"
            )
    if run.note:
        click.echo(run.note)


@contextmanager
def _exclusive(settings: Settings, store: Store, command: str) -> Iterator[threading.Event]:
    """Holds the state's lease (no other sender meanwhile) and stops gracefully on a
    signal: yields the event a signal sets."""
    from gazette.lease import describe_process, held_lease
    from gazette.stopping import stop_on_signals

    stop = threading.Event()
    holder = describe_process(command)
    with held_lease(store, holder, settings.state.lease_seconds, stop.set), stop_on_signals(stop):
        yield stop


# --- the service -----------------------------------------------------------------------


@cli.command()
@click.option("--verbose", "-v", is_flag=True, help="Log more: each batch, retries, APScheduler.")
@click.pass_obj
def publish(state: _State, verbose: bool) -> None:
    """One full cycle without a scheduler, for cron: build if a source changed, then send
    the digest if digest.schedule fired within digest.misfire_grace.

    Example: */15 * * * * cd /srv/blog && gazette publish
    """
    from gazette import cycle
    from gazette.cycle import SendOptions, due_fire_time, next_fire_time
    from gazette.log import configure_logging
    from gazette.scheduler.jobs import describe_build

    settings = state.settings()
    configure_logging(verbose, settings.site.zone)
    store = state.store(settings)
    now = _now()
    fire = due_fire_time(settings, now)
    with _exclusive(settings, store, "publish") as stop:
        done = cycle.publish(settings, store, os.environ, now, fire, SendOptions(stop=stop))
    click.echo(f"build: {describe_build(done.build, settings).text}")
    if done.build.report is not None:
        for warning in done.build.report.warnings:
            click.echo(f"warning: {warning}", err=True)
    if done.period is None and not done.digest.summaries:
        upcoming = next_fire_time(settings, now)
        when = upcoming.isoformat(timespec="minutes") if upcoming else "never"
        click.echo(f"digest: none due (digest.schedule fires next at {when})")
    else:
        _print_run(done.digest)


@cli.command()
@click.option("--verbose", "-v", is_flag=True, help="Log more: each batch, retries, APScheduler.")
@click.pass_obj
def run(state: _State, verbose: bool) -> None:
    """The scheduler, until SIGTERM or Ctrl-C: builds on feeds.schedule, sends the digest
    on digest.schedule. One line per event on stderr.

    Example: gazette --config /srv/blog/gazette.toml run
    """
    from gazette.log import configure_logging
    from gazette.scheduler import run_scheduler

    settings = state.settings()
    configure_logging(verbose, settings.site.zone)
    sys.exit(run_scheduler(settings, os.environ))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object, for scripts.")
@click.pass_obj
def status(state: _State, as_json: bool) -> None:
    """Whether a scheduler runs, each job's next run, the last build and the last issue.

    Example: gazette status --json | jq .last_issue
    """
    from gazette.scheduler.status import describe_status, read_status, status_as_json

    settings = state.settings()
    found = read_status(settings, state.store(settings), _now())
    if as_json:
        click.echo(json.dumps(status_as_json(found, settings), ensure_ascii=False, indent=2))
    else:
        for line in describe_status(found, settings):
            click.echo(line)


@cli.command()
@click.pass_obj
def serve(state: _State) -> None:
    """The feeds (and the subscriber web) over HTTP on serve.listen, until SIGTERM or
    Ctrl-C; one log line per request on stderr, query values masked.

    Example: gazette --config /srv/blog/gazette.toml serve
    """
    from gazette.log import configure_logging
    from gazette.web import serve as serve_web

    settings = state.settings()
    configure_logging(False, settings.site.zone)
    sys.exit(serve_web(settings))


# --- subscribers -----------------------------------------------------------------------


@cli.group()
def subscribers() -> None:
    """Add, import, remove and list the addresses that get the digest.

    Example: gazette subscribers import example/subscribers.csv
    """


def _list_store(state: _State) -> Store:
    return state.store(state.settings())


@subscribers.command("add")
@click.argument("address")
@click.option("--name", default="", help="The subscriber's name.")
@click.pass_obj
def subscribers_add(state: _State, address: str, name: str) -> None:
    """Add one address (active at once).

    Example: gazette subscribers add reader@example.org --name "A Reader"
    """
    from gazette.digest import subscribers as subscriber_list

    with _list_store(state).transaction() as connection:
        added = subscriber_list.add_subscriber(connection, address, name, _now())
    click.echo(f"added {address.strip()}" if added else f"{address.strip()} is already subscribed")


@subscribers.command("import")
@click.argument("csv_file", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def subscribers_import(state: _State, csv_file: Path) -> None:
    """Add every good row of a CSV (email[,name]); bad rows are reported by line.

    Example: gazette subscribers import example/subscribers.csv
    """
    from gazette.digest import subscribers as subscriber_list

    with _list_store(state).transaction() as connection:
        report = subscriber_list.import_csv(connection, csv_file, _now())
    for problem in report.problems:
        click.echo(problem, err=True)
    click.echo(
        f"{report.added} added, {report.unchanged} already subscribed, "
        f"{len(report.problems)} rows left out"
    )
    if report.problems:
        sys.exit(1)


@subscribers.command("remove")
@click.argument("address")
@click.pass_obj
def subscribers_remove(state: _State, address: str) -> None:
    """Unsubscribe an address: it is never mailed again.

    Example: gazette subscribers remove reader@example.org
    """
    from gazette.digest import subscribers as subscriber_list

    with _list_store(state).transaction() as connection:
        found = subscriber_list.set_status(connection, address, "unsubscribed", _now())
    click.echo(f"unsubscribed {found.address}")


@subscribers.command("list")
@click.option("--status", type=click.Choice(SUBSCRIBER_STATUSES), help="Only this status.")
@click.pass_obj
def subscribers_list(state: _State, status: str | None) -> None:
    """Every subscriber: address, status, since when, name (control characters escaped).

    Example: gazette subscribers list --status active
    """
    from gazette.digest import subscribers as subscriber_list

    escape = subscriber_list.escape_controls
    with _list_store(state).transaction() as connection:
        for row in subscriber_list.list_subscribers(connection, status):
            fields = (row.address, row.status, row.changed[:10], row.name)
            click.echo("\t".join(escape(field) for field in fields).rstrip())


# CPython collects its youngest generation every 700 new objects, and each collection
# walks every object that is still young: a build that loads 10,000 records spent a fifth
# of its time there, finding almost nothing (what a build makes, it keeps). Collecting
# every 200,000 objects bounds the garbage a long-running command holds just as well.
GC_THRESHOLD = (200_000, 30, 30)


def main() -> None:
    gc.set_threshold(*GC_THRESHOLD)
    cli(prog_name="gazette")
