"""``python -m archive_app`` is the same as the ``archive`` command."""

from archive_app.cli import main

main()
