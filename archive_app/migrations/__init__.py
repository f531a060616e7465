"""Alembic migrations for the application schema; run by ``archive init``."""
