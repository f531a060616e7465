"""HTTP front end: blueprints that translate requests into service calls and render."""
