"""Fixtures of the attack tests: the retention app fixtures (seeded rules, real documents)."""

from tests.retention_app.conftest import container, people  # noqa: F401
