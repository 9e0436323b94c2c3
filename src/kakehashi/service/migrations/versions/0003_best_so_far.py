"""A running job's best feasible objective so far, written with each heartbeat.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("best_so_far", sa.Float(precision=53), nullable=True))


def downgrade() -> None:
    # batch mode: SQLite before 3.35 cannot drop a column in place (the table is copied)
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("best_so_far")
