"""Customer feedback (a thumb per bot answer, a 1-5 satisfaction score per conversation) and hand-over teams.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _time(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def _conversation_fk() -> sa.Column:
    return sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False, index=True)


def upgrade() -> None:
    # One row per rated bot answer: rating again replaces the row (the last rating counts).
    op.create_table(
        "answer_ratings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _conversation_fk(),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), nullable=False, unique=True),
        sa.Column("value", sa.Integer, nullable=False),  # +1 thumbs up, -1 thumbs down
        sa.Column("comment", sa.Text),
        _time("created_at"),
        _time("updated_at"),
    )
    # One row per resolved conversation.
    op.create_table(
        "satisfaction",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False, unique=True),
        sa.Column("score", sa.Integer, nullable=False),  # 1..5
        sa.Column("comment", sa.Text),
        _time("created_at"),
        _time("updated_at"),
    )
    with op.batch_alter_table("handovers") as batch:
        batch.add_column(sa.Column("team", sa.String(64)))
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    with op.batch_alter_table("handovers") as batch:
        batch.drop_column("team")
    op.drop_table("satisfaction")
    op.drop_table("answer_ratings")
