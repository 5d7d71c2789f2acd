"""The moderator page in real headless Chromium: token, keyboard approval, untrusted text shown as text.

Needs Debian's ``chromium`` and ``chromium-driver`` (``./run.sh test`` installs them);
skipped with the reason when they are absent.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from classifier.moderator import Moderator
from classifier.queue import ingest
from classifier.store import SQLiteStore
from tests.conftest import SEEDS
from classifier.web.app import create_app
from tests.queue_support import XSS_TEXT, serving_in_thread, write_jsonl

pytestmark = pytest.mark.browser

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "browser-token-77"
MODERATOR = "Camille"

if not (Path(CHROMEDRIVER).exists() and Path(CHROMIUM).exists()):
    pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("browser")
    db = tmp / "queue.db"
    store = SQLiteStore(db, create=True)
    source = write_jsonl(tmp / "xss.jsonl", [{"text": XSS_TEXT, "author": "<b>Mallory</b>", "published": "2024-05-01T12:00:00+02:00"}])
    moderator = Moderator.load()
    ingest(store, [str(SEEDS), str(source)], moderator)
    store.close()
    with serving_in_thread(create_app(db, TOKEN, moderator)) as base:
        yield base, db


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1200,900",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _login(driver, base):
    driver.get(base + "/")
    wait = WebDriverWait(driver, 20)
    field = wait.until(EC.visibility_of_element_located((By.ID, "token")))
    field.send_keys(TOKEN)
    driver.find_element(By.ID, "moderator").send_keys(MODERATOR)
    driver.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue .comment")) > 0)
    assert not driver.find_element(By.ID, "token").is_displayed()  # the login form is gone
    return wait


def _stored(db, comment_id):
    store = SQLiteStore(db)
    try:
        return store.get(comment_id)
    finally:
        store.close()


def test_page_asks_for_the_token_and_refuses_a_wrong_one(served, browser):
    base, _ = served
    browser.get(base + "/")
    wait = WebDriverWait(browser, 20)
    field = wait.until(EC.visibility_of_element_located((By.ID, "token")))
    field.send_keys("not-the-token")
    browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "login-error").text.strip() != "")
    assert browser.find_elements(By.CSS_SELECTOR, "#queue .comment") == []


def test_keyboard_approval_is_recorded_in_the_database(served, browser):
    base, db = served
    wait = _login(browser, base)
    pending = int(browser.find_element(By.ID, "count-pending").text)
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys("j")
    selected = browser.find_element(By.CSS_SELECTOR, "#queue .comment.selected")
    second = browser.find_elements(By.CSS_SELECTOR, "#queue .comment")[1]
    assert selected.get_attribute("data-id") == second.get_attribute("data-id")  # j moved down
    body.send_keys("k")
    first = browser.find_element(By.CSS_SELECTOR, "#queue .comment.selected")
    comment_id = first.get_attribute("data-id")
    assert first.find_element(By.CSS_SELECTOR, ".hostile").text.startswith("hostile")
    body.send_keys("a")
    wait.until(lambda d: d.find_element(By.ID, "count-pending").text == str(pending - 1))
    stored = _stored(db, comment_id)
    assert (stored["status"], stored["decided_by"]) == ("approved", MODERATOR)
    assert comment_id not in [e.get_attribute("data-id") for e in browser.find_elements(By.CSS_SELECTOR, "#queue .comment")]

    browser.find_element(By.TAG_NAME, "body").send_keys("u")  # undo: back to pending
    wait.until(lambda d: d.find_element(By.ID, "count-pending").text == str(pending))
    assert _stored(db, comment_id)["status"] == "pending"


def test_injected_markup_is_rendered_as_text(served, browser):
    base, _ = served
    _login(browser, base)
    time.sleep(0.5)  # give an injected handler every chance to fire
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - raises when no alert is open
    assert browser.find_elements(By.CSS_SELECTOR, "#queue img, #queue script, #queue b") == []
    texts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue .comment .text")]
    assert any('<img src=x onerror="alert(1)">' in t and "<script>alert(2)</script>" in t for t in texts)
    authors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue .comment .author")]
    assert "<b>Mallory</b>" in authors


def test_highlighting_marks_whole_words_only(served, browser):
    base, _ = served
    _login(browser, base)
    ranges = browser.execute_script(
        "return findRanges(arguments[0], arguments[1])",
        "ARRETER et ET, pas RETRAITE, étêté",
        [{"term": "et", "kind": "reason"}, {"term": "ete", "kind": "reason"}],
    )
    assert [tuple(r[:2]) for r in ranges] == [(8, 10), (11, 13)]  # never inside "ARRETER", "RETRAITE" or "étêté"
    marked = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue .comment .text mark")]
    texts = " ".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue .comment .text"))
    for word in marked:
        assert re.search(rf"(?<!\w){re.escape(word)}(?!\w)", texts), word
