"""The grounding guard's checks as pure functions of text: word coverage, and the hard
checks a claim must pass against the sentences it cites (see `assistant.guard.guard`
for the whole rule)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from swguide.text import NUMBER, TOKEN, sentence_spans, stems

NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "cannot",
        "can't",
        "won't",
        "don't",
        "doesn't",
        "didn't",
        "isn't",
        "aren't",
        "shouldn't",
        "mustn't",
        "without",
        "nor",
        "neither",
        "none",
        "nothing",
        "refrain",
        "refrains",
        "refrained",
        "refraining",
        "avoid",
        "avoids",
        "avoided",
        "avoiding",
        "prohibited",
        "forbidden",
        "against",
        "stop",
        "stops",
        "stopping",
        "refuse",
        "refuses",
        "refusing",
        "decline",
        "declines",
        "cease",
    ]
)
DIRECTIVES = {
    "obligation": frozenset(
        [
            "must",
            "shall",
            "required",
            "require",
            "requires",
            "mandatory",
            "imperative",
            "essential",
            "obligated",
            "need",
            "needs",
        ]
    ),
    "advice": frozenset(
        [
            "should",
            "ought",
            "advised",
            "advises",
            "recommend",
            "recommended",
            "recommends",
            "urges",
            "urged",
        ]
    ),
}
DIRECTIVE_FROM = {"obligation": {"obligation"}, "advice": {"advice", "obligation"}}
MODAL_VERBS = frozenset(["can", "may", "will"])
# Skipped between a modal and its verb: "may also use" reads as "may use".
ADVERBS = frozenset(["also", "still", "even", "then", "potentially", "sometimes", "often"])
# "may be", "can have": too common to say anything about what is permitted.
AUXILIARIES = frozenset(["be", "have", "do", "not"])
DETERMINERS = frozenset(["the", "a", "an", "no", "any", "this", "that"])
PERMISSION_WORDS = frozenset(
    [
        "allowed",
        "permitted",
        "permissible",
        "acceptable",
        "okay",
        "ok",
        "fine",
        "appropriate",
        "encouraged",
    ]
)
STANCE = frozenset(
    [
        "optional",
        "unimportant",
        "unnecessary",
        "irrelevant",
        "insignificant",
        "harmless",
        "safe",
        "always",
        "only",
        "every",
        "all",
        "alone",
        "everyone",
        "anyone",
        "prevent",
        "prevents",
        "eliminate",
        "eliminates",
        "guarantee",
        "guarantees",
        "expose",
        "exposes",
        "cause",
        "causes",
        "reduce",
        "reduces",
        "increase",
        "increases",
        "improve",
        "improves",
        "worsen",
        "worsens",
    ]
)
NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
    "seven": "7", "eight": "8", "nine": "9", "ten": "10", "eleven": "11", "twelve": "12",
    "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
    "ninety": "90", "hundred": "100", "once": "1", "twice": "2", "half": "0.5",
    "dozen": "12", "daily": "daily", "weekly": "weekly", "monthly": "monthly",
    "quarterly": "quarterly", "annually": "annually", "yearly": "annually",
}  # fmt: skip
HAVE_TO = re.compile(r"\b(?:have|has|had|got)\s+to\b", re.IGNORECASE)
VERDICT = re.compile(r"^(?:yes|no)\b[,.!;:]?", re.IGNORECASE)
NEGATION_SCOPE = 5


def coverage(claim: str, cited: str) -> float:
    """The share of the claim's content words (stemmed) that the cited text holds."""
    wanted = set(stems(claim))
    if not wanted:
        return 1.0
    return len(wanted & set(stems(cited))) / len(wanted)


def hard_checks(claim: str, cited: str, closest: list[str], question: str) -> list[str]:
    """The hard checks a claim fails against its cited text and closest sentences."""
    near = " ".join(closest)
    reasons = _verdict_and_numbers(claim, cited)
    names = [n for n in _names(claim) if not _mentions(f"{closest[0]} {question}", n)]
    if names:
        reasons.append(f"{listed(names)} not in the closest cited sentence")
    reasons += _directives(claim, near)
    missing = sorted(_stances(claim) - _stances(near))
    if missing:
        reasons.append(f"{listed(missing)} not in the cited sentences")
    reasons += _negation(claim, closest)
    return reasons


def precise_checks(claim: str, passage: str, question: str = "") -> list[str]:
    """The hard checks kept beside the learned verifier, each against the whole passage
    that supports the claim best (narrower than the heuristic's closest sentences, so
    they fire only on what the passage lacks outright): a bare verdict; a number or
    frequency; an obligation ("must", "have to"); a word of permission ("acceptable");
    a stance word ("optional", "prevents"); a name or acronym that neither the
    passage's sentences the claim lines up with best nor the question hold ("ASWB has
    developed …" where NASW did, and ASWB is named elsewhere)."""
    return [
        _precise_reason(k, missing) for k, missing in precise_failures(claim, passage, question)
    ]


PRECISE = {
    "verdict": "answers yes or no, which the passages do not",
    "number": "number or frequency",
    "obligation": "'obligation' wording not in the cited passage",
    "permission": "word of permission",
    "stance": "stance word",
    "name": "name",
}


def _precise_reason(kind: str, missing: list[str]) -> str:
    if kind in ("verdict", "obligation"):
        return PRECISE[kind]
    return f"{PRECISE[kind]} {listed(missing)} not in the cited passage"


def precise_failures(claim: str, passage: str, question: str) -> list[tuple[str, list[str]]]:
    """(kind, what is missing) for each precise check the claim fails."""
    sentences = [passage[a:b] for a, b in sentence_spans(passage)] or [passage]
    found = {
        "verdict": ["yes/no"] if VERDICT.match(claim) else [],
        "number": sorted(_numbers_in(claim) - _numbers_in(passage)),
        "obligation": ["must"] if _new_obligation(claim, passage) else [],
        "permission": sorted(
            (PERMISSION_WORDS & set(_modal_words(claim))) - set(_modal_words(passage))
        ),
        "stance": sorted(_stances(claim) - _stances(passage)),
        "name": _missing_names(claim, passage, sentences, question),
    }
    return [(kind, missing) for kind, missing in found.items() if missing]


def _missing_names(claim: str, passage: str, sentences: list[str], question: str) -> list[str]:
    """Names the passage lacks: a capitalised word anywhere in it (a possessive's "'s"
    aside), an acronym in the sentences the claim lines up with best ("ASWB has
    developed …" where NASW did, though ASWB is named elsewhere), or in the question."""
    missing = []
    for part in [claim[a:b] for a, b in sentence_spans(claim)] or [claim]:
        for name in _names(part):
            name = re.sub(r"['’]s$", "", name)
            where = best_window(part, sentences).text if name.isupper() else passage
            if len(name) > 1 and not _mentions(f"{where} {question}", name):
                missing.append(name)
    return list(dict.fromkeys(missing))


@dataclass(frozen=True, slots=True)
class Window:
    """The passage's sentence, or pair of adjacent sentences, a claim lines up with
    best, and the alignment of the claim's words (in order) against it."""

    text: str
    match: SequenceMatcher[str]


def best_window(claim: str, sentences: Sequence[str]) -> Window:
    words = [w.lower() for w in TOKEN.findall(claim)]
    windows = [*sentences, *(f"{a} {b}" for a, b in itertools.pairwise(sentences))]
    found = [
        Window(
            w, SequenceMatcher(None, words, [t.lower() for t in TOKEN.findall(w)], autojunk=False)
        )
        for w in windows
    ]
    return max(found, key=lambda w: sum(b.size for b in w.match.get_matching_blocks()))


def _new_obligation(claim: str, passage: str) -> bool:
    """ "must", "have to", "required" in the claim, and no obligation in the passage."""
    obligation = DIRECTIVES["obligation"] - {"need", "needs", "essential"}
    return bool(obligation & set(_modal_words(claim))) and not DIRECTIVES["obligation"] & set(
        _modal_words(passage)
    )


def _verdict_and_numbers(claim: str, cited: str) -> list[str]:
    """A bare yes or no, and numbers or frequencies the cited text does not hold."""
    reasons = []
    if VERDICT.match(claim):
        reasons.append("answers yes or no, which the passages do not")
    numbers = _numbers_in(claim) - _numbers_in(cited)
    if numbers:
        reasons.append(f"number or frequency {listed(sorted(numbers))} not in the cited text")
    return reasons


def _negation(claim: str, closest: list[str]) -> list[str]:
    """A negation must match one over the same words; none may negate what is claimed."""
    claimed = _negated(claim)
    cited = [scope for sentence in closest for scope in _negated(sentence)]
    if claimed:
        if not all(any(scope & other for other in cited) for scope in claimed):
            return ["negation not in the cited text"]
        return []
    claimed_stems = set(stems(claim))
    if any(len(claimed_stems & scope) >= 2 for scope in cited):
        return ["the cited text negates this"]
    return []


def _negated(text: str) -> list[set[str]]:
    """The stems each negation in `text` governs: the words after it, or, when none
    follow ("… should be avoided"), the words before it."""
    tokens = _words(text)
    scopes = []
    for i, token in enumerate(tokens):
        if token in NEGATIONS:
            after = set(stems(" ".join(tokens[i + 1 : i + 1 + NEGATION_SCOPE])))
            scopes.append(after or set(stems(" ".join(tokens[:i]))))
    return scopes


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"\b{re.escape(name)}\b", text, re.IGNORECASE) is not None


def _directives(claim: str, near: str) -> list[str]:
    reasons = []
    words, near_words = _modal_words(claim), _modal_words(near)
    have = {kind for kind, cues in DIRECTIVES.items() if cues & set(near_words)}
    for kind, cues in DIRECTIVES.items():
        if cues & set(words) and not DIRECTIVE_FROM[kind] & have:
            reasons.append(f"'{kind}' wording not in the cited sentences")
    near_pairs = {f"{a} {b}" for a, b in itertools.pairwise(near_words)}
    for a, b in itertools.pairwise(words):
        if b in AUXILIARIES:
            continue
        if a in MODAL_VERBS and f"{a} {b}" not in near_pairs:
            reasons.append(f"'{a} {b}' not in the cited sentences")
        elif a in DIRECTIVES["obligation"] | DIRECTIVES["advice"] and (
            f"may {b}" in near_pairs or f"can {b}" in near_pairs
        ):
            reasons.append(f"'{a} {b}' where the cited sentences only permit it")
    granted = sorted((PERMISSION_WORDS & set(words)) - set(near_words))
    if granted:
        reasons.append(f"{listed(granted)} not in the cited sentences")
    return reasons


def _modal_words(text: str) -> list[str]:
    """Words as modals read them: "could" as "can", "might" as "may" (hypotheticals),
    "have to" as "must", adverbs between a modal and its verb left out, and "the need"
    not an obligation."""
    out: list[str] = []
    for word in _words(HAVE_TO.sub("must", text)):
        word = {"could": "can", "might": "may"}.get(word, word)
        if word in ADVERBS:
            continue
        if word in ("need", "needs") and out and out[-1] in DETERMINERS:
            word = "the-need"
        out.append(word)
    return out


def _stances(text: str) -> set[str]:
    return set(stems(" ".join(w for w in _words(text) if w in STANCE)))


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in TOKEN.findall(text)]


def _numbers_in(text: str) -> set[str]:
    found = set(NUMBER.findall(text))
    return found | {NUMBER_WORDS[w] for w in _words(text) if w in NUMBER_WORDS}


def _names(text: str) -> list[str]:
    """Acronyms and capitalised words that do not open a sentence: names of bodies."""
    names = []
    tokens = TOKEN.findall(text)
    for i, token in enumerate(tokens):
        acronym = len(token) > 1 and token.isupper() and token.isalpha()
        proper = i > 0 and token[0].isupper() and token.lower() not in {"i"}
        if acronym or proper:
            names.append(token)
    return list(dict.fromkeys(names))


def below(name: str, value: float, floor: float) -> list[str]:
    return [f"{name} {value:.2f} below {floor:.2f}"] if value < floor else []


def listed(items: Sequence[object]) -> str:
    return ", ".join(f"'{i}'" if isinstance(i, str) else f"[{i}]" for i in items)


def check_flags(claim: str, passage: str, closest: list[str], question: str) -> dict[str, bool]:
    """Each hard check on its own, as a flag (the learned verifier reads them as
    features): does it fire on this claim against this passage and its closest
    sentences?"""
    near = " ".join(closest)
    numbers = _numbers_in(claim) - _numbers_in(passage)
    names = [n for n in _names(claim) if not _mentions(f"{near} {question}", n)]
    return {
        "verdict": VERDICT.match(claim) is not None,
        "number": bool(numbers),
        "name": bool(names),
        "directive": bool(_directives(claim, near)),
        "stance": bool(_stances(claim) - _stances(near)),
        "negation": bool(_negation(claim, closest)),
        "obligation": _new_obligation(claim, passage),
    }
