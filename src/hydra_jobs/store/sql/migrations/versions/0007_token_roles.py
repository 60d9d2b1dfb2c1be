"""Token roles (viewer, operator, editor, owner) and the audit filters' indexes.

Every existing token could do everything in its domain: it becomes an `owner`, so nothing that
worked stops working. New tokens are given a role explicitly (the API requires one).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="owner"))
    op.create_index("ix_audit_domain_actor_id", "audit", ["domain", "actor", "id"])
    op.create_index(
        "ix_audit_domain_object_id", "audit", ["domain", "object_type", "object_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_audit_domain_object_id", table_name="audit")
    op.drop_index("ix_audit_domain_actor_id", table_name="audit")
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("role")
