"""Retention and destruction use cases on top of the pure engine in ``retention``.

Modules: ``rules`` (rules in the database, versioned), ``events`` (trigger events),
``holds`` (legal holds and unsettled claims), ``facts`` (engine facts from rows),
``planning`` (the plan on any day), ``batches`` (disposition batches: create, review,
approve, cancel), ``destruction`` (execution: re-check, crypto-shred, index purge, stubs,
certificate), ``certificates`` (signing key, files, offline verification), ``erasure``
(customer erasure requests), ``appraisal`` (the periodic appraisal and notifications),
``access`` (roles, the hold check other services call, erasure restrictions).

Every use case takes the acting user explicitly and audits what it does; the engine's
decisions are never re-implemented here.
"""
