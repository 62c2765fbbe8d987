"""Config loading and its errors: through load_settings and through the real CLI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from gazette.config import load_settings
from gazette.errors import ConfigError

from .conftest import sync

GOOD = """\
[site]
title = "Test Site"
url = "https://test.example.org/"
timezone = "Asia/Shanghai"

[state]
database = "sqlite:///state/x.db"

[[sources]]
path = "posts/*.md"
format = "markdown"
"""


def write_config(tmp_path: Path, text: str, name: str = "gazette.toml") -> Path:
    """Writes ``text`` as a config file under tmp_path and returns its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str) -> int:
    """The 1-based number of the first line of ``text`` containing ``fragment``."""
    for number, line in enumerate(text.splitlines(), 1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the config text")


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the installed ``gazette`` console script."""
    return subprocess.run(
        ["gazette", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        check=False,
        timeout=60,
    )


def check_cli(path: Path) -> subprocess.CompletedProcess[str]:
    """``gazette --config PATH check`` run from the config's folder."""
    return run_cli("--config", str(path), "check", cwd=path.parent)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Exit 2, one line on stderr without a traceback, containing every needle."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


# --- errors in the file --------------------------------------------------------------


def test_unknown_site_key_is_one_line_with_file_line_key_and_fix(tmp_path: Path) -> None:
    """An unknown [site] key exits 2 with one stderr line: file:line, the key and the fix."""
    text = GOOD.replace(
        'timezone = "Asia/Shanghai"\n', 'timezone = "Asia/Shanghai"\ncolour = "red"\n'
    )
    path = write_config(tmp_path, text)
    line = assert_one_line_error(check_cli(path), "colour", "remove it or fix its spelling")
    assert f"{path}:{line_of(text, 'colour =')}:" in line
    with pytest.raises(ConfigError, match="colour"):
        load_settings(path)


def test_wrong_type_in_sources_names_the_source_key_and_line(tmp_path: Path) -> None:
    """`year = "abc"` in [[sources]] names the file, its line, the source and the bad value."""
    text = GOOD + 'year = "abc"\n'
    path = write_config(tmp_path, text)
    line = assert_one_line_error(check_cli(path), "[[sources]] #1 year", "'abc'", "integer")
    assert f"{path}:{line_of(text, 'year =')}:" in line
    with pytest.raises(ConfigError, match=r"\[\[sources\]\] #1 year"):
        load_settings(path)


def test_wrong_type_in_second_source_points_at_that_source(tmp_path: Path) -> None:
    """A bad key in the second [[sources]] names source #2 and its own line, not the first's."""
    text = GOOD + 'year = 2024\n\n[[sources]]\npath = "b.txt"\nformat = "listing"\nyear = "abc"\n'
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "[[sources]] #2 year" in str(caught.value)
    bad_line = line_of(text, 'year = "abc"')
    assert f"{path}:{bad_line}:" in str(caught.value)


def test_missing_site_url_says_to_add_it(tmp_path: Path) -> None:
    """A config without [site] url names the key and says to add it under [site]."""
    text = GOOD.replace('url = "https://test.example.org/"\n', "")
    path = write_config(tmp_path, text)
    line = assert_one_line_error(
        check_cli(path), "[site] url", "required", "add `url = ...` under [site]"
    )
    assert f"{path}:{line_of(text, '[site]')}:" in line
    with pytest.raises(ConfigError, match=r"\[site\] url: required"):
        load_settings(path)


def test_bad_format_lists_the_allowed_values(tmp_path: Path) -> None:
    """`format = "rss"` is refused with every allowed format named."""
    text = GOOD.replace('format = "markdown"', 'format = "rss"')
    path = write_config(tmp_path, text)
    line = assert_one_line_error(check_cli(path), "format", "'rss'")
    for allowed in ("listing", "markdown", "jsonl", "feed"):
        assert allowed in line
    assert f"{path}:{line_of(text, 'format =')}:" in line


def test_unknown_timezone_is_refused(tmp_path: Path) -> None:
    """An unknown time zone names [site] timezone, its line and asks for an IANA name."""
    text = GOOD.replace("Asia/Shanghai", "Mars/Olympus_Mons")
    path = write_config(tmp_path, text)
    line = assert_one_line_error(check_cli(path), "[site] timezone", "Mars/Olympus_Mons", "IANA")
    assert f"{path}:{line_of(text, 'timezone =')}:" in line


def test_control_character_in_the_site_title_is_refused(tmp_path: Path) -> None:
    """A title no feed could carry (U+000B) names [site] title and its line, not a crash."""
    text = GOOD.replace('title = "', 'title = "\\u000b', 1)
    path = write_config(tmp_path, text)
    line = assert_one_line_error(check_cli(path), "[site] title", "U+000B", "remove it")
    assert f"{path}:{line_of(text, 'title =')}:" in line


def test_post_url_with_unknown_placeholder_lists_the_known_ones(tmp_path: Path) -> None:
    """`post_url` with {hour} names that placeholder and the ones that exist."""
    text = GOOD.replace(
        'timezone = "Asia/Shanghai"\n', 'timezone = "UTC"\npost_url = "p/{year}/{hour}/{slug}/"\n'
    )
    path = write_config(tmp_path, text)
    line = assert_one_line_error(check_cli(path), "[site] post_url", "{hour}", "{slug}", "{year}")
    assert f"{path}:{line_of(text, 'post_url =')}:" in line


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    """A TOML syntax error is one line naming the file and the line of the mistake."""
    text = GOOD.replace('path = "posts/*.md"', 'path = "posts/*.md')
    path = write_config(tmp_path, text)
    line = assert_one_line_error(check_cli(path), str(path), "not valid TOML")
    assert f"line {line_of(text, 'path =')}," in line


def test_missing_config_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    """A config path that does not exist exits 2 and names --config and GAZETTE_CONFIG."""
    path = tmp_path / "nowhere.toml"
    assert_one_line_error(check_cli(path), str(path), "not found", "--config", "GAZETTE_CONFIG")
    with pytest.raises(ConfigError, match="not found"):
        load_settings(path)


# --- the environment -----------------------------------------------------------------


def test_environment_overrides_the_site_url(tmp_path: Path) -> None:
    """GAZETTE_SITE_URL wins over [site] url (and gains its trailing slash)."""
    path = write_config(tmp_path, GOOD)
    settings = load_settings(path, environ={"GAZETTE_SITE_URL": "https://env.example.net"})
    assert settings.site.url == "https://env.example.net/"
    assert load_settings(path, environ={}).site.url == "https://test.example.org/"


def test_unknown_environment_key_names_the_variable(tmp_path: Path) -> None:
    """GAZETTE_SITE_BOGUS is a ConfigError naming the variable and the known keys."""
    path = write_config(tmp_path, GOOD)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"GAZETTE_SITE_BOGUS": "1"})
    message = str(caught.value)
    assert message.startswith("GAZETTE_SITE_BOGUS")
    assert "'bogus'" in message
    assert "url" in message


def test_bad_value_from_environment_names_the_variable_not_a_file_line(tmp_path: Path) -> None:
    """A bad GAZETTE_SITE_URL is blamed on the variable, not on the file's (valid) url line."""
    path = write_config(tmp_path, GOOD)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={"GAZETTE_SITE_URL": "ftp://files.example.org/"})
    message = str(caught.value)
    assert "GAZETTE_SITE_URL" in message
    assert f"{path}:{line_of(GOOD, 'url =')}" not in message


def test_gazette_config_variable_selects_the_file(tmp_path: Path) -> None:
    """With no --config, the CLI reads the file named by GAZETTE_CONFIG."""
    path = write_config(tmp_path, GOOD, name="elsewhere.toml")
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {**os.environ, "GAZETTE_CONFIG": str(path)}
    result = run_cli("check", cwd=workdir, env=env)
    assert result.returncode == 1, result.stderr
    assert f"{path}: [[sources]] #1: error: path 'posts/*.md' matches no file" in result.stdout

    broken = write_config(
        tmp_path, GOOD.replace("[site]\n", "[site]\nbogus = 1\n"), name="broken.toml"
    )
    result = run_cli("check", cwd=workdir, env={**os.environ, "GAZETTE_CONFIG": str(broken)})
    assert_one_line_error(result, f"{broken}:2:", "bogus")


def test_without_config_or_variable_the_default_path_is_named(tmp_path: Path) -> None:
    """With neither --config nor GAZETTE_CONFIG, the error names config/gazette.toml."""
    result = run_cli("check", cwd=tmp_path, env=dict(os.environ))
    assert_one_line_error(result, "config/gazette.toml", "not found")


def test_relative_sqlite_path_resolves_next_to_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`sqlite:///state/x.db` is the config folder's state/x.db, whatever the working folder."""
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    path = write_config(site_dir, GOOD)
    (site_dir / "posts").mkdir()
    (site_dir / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2024-05-01\n---\n\nA.\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(os.path.relpath(path, elsewhere))
    expected = (site_dir / "state" / "x.db").resolve()
    assert settings.database_url == f"sqlite:///{expected}"
    sync(settings)
    assert expected.is_file()
    assert not (elsewhere / "state").exists()


# --- catalog limits ------------------------------------------------------------------


def test_max_file_mb_defaults_to_10_and_reads_a_fraction(tmp_path: Path) -> None:
    """`catalog.max_file_mb` is 10 unless set, and may be set below one megabyte."""
    assert load_settings(write_config(tmp_path, GOOD)).catalog.max_file_mb == 10
    text = GOOD + "\n[catalog]\nmax_file_mb = 0.5\n"
    assert load_settings(write_config(tmp_path, text)).catalog.max_file_mb == 0.5


def test_max_file_mb_of_zero_names_the_key_and_its_line(tmp_path: Path) -> None:
    """`max_file_mb = 0` is refused with file:line and the key, since no file would be read."""
    text = GOOD + "\n[catalog]\nmax_file_mb = 0\n"
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    message = str(refused.value)
    assert message.startswith(f"{path}:{line_of(text, 'max_file_mb')}: [catalog] max_file_mb")
    assert "greater than 0" in message
