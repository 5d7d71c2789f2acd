"""The moderator page in real headless Chromium, on both stores: token login, keyboard approval under the
account's name, "being reviewed by", the author's history, the parent of a reply, filters, untrusted text shown as text.

Needs Debian's ``chromium`` and ``chromium-driver`` (``./run.sh test`` installs them);
skipped with the reason when they are absent.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest

from classifier.accounts import add_user
from classifier.moderator import Moderator
from classifier.queue import ingest
from classifier.store import open_store
from classifier.web.app import create_app
from tests.conftest import SEEDS, STORES, queue_location
from tests.queue_support import XSS_TEXT, serving_in_thread, write_jsonl

pytestmark = pytest.mark.browser

CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "browser-token-77"
MODERATOR = "Camille"
#: Another moderator who holds the queue's top comment while Camille works.
OTHER = "Dominique"
REPLIES = [
    {"id": "p1", "page": "https://journal.test/article-1", "author": "Lectrice75", "text": "Un article nuancé, merci."},
    {"id": "p2", "page": "https://journal.test/article-1", "author": "Contradicteur", "text": "Nuancé ? Vous plaisantez, c'est de la propagande.", "reply_to": "p1"},
]

if not (Path(CHROMEDRIVER).exists() and Path(CHROMIUM).exists()):
    pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)", allow_module_level=True)

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def moderator():
    return Moderator.load()


@pytest.fixture(scope="module", params=STORES)
def served(request, tmp_path_factory, moderator):
    """The seeds, an XSS attempt and a reply thread, queued on each store; Camille's token; Dominique holds the top comment."""
    tmp_path = tmp_path_factory.mktemp("browser")
    locations = queue_location(request, tmp_path)
    db = next(locations)
    store = open_store(db, create=True)
    source = write_jsonl(tmp_path / "xss.jsonl", [{"text": XSS_TEXT, "author": "<b>Mallory</b>", "published": "2024-05-01T12:00:00+02:00"}])
    thread = write_jsonl(tmp_path / "thread.jsonl", REPLIES)
    ingest(store, [str(SEEDS), str(source), str(thread)], moderator)
    token = add_user(store, MODERATOR, "moderator")
    add_user(store, OTHER, "moderator")
    held = store.claim(OTHER, limit=1)[0]
    store.close()
    try:
        with serving_in_thread(create_app(db, None, moderator)) as base:
            yield base, db, token, held
    finally:
        locations.close()  # drops the PostgreSQL database


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """One headless Chromium for the module (starting one costs seconds)."""
    from selenium.webdriver.chrome.service import Service

    tmp_path = tmp_path_factory.mktemp("chromium")
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


@pytest.fixture
def browser(chromium, served):
    """The browser on a blank page of the served app, logged out (each test logs in itself)."""
    chromium.get(served[0] + "/static/style.css")
    chromium.execute_script("sessionStorage.clear()")
    return chromium


def _login(driver, base, token):
    driver.get(base + "/")
    wait = WebDriverWait(driver, 20, ignored_exceptions=(StaleElementReferenceException,))
    field = wait.until(EC.visibility_of_element_located((By.ID, "token")))
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue .comment")) > 0)
    assert not driver.find_element(By.ID, "token").is_displayed()  # the login form is gone
    return wait


def _stored(db, comment_id):
    store = open_store(db)
    try:
        return store.get(comment_id)
    finally:
        store.close()


def test_page_asks_for_the_token_and_refuses_a_wrong_one(served, browser):
    base = served[0]
    browser.get(base + "/")
    wait = WebDriverWait(browser, 20)
    field = wait.until(EC.visibility_of_element_located((By.ID, "token")))
    field.send_keys("not-the-token")
    browser.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
    wait.until(lambda d: d.find_element(By.ID, "login-error").text.strip() != "")
    assert browser.find_elements(By.CSS_SELECTOR, "#queue .comment") == []


def test_keyboard_approval_is_recorded_in_the_database(served, browser):
    base, db, token, _ = served
    wait = _login(browser, base, token)
    assert browser.find_element(By.ID, "whoami").text == MODERATOR
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
    base, _, token, _ = served
    _login(browser, base, token)
    time.sleep(0.5)  # give an injected handler every chance to fire
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - raises when no alert is open
    assert browser.find_elements(By.CSS_SELECTOR, "#queue img, #queue script, #queue b") == []
    texts = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue .comment .text")]
    assert any('<img src=x onerror="alert(1)">' in t and "<script>alert(2)</script>" in t for t in texts)
    authors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#queue .comment .author")]
    assert "<b>Mallory</b>" in authors


def _card(driver, comment_id):
    return driver.find_element(By.CSS_SELECTOR, f'#queue .comment[data-id="{comment_id}"]')


def test_a_comment_another_moderator_holds_shows_who_and_cannot_be_decided(served, browser):
    base, db, token, held = served
    _login(browser, base, token)
    card = _card(browser, held["id"])
    assert card.find_element(By.CSS_SELECTOR, ".claimed-by").text == f"En cours de revue par {OTHER}"
    assert card.find_elements(By.CSS_SELECTOR, "button.approve") == []
    first = browser.find_elements(By.CSS_SELECTOR, "#queue .comment")[0]
    assert first.get_attribute("data-id") != held["id"]  # the page puts my comments first, others' last
    card.click()
    browser.find_element(By.TAG_NAME, "body").send_keys("a")
    time.sleep(0.5)
    assert _stored(db, held["id"])["status"] == "pending"


def test_history_parent_and_filters(served, browser):
    base, _, token, _ = served
    wait = _login(browser, base, token)
    reply = next(c for c in browser.find_elements(By.CSS_SELECTOR, "#queue .comment") if "propagande" in c.text)
    assert reply.find_element(By.CSS_SELECTOR, ".parent").text == "En réponse à Lectrice75 : Un article nuancé, merci."
    assert "Historique de l'auteur : 1 en attente · 0 approuvé(s) · 0 rejeté(s)" in reply.find_element(By.CSS_SELECTOR, ".history").text
    reply.find_element(By.CSS_SELECTOR, ".page-filter").click()  # only this article's comments
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue .comment")) == 2)
    browser.find_element(By.ID, "filters-clear").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#queue .comment")) > 2)
    search = browser.find_element(By.ID, "filter-q")
    search.send_keys("PROPAGANDE")
    browser.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
    wait.until(lambda d: [c.text for c in d.find_elements(By.CSS_SELECTOR, "#queue .comment .author")] == ["Contradicteur"])


def test_highlighting_marks_whole_words_only(served, browser):
    base, _, token, _ = served
    _login(browser, base, token)
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
