"""Conversations, messages, hand-overs, agent actions.

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _time(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _conversation_fk() -> sa.Column:
    return sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False, index=True)


def upgrade() -> None:
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customer", sa.String(120), nullable=False),
        sa.Column("setup", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("agent", sa.String(120)),
        _time("created_at"),
        _time("updated_at"),
    )
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _conversation_fk(),
        sa.Column("reason", sa.String(120), nullable=False),
        _time("created_at"),
        sa.Column("claimed_by", sa.String(120)),
        _time("claimed_at", nullable=True),
        _time("closed_at", nullable=True),
        sa.Column("outcome", sa.String(16)),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _conversation_fk(),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("author", sa.String(120)),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("client_id", sa.String(64)),
        sa.Column("meta", sa.JSON),
        _time("created_at"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_messages_client_id"),
    )
    op.create_table(
        "agent_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _conversation_fk(),
        sa.Column("handover_id", sa.Integer, sa.ForeignKey("handovers.id")),
        sa.Column("agent", sa.String(120), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        _time("created_at"),
    )


def downgrade() -> None:
    for table in ("agent_actions", "messages", "handovers", "conversations"):
        op.drop_table(table)
