"""Alembic migrations shared by SQLite and PostgreSQL, run programmatically at start-up."""
