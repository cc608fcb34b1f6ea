"""Shipped lifecycle config presets, one TOML file per business model."""
