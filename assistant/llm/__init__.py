"""Local language models that write answers: one private module per backend.

A backend is a `swguide.protocols.Generator`: it streams the text of a reply to chat
messages and counts tokens for the context budget. `select.choose` builds the one the
settings ask for.
"""
