"""The subscriber pages in a real browser with JavaScript off, in zh-CN and en: headless
Chromium fills the form, follows the mailed link, presses Confirm, opens the digest
`digest --send` mailed, follows its unsubscribe link and presses the button; the CSP
(inline styles only) blocks nothing the pages use."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from ..test_index_browser import QUIET_FLAGS
from .conftest import build_site, start_serve
from .test_subscribe import confirm_link, confirmation_eml
from .test_unsubscribe import KEY, gazette, status_of

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium with JavaScript disabled (skips without it, fails when CI=true)."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromium-driver must be installed")
        pytest.skip("chromium or chromedriver is not installed (.ci/run installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*QUIET_FLAGS, "--window-size=420,800"):  # a phone's width
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.add_experimental_option(
        "prefs", {"profile.managed_default_content_settings.javascript": 2}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    browser.set_page_load_timeout(60)
    try:
        yield browser
    finally:
        browser.quit()


def press_and_see(driver: WebDriver, heading: str) -> None:
    """Presses the page's button and waits for the next page's heading."""
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    # While the next page loads, the old page's heading can vanish under the lookup: a
    # stale element, or the driver's "node does not belong to the document"; ask again.
    wait = WebDriverWait(driver, 15, ignored_exceptions=[WebDriverException])
    wait.until(lambda d: heading in d.find_element(By.TAG_NAME, "h1").text)


HEADINGS = {
    "en": {"form": "Get Example Notes", "sent": "Check your mail",
           "confirm": "Confirm your subscription", "confirmed": "You are subscribed",
           "unsubscribe": "Unsubscribe from", "unsubscribed": "You are unsubscribed",
           "read_more": "Read more"},
    "zh-CN": {"form": "通过邮件订阅", "sent": "请查收邮件", "confirm": "确认订阅",
              "confirmed": "订阅成功", "unsubscribe": "退订Example Notes",
              "unsubscribed": "已退订", "read_more": "阅读全文"},
}  # fmt: skip


def heading(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "h1").text)


def snapshot(driver: WebDriver, folder: Path, name: str) -> None:
    """A screenshot of the page as it is now, kept in the test's folder."""
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5000  # a page with text, not a blank image


def digest_links(outbox: Path, address: str) -> tuple[Path, str, str]:
    """The digest's HTML part as the outbox wrote it, its unsubscribe link and its view link."""
    page = next(outbox.glob(f"gazette-issue*/{address}.html"))
    html = page.read_text(encoding="utf-8")
    unsubscribe = re.search(r'href="(http://127\.0\.0\.1:\d+/unsubscribe\?token=[^"]+)"', html)
    view = re.search(r'href="(http://127\.0\.0\.1:\d+/issues/\d+/)"', html)
    assert unsubscribe is not None, html
    assert view is not None, html
    return page, unsubscribe[1].replace("&amp;", "&"), view[1]


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_a_reader_subscribes_confirms_gets_a_digest_and_unsubscribes(
    driver: WebDriver, tmp_path: Path, language: str
) -> None:
    """In the site's language, by a reader in a browser: the form → the confirmation
    mail's link → Confirm → active; `gazette digest --send` → the digest's unsubscribe
    link → the button → unsubscribed. GETs change nothing; the honeypot is off screen; no
    CSP violation; a screenshot of every page is kept."""
    words = HEADINGS[language]
    outbox = tmp_path / "outbox"
    settings = {"mail_outbox": str(outbox), "site_language": language}
    build_site(tmp_path)
    served = start_serve(tmp_path, secret_key=KEY, **settings)
    address = "reader@example.org"
    try:
        driver.get(f"{served.url}/subscribe")
        assert words["form"] in heading(driver)
        trap = driver.find_element(By.NAME, "website")
        assert trap.rect["x"] + trap.rect["width"] < 0
        email_field = driver.find_element(By.NAME, "email")
        assert email_field.rect["width"] > 300  # the field fills a narrow screen
        snapshot(driver, tmp_path, "1-subscribe")
        email_field.send_keys(address)
        press_and_see(driver, words["sent"])
        snapshot(driver, tmp_path, "2-sent")
        assert status_of(tmp_path, address) == "pending"
        driver.get(confirm_link(confirmation_eml(tmp_path, address)))
        assert words["confirm"] in heading(driver)
        snapshot(driver, tmp_path, "3-confirm")
        assert status_of(tmp_path, address) == "pending"
        press_and_see(driver, words["confirmed"])
        snapshot(driver, tmp_path, "4-confirmed")
        assert status_of(tmp_path, address) == "active"

        links = {**settings, "serve_url": served.url,
                 "digest_unsubscribe_url": f"{served.url}/unsubscribe",
                 "digest_view_url": f"{served.url}/issues/{{number}}/"}  # fmt: skip
        gazette(tmp_path, "digest", "--send", **links)
        mail, unsubscribe, view = digest_links(outbox, address)
        driver.get(mail.as_uri())
        assert words["read_more"] in driver.find_element(By.TAG_NAME, "body").text
        snapshot(driver, tmp_path, "5-digest")
        driver.get(view)
        assert words["read_more"] in driver.find_element(By.TAG_NAME, "body").text
        snapshot(driver, tmp_path, "6-issue")
        driver.get(unsubscribe)
        assert words["unsubscribe"] in heading(driver)
        snapshot(driver, tmp_path, "7-unsubscribe")
        assert status_of(tmp_path, address) == "active"
        press_and_see(driver, words["unsubscribed"])
        snapshot(driver, tmp_path, "8-unsubscribed")
        assert status_of(tmp_path, address) == "unsubscribed"
        logs = driver.get_log("browser")
    finally:
        served.stop()
    assert not [entry for entry in logs if "Content Security Policy" in entry["message"]], logs
