"""Retention and destruction use cases on top of the pure engine in ``retention``.

Modules: ``rules`` (rules in the database, versioned), ``events`` (trigger events),
``holds`` (legal holds and unsettled claims), ``facts`` (engine facts from rows),
``planning`` (the plan on any day), ``batches`` (disposition batches: create, review,
approve, cancel), ``destruction`` (execution as a recoverable sequence: ``decision``
re-checks and commits what will be destroyed, ``plans`` holds that decision, ``completion``
writes the ``ledger`` entry, crypto-shreds and finishes stubs, records, certificate and
index, and recovers interrupted executions; ``replay`` re-applies the ledger after a
restore), ``certificate_files`` (signing key, files, offline verification), ``erasure``
(customer erasure requests), ``appraisal`` (the periodic appraisal and notifications),
``access`` (roles, the hold check other services call, erasure restrictions).

Every use case takes the acting user explicitly and audits what it does; the engine's
decisions are never re-implemented here.
"""
