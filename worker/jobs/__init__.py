"""RQ job functions: thin wrappers that take ids, open their own unit of work and commit once."""
