"""End to end in a real browser: Debian's chromium (Selenium) against `monitor web` on a free loopback port,
over a SQLite file filled through the real matcher and store. Log in, triage with the keyboard, search, open an
article and check its highlights; a screenshot of every page goes to tests/artefacts/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from selenium import webdriver
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from monitor.store.archive import Archive
from tests.browser import chromium, csp_violations, desk_server, free_port, screenshot
from tests.webdesk import HOSTILE_TITLE, TOKEN, Filled, desk_config, fill

WAIT = 15
GONE = (StaleElementReferenceException, NoSuchElementException)  # an element htmx is swapping


@dataclass
class Session:
    driver: webdriver.Chrome
    base: str
    filled: Filled

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)
        if self.driver.current_url.startswith(self.base + "/login"):
            self.log_in()
            self.driver.get(self.base + path)

    def log_in(self) -> None:
        field = self.driver.find_element(By.ID, "token")
        field.clear()
        field.send_keys(TOKEN)
        self.driver.find_element(By.ID, "login").click()
        WebDriverWait(self.driver, WAIT).until(lambda d: "/login" not in d.current_url)

    def wait(self, condition: object, what: str) -> None:
        WebDriverWait(self.driver, WAIT, ignored_exceptions=GONE).until(
            condition, message=f"waiting for {what}"
        )  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    folder = tmp_path_factory.mktemp("browser")
    filled = fill(desk_config(folder))
    try:
        with desk_server(filled.config.settings.path, free_port()) as base, chromium() as driver:
            yield Session(driver, base, filled)
    finally:
        filled.store.close()


def no_alert(driver: webdriver.Chrome) -> None:
    try:
        text = driver.switch_to.alert.text
    except NoAlertPresentException:
        return
    raise AssertionError(f"a script from stored text ran: alert {text!r}")


def test_log_in_through_the_form(session: Session) -> None:
    driver = session.driver
    driver.delete_all_cookies()
    driver.get(session.base + "/feeds")
    assert "/login" in driver.current_url
    screenshot(driver, "login")
    field = driver.find_element(By.ID, "token")
    field.send_keys("not the token")
    driver.find_element(By.ID, "login").click()
    session.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "p.error"), "the refusal")
    assert "not the desk" in driver.find_element(By.CSS_SELECTOR, "p.error").text
    session.log_in()
    assert driver.current_url == session.base + "/feeds"  # back where the reader was going
    assert driver.find_element(By.TAG_NAME, "h1").text == "Feeds"


def selected_hit(driver: webdriver.Chrome) -> int | None:
    """The id of the hit the keys act on, if one is selected."""
    chosen = driver.find_elements(By.CSS_SELECTOR, "li.hit.selected")
    return int(chosen[0].get_attribute("data-hit") or 0) if chosen else None


def test_triage_a_hit_with_the_keyboard(session: Session) -> None:
    driver, filled = session.driver, session.filled
    session.open("/")
    assert csp_violations(driver) == []
    screenshot(driver, "inbox")
    first = driver.find_elements(By.CSS_SELECTOR, "li.hit")[0]
    first_id = int(first.get_attribute("data-hit") or 0)
    keys = ActionChains(driver)
    keys.send_keys("j").perform()
    session.wait(
        lambda d: "selected" in (d.find_element(By.ID, f"hit-{first_id}").get_attribute("class") or ""), "j"
    )
    keys.send_keys("r").perform()
    session.wait(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, f"#hit-{first_id} .label-state").text == "relevant"
            and selected_hit(d) == first_id
        ),
        "r marks",
    )
    record = Archive(filled.store).hit_records([first_id])[first_id]
    assert record.label is not None and record.label.label == "relevant"
    # The marked hit stays selected: k stays on the first, j moves to the next one, n notes it.
    keys.send_keys("j").perform()
    session.wait(lambda d: selected_hit(d) not in (None, first_id), "j moves on")
    second_id = selected_hit(driver)
    assert second_id is not None and second_id != first_id
    keys.send_keys("i").perform()
    session.wait(
        lambda d: (
            d.find_element(By.CSS_SELECTOR, f"#hit-{second_id} .label-state").text == "irrelevant"
            and selected_hit(d) == second_id
            and d.switch_to.active_element.get_attribute("id") == f"hit-{second_id}"
        ),  # the swapped-in row has settled, selected and focused, before the next key
        "i",
    )
    ActionChains(driver).send_keys("n").perform()
    session.wait(lambda d: "note-input" in (d.switch_to.active_element.get_attribute("class") or ""), "n")
    note = driver.switch_to.active_element
    note.send_keys("wrong Wescam", Keys.ENTER)
    session.wait(lambda d: "wrong Wescam" in d.find_element(By.ID, f"hit-{second_id}").text, "the note")
    record = Archive(filled.store).hit_records([second_id])[second_id]
    assert record.label is not None and (record.label.label, record.label.note) == (
        "irrelevant",
        "wrong Wescam",
    )
    screenshot(driver, "inbox-triaged")
    assert csp_violations(driver) == []
    no_alert(driver)


def test_search_then_open_an_article_with_its_highlights(session: Session) -> None:
    driver = session.driver
    session.open("/search")
    box = driver.find_element(By.ID, "q")
    box.send_keys("minister OR hockey")
    driver.find_element(By.ID, "search").click()
    session.wait(lambda d: d.find_elements(By.CSS_SELECTOR, "li.result"), "results")
    assert driver.find_element(By.CSS_SELECTOR, "p.count").text == "2 articles found."
    screenshot(driver, "search")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Wescam sensors").click()
    session.wait(lambda d: d.find_elements(By.ID, "article-text"), "the article")
    marks = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#article-text mark")]
    assert marks == ["minister"]
    assert "1 highlighted for the search" in driver.find_element(By.ID, "highlights").text
    screenshot(driver, "article-search")
    session.open(f"/articles/{session.filled.wescam}")
    marks = [m.text for m in driver.find_elements(By.CSS_SELECTOR, "#article-text mark")]
    assert marks == ["Wescam", "Baykar", "Wescam", "export permits", "Wescam", "export permits"]
    assert driver.find_elements(By.CSS_SELECTOR, ".diff ins")  # what the update added
    assert len(driver.find_element(By.CSS_SELECTOR, "code.hash").text) == 64
    screenshot(driver, "article")
    assert csp_violations(driver) == []


def test_hostile_titles_stay_text_in_the_browser(session: Session) -> None:
    driver = session.driver
    session.open(f"/articles/{session.filled.hostile}")
    no_alert(driver)
    assert driver.find_element(By.CSS_SELECTOR, "h1.article-title").text == HOSTILE_TITLE
    assert not driver.find_elements(By.CSS_SELECTOR, "main img, main script, main b")
    screenshot(driver, "article-hostile")
    session.open("/?label=all")
    no_alert(driver)
    assert HOSTILE_TITLE in driver.find_element(By.ID, "inbox").text


@pytest.mark.parametrize(
    ("path", "name", "heading"),
    [
        ("/stories", "stories", "Stories"),
        ("/backtest?watchlist=arms", "backtest", "Backtest a watchlist"),
        ("/feeds", "feeds", "Feeds"),
        ("/chart", "chart", "Hits per watchlist per day"),
        ("/articles/424242", "not-found", "404"),
    ],
)
def test_every_other_page_renders(session: Session, path: str, name: str, heading: str) -> None:
    driver = session.driver
    session.open(path)
    assert driver.find_element(By.TAG_NAME, "h1").text == heading
    if name == "chart":
        assert len(driver.find_elements(By.CSS_SELECTOR, "svg.chart polyline.series")) == 2
    screenshot(driver, name)
    assert csp_violations(driver) == []
    no_alert(driver)
