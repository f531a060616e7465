"""The application's side of full-text search; the engines are the ``indexing.search`` library.

- :mod:`.backend`: the backend the settings name, and its errors as application errors.
- :mod:`.entries`: what an index entry holds (never the text itself) and which documents
  have one.
- :mod:`.updates`: the one way into the index. Use cases record in their unit of work
  which documents to reindex or remove; one committer applies it when the transaction
  commits (removals before it, so nothing destroyed stays findable).
- :mod:`.maintenance`: rebuilding and checking the whole index.
- :mod:`.queries`: the search use case (permissions, facets, snippets from decrypted
  text at query time).
"""
