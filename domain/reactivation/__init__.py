"""Waking sleeping customers: an exclusive offer, a response window, then reactivated or lost."""
