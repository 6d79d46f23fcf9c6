"""Who resolved a conversation and when: an agent closing a hand-over, or the customer saying the bot's answer
solved it. A conversation may be rated 1-5 once it has been resolved, even after the customer writes again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("resolved_by", sa.String(16)))  # bot | agent


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("resolved_by")
        batch.drop_column("resolved_at")
