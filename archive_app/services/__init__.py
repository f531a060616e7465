"""Use cases. Each function takes a database session and, where someone acts, the acting
``User`` explicitly; it checks permissions, does the work, and writes the audit trail.
Services never read Flask's request, session or ``current_app``."""
