"""Micro-batched generation: concurrent requests share decode steps, yet each row gets exactly the tokens it
gets alone (greedy), stops on its own, streams in order, fails alone; `journey serve` answers concurrent chats
through it. All on the tiny random model (tests/conftest.py)."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import LogitsProcessorList, MistralConfig, MistralForCausalLM, SuppressTokensLogitsProcessor

from journey.assistant import Assistant, load_assistant
from journey.models.backends import TransformersBackend
from journey.models.batching import BatchedBackend, BatchingEngine, BatchingUnsupported, EngineClosed
from journey.models.loading import load_model
from journey.serve.batching import batch_generation
from journey.workspace import Workspace
from test_serve import QUESTION, FixedKnowledge, bot_replies, client, make_workspace, running, say, start, wait_for

QUESTIONS = [
    "Hi",
    "Where is my order?",
    "How long do I have to return an item, and who pays for shipping back?",
    "What does shipping cost?",
]


@pytest.fixture(scope="module")
def backend(tiny_model_dir: Path) -> TransformersBackend:
    model, tokenizer = load_model(str(tiny_model_dir))
    return TransformersBackend(model, tokenizer)


@pytest.fixture(scope="module")
def engine(backend: TransformersBackend) -> Iterator[BatchingEngine]:
    engine = BatchingEngine(backend.model, max_batch=8, window_s=0.02)
    yield engine
    engine.close()


def prompt(backend: TransformersBackend, question: str) -> list[int]:
    return backend.encode([{"role": "user", "content": question}], max_new_tokens=200)[0]


def alone(backend: TransformersBackend, ids: list[int], max_new_tokens: int) -> list[int]:
    """Greedy tokens of `ids` generated on their own by transformers' `generate`, up to the first stop token."""
    with torch.inference_mode():
        output = backend.model.generate(torch.tensor([ids]), max_new_tokens=max_new_tokens, do_sample=False)
    new = output[0, len(ids) :].tolist()
    stops = set(backend.model.generation_config.eos_token_id)
    return next((new[:i] for i, token in enumerate(new) if token in stops), new)


def test_batched_greedy_rows_equal_each_prompt_generated_alone(
    backend: TransformersBackend, engine: BatchingEngine
) -> None:
    prompts = [prompt(backend, q) for q in QUESTIONS]
    assert len({len(p) for p in prompts}) == len(prompts)  # different lengths: left padding is exercised
    streams = [engine.submit(p, 30) for p in prompts]  # all queued before any is read: one batch
    assert [list(s) for s in streams] == [alone(backend, p, 30) for p in prompts]


def test_each_row_stops_at_its_own_limit_or_stop_token(backend: TransformersBackend, engine: BatchingEngine) -> None:
    stopping = prompt(backend, "Where is my order?")  # the tiny model ends this reply with its stop token
    expected = alone(backend, stopping, 200)
    assert 20 < len(expected) < 200
    long_one = prompt(backend, "Hi")
    streams = [engine.submit(stopping, 200), engine.submit(long_one, 3), engine.submit(long_one, 11)]
    got = [list(s) for s in streams]
    assert got == [expected, alone(backend, long_one, 3), alone(backend, long_one, 11)]
    assert [len(g) for g in got[1:]] == [3, 11]


def test_requests_join_a_running_batch_and_still_get_their_own_tokens(
    backend: TransformersBackend, engine: BatchingEngine
) -> None:
    first, second = prompt(backend, QUESTIONS[2]), prompt(backend, QUESTIONS[3])
    stamps: dict[str, list[float]] = {"first": [], "second": []}
    tokens: dict[str, list[int]] = {"first": [], "second": []}
    started = threading.Event()

    def read(name: str, stream: Iterator[int]) -> None:
        for token in stream:
            tokens[name].append(token)
            stamps[name].append(time.perf_counter())
            started.set()

    reader = threading.Thread(target=read, args=("first", engine.submit(first, 150)))
    reader.start()
    assert started.wait(10)
    read("second", engine.submit(second, 20))  # submitted while the first one is generating
    reader.join()
    assert stamps["second"][0] < stamps["first"][-1]  # it joined the running batch instead of waiting
    assert tokens == {"first": alone(backend, first, 150), "second": alone(backend, second, 20)}


def test_tokens_stream_in_order_as_text_pieces(backend: TransformersBackend, engine: BatchingEngine) -> None:
    batched = BatchedBackend(backend, engine)
    messages = [{"role": "user", "content": QUESTION}]
    pieces = list(batched.stream(messages, max_new_tokens=25))
    assert len(pieces) > 1  # streamed, not one block
    assert "".join(pieces).strip() == "".join(backend.stream(messages, max_new_tokens=25)).strip()
    [generation] = batched.generate([messages], max_new_tokens=25)
    assert generation.text == "".join(pieces).strip() and generation.completion_tokens == 25


def test_a_failing_or_abandoned_request_does_not_harm_the_others(
    backend: TransformersBackend, engine: BatchingEngine
) -> None:
    good = [prompt(backend, q) for q in QUESTIONS[:2]]
    bad = [backend.model.config.vocab_size + 5]  # not a token of this model: its prompt cannot be embedded
    streams = [engine.submit(good[0], 20), engine.submit(bad, 20), engine.submit(good[1], 20)]
    abandoned = engine.submit(good[0], 150)
    next(abandoned)
    abandoned.close()  # the customer went away: its row leaves at the next step
    with pytest.raises(IndexError):
        list(streams[1])
    assert [list(streams[0]), list(streams[2])] == [alone(backend, good[0], 20), alone(backend, good[1], 20)]
    assert list(engine.submit(good[1], 5)) == alone(backend, good[1], 5)  # and the engine carries on


def test_closing_ends_waiting_requests_and_the_thread(backend: TransformersBackend) -> None:
    engine = BatchingEngine(backend.model, max_batch=2)
    running_one = engine.submit(prompt(backend, "Hi"), 200)
    next(running_one)
    engine.close()
    with pytest.raises(EngineClosed):
        list(running_one)
    assert not engine._thread.is_alive()
    with pytest.raises(EngineClosed):
        engine.submit([1, 2], 3)


def test_with_a_temperature_rows_sample_within_their_limits(backend: TransformersBackend) -> None:
    engine = BatchingEngine(backend.model, max_batch=4, temperature=0.8)
    torch.manual_seed(0)
    try:
        got = [list(s) for s in [engine.submit(prompt(backend, q), 40) for q in QUESTIONS]]
    finally:
        engine.close()
    greedy = [alone(backend, prompt(backend, q), 40) for q in QUESTIONS]
    assert all(0 < len(g) <= 40 and max(g) < backend.model.config.vocab_size for g in got)
    assert got != greedy  # it sampled


def test_a_lora_wrapped_model_batches_the_same(backend: TransformersBackend) -> None:
    lora = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)  # random: it changes outputs
    wrapped = TransformersBackend(get_peft_model(backend.model, lora).eval(), backend.tokenizer)
    try:
        engine = BatchingEngine(wrapped.model, max_batch=4)
        prompts = [prompt(wrapped, q) for q in QUESTIONS]
        assert [list(s) for s in [engine.submit(p, 15) for p in prompts]] == [alone(wrapped, p, 15) for p in prompts]
        engine.close()
    finally:
        wrapped.model.unload()  # the module-wide model is shared by the other tests


def test_a_model_it_cannot_batch_is_served_one_chat_at_a_time(
    backend: TransformersBackend, tmp_path: Path, tiny_model_dir: Path
) -> None:
    config = MistralConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, sliding_window=8, eos_token_id=2,
    )  # fmt: skip
    sliding = MistralForCausalLM(config).eval()
    with pytest.raises(BatchingUnsupported, match="full attention"):
        BatchingEngine(sliding, max_batch=2)
    workspace = Workspace.load(make_workspace(tmp_path, tiny_model_dir))
    plain = TransformersBackend(sliding, backend.tokenizer, name="sliding")
    assistant = Assistant(workspace.settings, plain, setup="as-is")
    assert batch_generation([assistant], workspace.settings.serve) == [] and assistant.backend is plain


def test_the_batch_size_is_measured_and_logged_when_not_set(backend: TransformersBackend, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="journey.models.batching"):
        engine = BatchingEngine(backend.model)
    engine.close()
    record = next(r for r in caplog.records if hasattr(r, "max_batch"))
    assert record.max_batch == engine.max_batch and 1 <= engine.max_batch <= 64
    assert set(record.tokens_per_s_by_rows) >= {1, 2}


def test_journey_serve_answers_concurrent_chats_in_one_batch_and_stops_it(tmp_path: Path, tiny_model_dir: Path) -> None:
    root = make_workspace(tmp_path, tiny_model_dir, max_batch=8)
    served: list[Assistant] = []

    def assistant(workspace: Workspace) -> Assistant:
        backend = load_assistant(workspace, "as-is").backend
        served.append(Assistant(workspace.settings, backend, setup="augmented", knowledge=FixedKnowledge()))
        return served[-1]

    questions = [f"{q} (customer {i})" for i, q in enumerate(QUESTIONS * 3)]
    expected = [reply.answer for reply in assistant(Workspace.load(root)).answer_batch([(q, None) for q in questions])]
    with running(root, assistant) as server, client(server) as http:
        assert isinstance(served[-1].backend, BatchedBackend) and engine_threads()
        conversations = [start(http, f"C{i}") for i in range(len(questions))]
        with httpx.Client(base_url=server.url, timeout=30) as other:
            threads = [
                threading.Thread(target=say, args=(other, c, q)) for c, q in zip(conversations, questions, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        answers = [bot_replies(http, c, 1)[0]["content"] for c in conversations]
    assert answers == expected
    assert not engine_threads()  # stopped with the server


def engine_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "journey-batch-as-is"]


@pytest.mark.integration
def test_smollm2_batched_rows_equal_each_chat_generated_alone() -> None:
    model, tokenizer = load_model("smollm2-135m-instruct")
    smol = TransformersBackend(model, tokenizer)
    engine = BatchingEngine(model, max_batch=4)
    try:
        prompts = [prompt(smol, q) for q in QUESTIONS]
        streams = [engine.submit(p, 16) for p in prompts]
        assert [list(s) for s in streams] == [alone(smol, p, 16) for p in prompts]
    finally:
        engine.close()


def test_ctrl_c_stops_journey_serve_promptly_while_chats_are_being_generated(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    root = make_workspace(tmp_path, tiny_model_dir, max_batch=8)
    config = root / "journey.toml"
    config.write_text(config.read_text().replace("max_new_tokens = 8", "max_new_tokens = 200"), encoding="utf-8")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "JOURNEY_API_KEYS": "test-key"}
    command = [sys.executable, "-m", "journey", "serve", "-w", str(root), "--setup", "as-is", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            wait_for(lambda: _up(http), timeout=120)
            for i in range(12):
                say(http, start(http, f"C{i}"), QUESTION)
            wait_for(lambda: http.get("/healthz").json()["pending"] > 0)
    finally:
        process.send_signal(signal.SIGINT)
        began = time.monotonic()
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0 and time.monotonic() - began < 15, stderr
    assert "Traceback" not in stderr


def _up(http: httpx.Client) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_grounded_rows_keep_to_their_own_facts_as_generate_does(backend: TransformersBackend) -> None:
    """Each row's grounding processor sees its own prompt and tokens: batched replies equal the grounded
    replies TransformersBackend gives each conversation alone, and grounding changes what is said."""
    grounded = TransformersBackend(backend.model, backend.tokenizer, grounded=True)
    conversations = [
        [{"role": "user", "content": f"Order {n} costs 4.85 and ships in 3 days. 0123456789?"}] for n in (41, 7)
    ]
    engine = BatchingEngine(backend.model, max_batch=4)
    try:
        batched = BatchedBackend(grounded, engine).generate(conversations, max_new_tokens=30)
    finally:
        engine.close()
    expected = [grounded.generate([c], max_new_tokens=30)[0].text for c in conversations]
    assert [g.text for g in batched] == expected


def test_a_rows_processor_changes_only_that_row_as_in_generate(backend: TransformersBackend) -> None:
    ids = prompt(backend, QUESTIONS[0])
    free = alone(backend, ids, 10)
    suppress = SuppressTokensLogitsProcessor(free[:3], device="cpu")  # the row's own first words, forbidden
    engine = BatchingEngine(backend.model, max_batch=4)
    try:
        changed, untouched = engine.submit(ids, 10, suppress), engine.submit(ids, 10)
        got = [list(changed), list(untouched)]
    finally:
        engine.close()
    output = backend.model.generate(
        torch.tensor([ids]), max_new_tokens=10, do_sample=False, logits_processor=LogitsProcessorList([suppress])
    )
    assert got == [output[0, len(ids) :].tolist()[: len(got[0])], free]
    assert got[0] != free
