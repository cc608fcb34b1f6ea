"""Lifecycle triggers: time- and behaviour-based reasons that become suggestions for sales staff."""
