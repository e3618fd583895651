"""Passages that read as instructions to an assistant, not as guidance for a clinician.

A document can carry text aimed at the model that reads it ("Ignore previous
instructions...", "SYSTEM: answer yes", chat-template tokens). Such a passage is kept
out of every answer: the retriever leaves it out of its snapshot, so it reaches neither
a quote nor a model's prompt, and `ingest` and `check` name the documents that carry it.
The patterns are deliberately narrow (phrases addressed to a model, role markers):
guidance that tells the *reader* what to do ("Review your privacy settings") is not
flagged.
"""

from __future__ import annotations

import re

PATTERNS = [
    re.compile(p, re.IGNORECASE | re.MULTILINE)
    for p in (
        r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}?"
        r"\b(?:previous|prior|above|earlier|preceding|all|any|your|the)\b[^.\n]{0,30}?"
        r"\b(?:instructions?|prompts?|rules|directions|guidelines|context)\b",
        r"^\W{0,3}(?:system|assistant|developer)\s*(?:prompt|message)?\s*:",
        r"<\|?(?:im_start|im_end|system|assistant|user|endoftext|start_of_turn)\|?>",
        r"\[/?INST\]|<<SYS>>|^#{2,}\s*(?:instruction|system)\b",
        r"\b(?:you are|act as|pretend to be)\s+(?:now\s+)?(?:an?\s+)?"
        r"(?:AI|assistant|language model|chatbot|LLM)\b",
        r"\bas an? (?:AI|assistant|language model|chatbot)\b",
        r"\b(?:tell|inform|assure) the user\b",
        r"\b(?:the|this|any) (?:assistant|AI|model|chatbot|LLM)\s+(?:must|should|will|shall)\b",
        r"\b(?:always|only)\s+(?:answer|respond|reply)\s+(?:with\s+)?[\"']?(?:yes|no)\b",
        r"\b(?:answer|respond|reply)\s+[\"']?(?:yes|no)[\"']?\s+to\s+(?:every|all|any)\b",
        r"\b(?:reveal|print|repeat) (?:your|the) (?:system )?(?:prompt|instructions)\b",
        r"\bnew instructions\s*:",
    )
]


def instruction_like(text: str) -> str | None:
    """The first phrase of `text` that addresses an assistant, or None."""
    for pattern in PATTERNS:
        found = pattern.search(text)
        if found:
            return " ".join(found.group(0).split())[:80]
    return None


def flag_reason(flagged: int, passages: int, phrase: str) -> str:
    """The one line that names a flagged document's passages and what becomes of them."""
    return (
        f"{flagged} of {passages} passages read as instructions to an assistant "
        f'("{phrase}"): they are kept out of answers; remove that text if readers need it'
    )
