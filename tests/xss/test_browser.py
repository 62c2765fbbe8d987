"""The corpus in a real browser: headless Chromium opens every digest and a page of every
feed's content, is pointed, focused and clicked at, and nothing runs.

A hook installed before any page script (CDP ``Page.addScriptToEvaluateOnNewDocument``)
records alert, confirm, prompt and print, every ``javascript:`` link followed and every
form submitted; clicks on other links are kept from navigating, and a page that navigates
all the same (a refresh, a script) is caught by its URL afterwards.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.remote.webdriver import WebDriver

from ..test_index_browser import QUIET_FLAGS
from .conftest import ChannelRun
from .outputs import ATOM
from .sites import CHANNELS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
HOOK = """
(() => {
  const record = (kind, detail) => {
    const line = `${kind} ${String(detail).slice(0, 160)}`;
    try { (window.top.__xss = window.top.__xss || []).push(line); } catch (e) {}
    console.error('XSS-HOOK ' + line);
  };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    window[name] = (...args) => { record(name, args[0]); return null; };
  }
  const target = (link) => link.getAttribute('href')
    || link.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '';
  addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a, area');
    if (!link) return;
    let scheme = '';
    try { scheme = new URL(target(link), location.href).protocol; } catch (e) {}
    if (scheme === 'javascript:') record('javascript: link followed', target(link));
    else event.preventDefault();
  }, true);
  addEventListener('submit', (event) => {
    event.preventDefault();
    record('form submitted', event.target.getAttribute('action'));
  }, true);
})();
"""
# Every element gets these events (inline handlers run on them); then the elements a
# person would touch, and any that look hostile, get a real pointer and a click.
SWEEP = """
const types = ['mouseover', 'mouseenter', 'mousemove', 'mousedown', 'mouseup', 'click',
  'dblclick', 'contextmenu', 'focus', 'focusin', 'blur', 'keydown', 'keyup', 'input',
  'change', 'pointerover', 'pointerdown', 'pointerup', 'wheel', 'toggle', 'error', 'load',
  'animationstart', 'transitionend', 'scroll', 'copy', 'paste'];
for (const element of document.body.querySelectorAll('*')) {
  if (element.focus) element.focus();
  for (const type of types) element.dispatchEvent(new Event(type, {cancelable: true}));
}
const risky = (element) => [...element.attributes].some((a) => a.name.startsWith('on')
  || (/href|src|action|data|poster/.test(a.name) && !/^(https?:|mailto:|#|\\/|$)/i.test(
    a.value.trim())));
const touch = 'a, area, button, input, select, textarea, details, summary, iframe, svg, math';
const chosen = [...document.body.querySelectorAll('*')].filter(risky);
chosen.push(...[...document.body.querySelectorAll(touch)].slice(0, arguments[0]));
return chosen.slice(0, arguments[1]);
"""
ORDINARY_TOUCHED = 3  # per page, besides every risky element
MOST_TOUCHED = 20


def _missing() -> str:
    if CHROMIUM is None:
        return "chromium is not installed (.ci/run installs it)"
    if CHROMEDRIVER is None:
        return "chromedriver is not installed (Debian's chromium-driver)"
    return ""


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium with the hook on every new document (skips without it, fails
    when CI=true)."""
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing)
        pytest.skip(missing)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*QUIET_FLAGS, "--disable-quic", "--window-size=1000,800"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    # No name resolves: a page's https images fail at once instead of waiting on DNS.
    options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    browser.set_page_load_timeout(60)
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def server(corpus_runs: dict[str, ChannelRun]) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over the corpus folder: (base URL, folder)."""
    folder = next(iter(corpus_runs.values())).folders[0].parent.parent
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", folder
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No line per request."""


def feed_page(run: ChannelRun, folder: Path) -> Path:
    """One page holding every JSON Feed content_html and every Atom xhtml content of the
    channel's sites, as a reader embeds them."""
    items = []
    for site in run.folders:
        feed = site / "public" / "feed.json"
        if feed.exists():
            for item in json.loads(feed.read_bytes()).get("items", []):
                items.append(f"<article>{item.get('content_html', '')}</article>")
        atom = site / "public" / "atom.xml"
        if atom.exists():
            root = etree.parse(str(atom), etree.XMLParser(resolve_entities=False, huge_tree=True))
            for entry in root.iter(f"{ATOM}entry"):
                for div in entry.iterfind(f"{ATOM}content/{{http://www.w3.org/1999/xhtml}}div"):
                    inner = "".join(etree.tostring(c, encoding="unicode") for c in div)
                    items.append(f"<article>{html.escape(div.text or '')}{inner}</article>")
    page = folder / f"feed-content-{run.channel}.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>feed content</title></head>'
        "<body>" + "\n".join(items) + "</body></html>",
        encoding="utf-8",
    )
    return page


def exercise(browser: WebDriver, url: str) -> list[str]:
    """Opens ``url``, fires events at every element, points at and clicks the ones that
    matter, and returns what the hook recorded."""
    browser.get_log("browser")  # what the previous page logged is read already
    browser.get(url)
    elements = browser.execute_script(SWEEP, ORDINARY_TOUCHED, MOST_TOUCHED)
    for element in elements:
        try:
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
            ActionChains(browser, duration=0).move_to_element(element).click().perform()
        except WebDriverException:
            continue  # hidden, detached or out of reach: the sweep fired its events anyway
    recorded = list(browser.execute_script("return window.__xss || []"))
    # Frames of another origin (data: URLs) cannot reach the top window; they log.
    recorded += [
        entry["message"].split("XSS-HOOK ", 1)[1].rstrip('"')
        for entry in browser.get_log("browser")
        if "XSS-HOOK" in entry["message"] and "about:blank" not in entry["message"]
    ]
    if browser.current_url != url:
        recorded.append(f"navigated away to {browser.current_url}")
    return recorded


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_chromium_runs_nothing(
    corpus_runs: dict[str, ChannelRun], driver: WebDriver, server: tuple[str, Path], channel: str
) -> None:
    """Every digest of the channel and a page of all its feed content, hovered, focused
    and clicked in Chromium, call no alert, follow no javascript: link, submit no form."""
    base, folder = server
    run = corpus_runs[channel]
    pages = sorted(p for site in run.folders for p in (site / "outbox").rglob("*.html"))
    pages.append(feed_page(run, folder))
    found: Counter[str] = Counter()
    for page in pages:
        url = base + str(page.relative_to(folder))
        found.update(f"{page.relative_to(folder)}: {line}" for line in exercise(driver, url))
    shown = [f"{count:4d}x {line}" for line, count in found.most_common(30)]
    assert not found, f"{found.total()} things ran in {channel}:\n" + "\n".join(shown)
