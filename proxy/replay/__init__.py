"""Replaying a capture against a live backend or charger (``ocppscope replay --target``)."""
