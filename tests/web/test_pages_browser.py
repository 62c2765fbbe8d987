"""The subscriber pages in a real browser with JavaScript off: headless Chromium fills
the form, follows the mailed link, presses Confirm, then Unsubscribe, and the CSP
(inline styles only) blocks nothing the pages use."""

from __future__ import annotations

import os
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
from .test_unsubscribe import KEY, status_of, token

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


def test_subscribe_confirm_and_unsubscribe_by_hand(driver: WebDriver, tmp_path: Path) -> None:
    """Form → mail → Confirm → active; the unsubscribe page's button → unsubscribed; the
    honeypot is off screen; no CSP violation is reported."""
    build_site(tmp_path)
    served = start_serve(tmp_path, secret_key=KEY, mail_outbox=str(tmp_path / "outbox"))
    address = "hand@example.org"
    try:
        driver.get(f"{served.url}/subscribe")
        trap = driver.find_element(By.NAME, "website")
        assert trap.rect["x"] + trap.rect["width"] < 0
        email_field = driver.find_element(By.NAME, "email")
        assert email_field.rect["width"] > 300  # the field fills a narrow screen
        email_field.send_keys(address)
        press_and_see(driver, "Check your mail")
        assert status_of(tmp_path, address) == "pending"
        driver.get(confirm_link(confirmation_eml(tmp_path, address)))
        press_and_see(driver, "You are subscribed")
        assert status_of(tmp_path, address) == "active"
        driver.get(f"{served.url}/unsubscribe?token={token(tmp_path, address)}")
        assert status_of(tmp_path, address) == "active"
        press_and_see(driver, "You are unsubscribed")
        assert status_of(tmp_path, address) == "unsubscribed"
        logs = driver.get_log("browser")
    finally:
        served.stop()
    assert not [entry for entry in logs if "Content Security Policy" in entry["message"]], logs
