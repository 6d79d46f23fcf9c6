"""Terminal rendering of replies: `journey ask` prints one, `journey chat` runs a conversation."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from journey.assistant.pipeline import Assistant, Reply
from journey.errors import UserError


def print_reply(console: Console, reply: Reply) -> None:
    """The answer, then hand-over reason, sources and timing in a dim footer."""
    console.print(Text(reply.answer, style="bold yellow" if reply.handed_over else ""))
    print_footer(console, reply)


def print_footer(console: Console, reply: Reply) -> None:
    for warning in reply.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))
    if reply.handed_over:
        console.print(f"[dim]handed over to a human ({reply.reason})[/]")
    for citation in reply.citations:
        console.print(Text(f"  source: {citation}", style="dim"), highlight=False)
    console.print(
        f"[dim]{reply.setup} · {reply.latency_s:.2f} s · {reply.completion_tokens} tokens[/]", highlight=False
    )


def run_chat(console: Console, assistant: Assistant) -> None:
    """An interactive chat with streamed tokens and history; ends on /quit, EOF or Ctrl-C."""
    console.print(f"[bold]journey chat[/] — set-up [cyan]{assistant.setup}[/]. /reset clears history, /quit leaves.")
    history: list[dict[str, str]] = []
    while True:
        try:
            question = console.input("[bold green]you>[/] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if question in ("/quit", "/exit"):
            return
        if question == "/reset":
            history.clear()
            console.print("[dim]history cleared[/]")
            continue
        if not question:
            continue
        console.print("[bold cyan]bot>[/] ", end="")
        try:
            reply = _stream_reply(console, assistant, question, history)
        except UserError as exc:
            console.print(Text(str(exc), style="red"))
            continue
        history += [{"role": "user", "content": reply.question}, {"role": "assistant", "content": reply.answer}]


def _stream_reply(console: Console, assistant: Assistant, question: str, history: list[dict[str, str]]) -> Reply:
    streamed = []
    for item in assistant.stream(question, history):
        if isinstance(item, Reply):
            console.print()
            if item.handed_over and "".join(streamed).strip() != item.answer:
                console.print(Text(item.answer, style="bold yellow"))
            print_footer(console, item)
            return item
        streamed.append(item)
        console.print(item, end="", highlight=False, markup=False)
    raise RuntimeError("the assistant stream ended without a reply")
