"""The chat page and the agent inbox in a real browser: Playwright driving Debian's Chromium.

Scenario: a customer asks and sees a streamed, cited answer; tries to inject markup;
makes a sensitive request that is handed over; an agent signs in, claims the conversation
and replies; the customer sees the reply live and, after a reload, the whole conversation.
Screenshots of both pages are saved under artifacts/.

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
