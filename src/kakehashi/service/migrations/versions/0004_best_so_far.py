"""A running job's best feasible objective so far, written with each heartbeat.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("best_so_far", sa.Float(precision=53), nullable=True))


def downgrade() -> None:
    # in place, not alembic's batch mode: on SQLite that copies the table, and the copy would
    # lose the usage ledger's triggers on it (0003); SQLite drops a column itself since 3.35
    op.drop_column("jobs", "best_so_far")
