"""Jinja templates of the web UI, shipped as package data."""
