"""The chat page and the agent inbox in a real browser: Playwright driving Debian's Chromium.

Scenario: a customer asks and sees a streamed, cited answer; tries to inject markup;
makes a sensitive request that is handed over; an agent signs in, claims the conversation
and replies; the customer sees the reply live and, after a reload, the whole conversation.
Feedback: a customer rates an answer with a comment, changes the rating and asks for a person
by keyboard alone, the agent sees the rating and resolves, and the 1-5 question comes up live;
"This solved it" asks it too. Screenshots of both pages are saved under artifacts/.

Test doubles, so that the pages have something readable to show: `FixedKnowledge` stands
in for the knowledge index, and `TypingModel` for the model — it streams a fixed sentence
word by word (the tiny random test model emits only whitespace). The model path itself is
tested with the tiny model in test_serve.py.

Needs Chromium: `apt-get update && apt-get install -y chromium` (tried here when it is
missing and we are root); never `playwright install`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from journey.assistant import Assistant
from journey.models.backends import Generation
from journey.serve import BackgroundServer
from journey.workspace import Workspace
from test_serve import AGENT_KEY, CITATION, QUESTION, SENSITIVE, FixedKnowledge, make_workspace, running

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ANSWER = "You can return an item within 41 days of delivery."
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
AGENT_REPLY = "Hi Ada, I'm Sam from the support team. I'm looking into your refund now."

# Runs before the page's own scripts (and outside its content policy): notes whether a bot
# reply was shown while still being typed, i.e. whether tokens streamed in.
WATCH_STREAMING = """
window.__streamed = false;
new MutationObserver(() => {
  const typing = document.querySelector('.msg-bot[aria-busy="true"] .text');
  if (typing && typing.textContent.trim()) window.__streamed = true;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


class TypingModel:
    """Test double for the model: streams `ANSWER` a word at a time."""

    name = "typing"

    def generate(self, conversations: list, *, max_new_tokens: int) -> list[Generation]:
        return [Generation(ANSWER, 1, 1, 0.0) for _ in conversations]

    def stream(self, messages: list, *, max_new_tokens: int) -> Iterator[str]:
        for word in re.split(r"(?<= )", ANSWER):
            time.sleep(0.05)
            yield word


def typing_assistant(workspace: Workspace) -> Assistant:
    return Assistant(workspace.settings, TypingModel(), setup="augmented", knowledge=FixedKnowledge())


def install_chromium() -> str | None:
    """Install Debian's Chromium if it is missing; the reason it cannot be, or None."""
    if CHROMIUM.exists():
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "Chromium is missing and cannot be installed here: run `apt-get install -y chromium` as root."
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        if result.returncode != 0:
            return f"`{' '.join(command)}` failed: {result.stderr.strip()[-300:]}"
    return None if CHROMIUM.exists() else "apt-get installed chromium but /usr/bin/chromium is missing."


def watch_console(page, problems: list[str]) -> None:
    """Collect a page's script errors and console errors, except the 401 of the deliberately wrong key."""
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: message.type == "error" and "401" not in message.text and problems.append(message.text),
    )


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if reason := install_chromium():
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(tmp_path: Path, tiny_model_dir: Path) -> Iterator[BackgroundServer]:
    with running(make_workspace(tmp_path, tiny_model_dir), typing_assistant) as server:
        yield server


@pytest.fixture
def pages(browser, server: BackgroundServer) -> Iterator[tuple]:
    """The customer's page and the agent's, closed before the server stops; and the problems they logged."""
    problems: list[str] = []  # script errors and content-policy violations, on either page
    customer = browser.new_page(viewport={"width": 900, "height": 860})
    customer.add_init_script(WATCH_STREAMING)
    agent = browser.new_page(viewport={"width": 1280, "height": 860})
    for page in (customer, agent):
        watch_console(page, problems)
    yield customer, agent, problems
    customer.close()
    agent.close()


def test_a_customer_is_answered_handed_over_and_helped_by_an_agent(server: BackgroundServer, pages) -> None:
    from playwright.sync_api import expect

    customer, agent, problems = pages
    ARTIFACTS.mkdir(exist_ok=True)
    customer.goto(f"{server.url}/")
    expect(customer.locator("h1")).to_have_text("Testshop support")

    # A question: the answer streams in, with its source under it.
    customer.fill("#customer-name", "Ada Lovelace")
    customer.fill("#message", QUESTION)
    customer.press("#message", "Enter")
    answer = customer.locator(".msg-bot").last
    expect(answer.locator(".text")).to_have_text(ANSWER)
    expect(answer.locator(".sources li")).to_have_text([CITATION])
    assert customer.evaluate("window.__streamed") is True

    # Markup in a message is shown as text, never run.
    customer.fill("#message", XSS)
    customer.click("#send")
    expect(customer.locator(".msg-customer .text").last).to_have_text(XSS)
    expect(customer.locator(".msg-bot:not([aria-busy])")).to_have_count(2)

    # A sensitive request is handed over; the page says so.
    customer.fill("#message", SENSITIVE)
    customer.press("#message", "Enter")
    expect(customer.locator(".msg-bot .badge")).to_have_text(["Handed over to our support team"])
    expect(customer.locator("#chat-status")).to_have_text("A member of our support team will reply here shortly.")

    # An agent signs in, finds the conversation, reads what the bot used, claims it and replies.
    agent.goto(f"{server.url}/agent")
    agent.fill("#agent", "Sam")
    agent.fill("#key", "not-the-key")
    agent.click("#login-form button")
    expect(agent.locator("#login-error")).to_have_text("The agent key was not accepted.")
    agent.fill("#key", AGENT_KEY)
    agent.click("#login-form button")
    waiting = agent.locator(".queue-item")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Ada Lovelace")
    expect(waiting).to_contain_text("rule:legal")
    waiting.click()
    expect(agent.locator("#agent-transcript .msg")).to_have_count(6)
    expect(agent.locator("#agent-transcript .msg-customer .text").nth(1)).to_have_text(XSS)
    expect(agent.locator("details.passages").first).to_contain_text("Returns policy")
    agent.click("#claim")
    expect(agent.locator("#meta")).to_contain_text("Claimed by Sam")
    agent.fill("#reply", AGENT_REPLY)
    agent.click("#send-reply")
    expect(agent.locator("#agent-transcript .msg-agent .text")).to_have_text(AGENT_REPLY)

    # The customer sees the agent join and reply, live; the bot stays silent.
    expect(customer.locator(".notice").last).to_have_text("Sam from our support team joined.")
    expect(customer.locator(".msg-agent .text")).to_have_text(AGENT_REPLY)
    customer.fill("#message", "Thank you, Sam!")
    customer.press("#message", "Enter")
    expect(agent.locator("#agent-transcript .msg-customer").last).to_contain_text("Thank you, Sam!")
    customer.screenshot(path=str(ARTIFACTS / "serve-chat-page.png"))
    agent.locator("details.passages").first.locator("summary").click()
    agent.screenshot(path=str(ARTIFACTS / "serve-agent-inbox.png"))
    expect(customer.locator(".msg-bot")).to_have_count(3)

    # The injected markup created no element and ran nothing, on either page.
    for page in (customer, agent):
        assert page.locator(".transcript img, .transcript script").count() == 0
        assert page.evaluate("window.__xss") is None

    # Reopening the page resumes the conversation.
    customer.reload()
    expect(customer.locator(".msg")).to_have_count(8)
    expect(customer.locator("#chat-status")).to_have_text("You're chatting with our support team.")
    expect(customer.locator("#name-row")).to_be_hidden()
    assert problems == []


def tab_to(page, selector: str, *, key: str = "Tab", limit: int = 30) -> None:
    """Press `key` until the focus is on `selector`: reached with the keyboard alone, as a person would."""
    for _ in range(limit):
        if page.evaluate("selector => document.activeElement.matches(selector)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{limit} presses of {key} did not reach {selector}")


def test_a_customer_rates_an_answer_asks_for_a_person_and_scores_the_agents_help(
    server: BackgroundServer, pages
) -> None:
    from playwright.sync_api import expect

    customer, agent, problems = pages
    ARTIFACTS.mkdir(exist_ok=True)
    customer.goto(f"{server.url}/")
    customer.fill("#customer-name", "Grace Hopper")
    customer.fill("#message", QUESTION)
    customer.press("#message", "Enter")
    answer = customer.locator(".msg-bot").last
    expect(answer.locator(".text")).to_have_text(ANSWER)

    # A thumb up with a comment (typed, sent with Enter); then, by keyboard only, a change of mind.
    helpful, unhelpful = (
        answer.get_by_role("button", name="Helpful", exact=True),
        answer.get_by_role("button", name="Not helpful"),
    )
    expect(helpful).to_have_attribute("aria-pressed", "false")
    helpful.click()
    expect(helpful).to_have_attribute("aria-pressed", "true")
    comment = answer.get_by_label("Comment on this answer (optional)")
    expect(comment).to_be_focused()
    customer.keyboard.type("<b>Clear</b>, but it is 30 days")
    customer.keyboard.press("Enter")
    expect(answer.locator(".feedback-thanks")).to_have_text("Thanks — your comment was sent.")
    tab_to(customer, ".msg-bot .thumb[data-value='-1']", key="Shift+Tab")
    customer.keyboard.press("Space")
    expect(unhelpful).to_have_attribute("aria-pressed", "true")
    expect(helpful).to_have_attribute("aria-pressed", "false")

    # "Talk to a person", by keyboard: the conversation waits for an agent and the button goes away.
    tab_to(customer, "#talk-to-person")
    customer.keyboard.press("Enter")
    expect(customer.locator("#chat-status")).to_have_text("A member of our support team will reply here shortly.")
    expect(customer.locator("#talk-to-person")).to_be_hidden()

    # The agent sees why it waits and how the customer rated the answer, replies and resolves it.
    agent.goto(f"{server.url}/agent")
    agent.fill("#agent", "Sam")
    agent.fill("#key", AGENT_KEY)
    agent.click("#login-form button")
    waiting = agent.locator(".queue-item")
    expect(waiting).to_contain_text("Reason: customer")
    waiting.click()
    rating = agent.locator("#agent-transcript .msg-bot .rating")
    expect(rating).to_contain_text("Customer rated this answer 👎 not helpful")
    expect(rating.locator("q")).to_have_text("<b>Clear</b>, but it is 30 days")
    agent.click("#claim")
    agent.fill("#reply", AGENT_REPLY)
    agent.click("#send-reply")
    expect(customer.locator(".msg-agent .text")).to_have_text(AGENT_REPLY)
    expect(customer.locator(".msg-agent .feedback")).to_have_count(0)  # only the bot's answers are rated
    agent.click("#resolve")

    # The agent's resolution brings the 1-5 question up live; the customer answers it by keyboard.
    survey = customer.locator(".survey")
    expect(survey).to_be_visible()
    expect(customer.locator("#chat-status")).to_have_text("This conversation was resolved. Write again any time.")
    tab_to(customer, ".survey .score[data-score='4']", key="Shift+Tab")
    customer.keyboard.press("Space")
    expect(survey.get_by_role("button", name="4 of 5: satisfied")).to_have_attribute("aria-pressed", "true")
    expect(survey.locator(".survey-thanks")).to_contain_text("Thank you!")
    expect(agent.locator("#satisfaction")).to_have_text("Customer satisfaction: 4 / 5")
    customer.screenshot(path=str(ARTIFACTS / "serve-chat-feedback.png"))
    agent.screenshot(path=str(ARTIFACTS / "serve-agent-feedback.png"))

    # After a reload the page shows what the customer chose.
    customer.reload()
    expect(customer.locator(".msg-bot").first.get_by_role("button", name="Not helpful")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(customer.locator(".survey .score[aria-pressed='true']")).to_have_text("4")
    assert customer.locator(".transcript b").count() == 0 and agent.locator(".transcript b").count() == 0

    # A new conversation the bot's answer solves: "This solved it" asks the question too.
    customer.click("#new-chat")
    expect(customer.locator(".survey")).to_have_count(0)
    customer.fill("#message", QUESTION)
    customer.press("#message", "Enter")
    expect(customer.locator(".msg-bot .text")).to_have_text(ANSWER)
    customer.get_by_role("button", name="This solved it").click()
    expect(customer.locator(".survey")).to_be_visible()
    expect(customer.locator(".survey .score").first).to_be_focused()
    customer.get_by_role("button", name="5 of 5: very satisfied").click()
    expect(customer.locator(".survey .score[aria-pressed='true']")).to_have_text("5")
    assert problems == []
