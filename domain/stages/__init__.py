"""The lifecycle stage machine.

vocabulary (Stage), models (StageChange), config (the TOML config and presets), transitions
(the allowed moves), rules (the pure classifier), dispatcher (one move and its hooks),
hooks (side effects), service (the fast path), setwise + decay (bulk passes), replay,
queries (stage at a date, funnel, history).
"""
