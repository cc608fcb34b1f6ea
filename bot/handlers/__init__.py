"""Conversation flows, one module each: they turn a staff member's request into a Reply."""
