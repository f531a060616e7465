"""The ``archive`` command line (contract: docs in the design folder, ``cli.md``).

Every command calls the same services as the web UI. ``--json`` prints exactly one JSON
document on stdout; human output goes to the terminal. Exit 0 on success, 1 on a refused
or failed operation (one line on stderr, never a traceback), 2 on a usage error.
"""

from archive_app.cli.main import main

__all__ = ["main"]
