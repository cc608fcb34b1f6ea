"""Lifecycle domain: models, rules and services. Imports nothing from api/, bot/ or worker/."""
