"""Peer benchmark: swguide beside llama-index and plain sentence-transformers + chromadb.
Run: `make bench-peers` or

    .venv/bin/python benchmarks/peers.py [--chunks 2000] [--rounds 3] [--json FILE]
                                         [--only swguide,llamaindex,plain]

Three pipelines index the same synthetic Markdown corpus (bench.synthetic_corpus) into an
embedded Chroma store with the same bundled all-MiniLM-L6-v2 weights, and answer the same
questions (the eval suite's fit split) with their top 5 passages:

  swguide     its own ingest (ONNX Runtime) and hybrid retrieval (dense + BM25, fused)
  llamaindex  SimpleDirectoryReader, SentenceSplitter (230 word pieces, no overlap),
              HuggingFaceEmbedding, ChromaVectorStore, index.as_retriever(similarity_top_k=5)
  plain       SentenceTransformer, one chunk a paragraph, collection.add in batches,
              collection.query

Every measurement runs in a fresh process, the pipelines interleaved round by round:
ingest chunks/s and word pieces/s (model loaded first, untimed; word pieces by the
MiniLM tokenizer, over the exact texts each pipeline embedded); warm retrieval p50/p95
in the ingesting process; cold start to the first retrieval as a whole process, wall time
from outside; peak RSS of each process (its own ru_maxrss, by wait4). Then the embedding
floor: the forward pass alone, ONNX Runtime (swguide) against torch (sentence-transformers),
batches of 1, 4 and 32 of the same paragraphs. Reported: min and median over rounds, and
the ratio of the medians, peer ÷ swguide.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from swguide import offline  # noqa: E402

offline.enforce()

from timing import percentile  # type: ignore[import-not-found]  # noqa: E402  (beside this script)

PIPELINES = ("swguide", "llamaindex", "plain")
NAMES = {"swguide": "swguide", "llamaindex": "llama-index", "plain": "plain ST + Chroma"}
TOP_K = 5
CHUNK_TOKENS = 230  # swguide's chunking.max_tokens; llama-index's splitter gets the same
ADD_BATCH = 256
FLOOR_TEXTS = 96
BATCHES = (1, 4, 16, 32)
QUESTION = "Can I accept a client's LinkedIn request?"
CHUNKING = {
    "swguide": "section-aware paragraphs ≤ 230 word pieces, title and headings prefixed; "
    "ONNX batches of {batch} by word-piece count, embedded while the next document is read; "
    "the index sealed (its files hashed and read back) as `swguide ingest` does",
    "llamaindex": "SentenceSplitter(chunk_size=230 MiniLM word pieces, chunk_overlap=0), "
    "file_path metadata prefixed (its default); embed batches of 10 (its default)",
    "plain": "one chunk a paragraph (blank-line split, headings dropped); encode batches of 32",
}

Retrieve = Callable[[str], list[str]]


@dataclass(frozen=True, slots=True)
class Ingested:
    seconds: float
    texts: list[str]  # exactly what was embedded
    retrieve: Retrieve


@dataclass(frozen=True, slots=True)
class Measure:
    label: str
    key: str
    higher_is_better: bool


MEASURES = (
    Measure("ingest chunks/s", "chunks_per_s", True),
    Measure("ingest word pieces/s", "word_pieces_per_s", True),
    Measure("warm retrieval p50 (ms)", "retrieve_p50_ms", False),
    Measure("warm retrieval p95 (ms)", "retrieve_p95_ms", False),
    Measure("cold start to first retrieval (s)", "cold_s", False),
    Measure("peak RSS, ingest + warm process (MB)", "ingest_rss_mb", False),
    Measure("peak RSS, cold process (MB)", "cold_rss_mb", False),
)


# The pipelines (each runs in a child process).


def swguide_settings(store: Path) -> Any:
    from swguide.settings import load_settings

    models = load_settings().model_cache  # the user's prepared model, as bench.py does
    return load_settings(data_dir=store, models_dir=models)


def swguide_retriever(settings: Any, embedder: Any = None) -> Retrieve:
    from assistant.build import build_assistant

    assistant = build_assistant(settings, embedder, llm="extractive")

    def retrieve(question: str) -> list[str]:
        if embedder is not None:
            embedder.clear()  # no query vector reused from the cache
        return [p.chunk.text for p in assistant.retriever.retrieve(question).passages]

    return retrieve


def swguide_ingest(corpus: Path, store: Path, model: Path) -> Ingested:
    from assistant.build import build_embedder, open_store
    from ingest.chunking import embedded_text
    from ingest.integrity import seal
    from ingest.pipeline import ingest

    settings = swguide_settings(store)
    embedder = build_embedder(settings)
    started = time.perf_counter()
    chunks = open_store(settings, create=True)
    ingest([corpus], chunks, embedder, settings)
    seal(settings.chroma_path, chunks.records())  # as `swguide ingest` does, timed
    seconds = time.perf_counter() - started
    texts = [embedded_text(c.document_title, c.heading_path, c.text) for c in chunks.chunks()]
    return Ingested(seconds, texts, swguide_retriever(settings, embedder))


def swguide_open(store: Path, model: Path) -> Retrieve:
    return swguide_retriever(swguide_settings(store))


def peer_collection(store: Path) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(store), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return client.get_or_create_collection(
        "peer", metadata={"hnsw:space": "cosine"}, embedding_function=None
    )


def llamaindex_setup(model: Path) -> None:
    from llama_index.core import Settings
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    Settings.llm = None
    Settings.embed_model = HuggingFaceEmbedding(model_name=str(model), device="cpu")


def llamaindex_retriever(index: Any) -> Retrieve:
    retriever = index.as_retriever(similarity_top_k=TOP_K)
    return lambda question: [n.node.get_content() for n in retriever.retrieve(question)]


def llamaindex_ingest(corpus: Path, store: Path, model: Path) -> Ingested:
    from llama_index.core import SimpleDirectoryReader, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    llamaindex_setup(model)
    splitter = SentenceSplitter(
        chunk_size=CHUNK_TOKENS, chunk_overlap=0, tokenizer=word_pieces(model)
    )
    started = time.perf_counter()
    documents = SimpleDirectoryReader(str(corpus)).load_data()
    vector_store = ChromaVectorStore(chroma_collection=peer_collection(store))
    index = VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=vector_store),
        transformations=[splitter],
    )
    seconds = time.perf_counter() - started
    nodes = splitter.get_nodes_from_documents(documents)  # the same split, to count it
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    return Ingested(seconds, texts, llamaindex_retriever(index))


def llamaindex_open(store: Path, model: Path) -> Retrieve:
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    llamaindex_setup(model)
    vector_store = ChromaVectorStore(chroma_collection=peer_collection(store))
    return llamaindex_retriever(VectorStoreIndex.from_vector_store(vector_store))


def paragraphs(corpus: Path) -> list[str]:
    blocks = (b.strip() for f in sorted(corpus.glob("*.md")) for b in f.read_text().split("\n\n"))
    return [b for b in blocks if b and not b.startswith("#")]


def plain_retriever(model: Any, collection: Any) -> Retrieve:
    def retrieve(question: str) -> list[str]:
        found = collection.query(query_embeddings=model.encode([question]), n_results=TOP_K)
        return list(found["documents"][0])

    return retrieve


def plain_ingest(corpus: Path, store: Path, model_dir: Path) -> Ingested:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    started = time.perf_counter()
    collection = peer_collection(store)
    texts = paragraphs(corpus)
    for at in range(0, len(texts), ADD_BATCH):
        batch = texts[at : at + ADD_BATCH]
        ids = [f"p{at + i}" for i in range(len(batch))]
        collection.add(ids=ids, embeddings=model.encode(batch), documents=batch)
    seconds = time.perf_counter() - started
    return Ingested(seconds, texts, plain_retriever(model, collection))


def plain_open(store: Path, model_dir: Path) -> Retrieve:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    return plain_retriever(model, peer_collection(store))


INGEST = {"swguide": swguide_ingest, "llamaindex": llamaindex_ingest, "plain": plain_ingest}
OPEN = {"swguide": swguide_open, "llamaindex": llamaindex_open, "plain": plain_open}


def word_pieces(model: Path) -> Callable[[str], list[int]]:
    """The MiniLM tokenizer's word pieces of a text (no special tokens, no truncation)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return lambda text: tokenizer.encode(text, add_special_tokens=False).ids


def ingest_child(args: argparse.Namespace) -> dict[str, Any]:
    done = INGEST[args.pipeline](args.corpus, args.store, args.model)
    count = word_pieces(args.model)
    pieces = [len(count(t)) for t in done.texts]
    questions = json.loads(args.questions.read_text(encoding="utf-8"))
    done.retrieve(QUESTION)  # warm-up
    latencies = []
    for question in questions:
        started = time.perf_counter()
        done.retrieve(question)
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "chunks": len(pieces),
        "word_pieces": sum(pieces),
        "word_pieces_per_chunk_median": statistics.median(pieces),
        "word_pieces_longest": max(pieces),
        "ingest_s": done.seconds,
        "chunks_per_s": len(pieces) / done.seconds,
        "word_pieces_per_s": sum(pieces) / done.seconds,
        "questions": len(latencies),
        "retrieve_ms": latencies,
        "retrieve_p50_ms": percentile(latencies, 50),
        "retrieve_p95_ms": percentile(latencies, 95),
    }


def cold_child(args: argparse.Namespace) -> dict[str, Any]:
    return {"passages": len(OPEN[args.pipeline](args.store, args.model)(QUESTION))}


# The embedding floor: the forward pass alone, on batches tokenized beforehand.


class Forward(NamedTuple):
    prepare: Callable[[list[str]], Any]
    run: Callable[[Any], object]
    pieces: Callable[[Any], int]
    threads: int


def onnx_forward(model: Path) -> Forward:
    import onnxruntime
    from tokenizers import Tokenizer

    from ingest.embedding import ONNX_FILE, TOKENIZER, onnx_feed, prepare_model
    from swguide.settings import load_settings

    settings = load_settings()
    folder = prepare_model(settings.embedding, settings.model_cache)
    tokenizer = Tokenizer.from_file(str(folder / TOKENIZER))
    tokenizer.enable_truncation(max_length=settings.embedding.max_tokens)
    tokenizer.enable_padding()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = settings.embedding.threads
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"]
    )
    return Forward(
        prepare=lambda batch: onnx_feed(tokenizer.encode_batch(batch)),
        run=lambda feed: session.run(None, feed),
        pieces=lambda feed: int(feed["attention_mask"].sum()),
        threads=settings.embedding.threads or os.cpu_count() or 1,
    )


def torch_forward(model_dir: Path) -> Forward:
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")

    def run(features: Any) -> object:
        with torch.inference_mode():
            return model(features)

    return Forward(
        prepare=model.preprocess,
        run=run,
        pieces=lambda features: int(features["attention_mask"].sum()),
        threads=torch.get_num_threads(),
    )


FLOOR = {"onnx": onnx_forward, "torch": torch_forward}


def floor_child(args: argparse.Namespace) -> dict[str, Any]:
    forward = FLOOR[args.pipeline](args.model)
    texts = paragraphs(args.corpus)[:FLOOR_TEXTS]  # in batches of like length, as both run
    texts.sort(key=lambda text: forward.pieces(forward.prepare([text])))
    result: dict[str, Any] = {"texts": len(texts), "threads": forward.threads}
    for size in BATCHES:
        batches = [forward.prepare(texts[at : at + size]) for at in range(0, len(texts), size)]
        forward.run(batches[0])  # warm-up
        started = time.perf_counter()
        for batch in batches:
            forward.run(batch)
        seconds = time.perf_counter() - started
        result[f"batch_{size}"] = sum(forward.pieces(b) for b in batches) / seconds
    return result


CHILDREN = {"ingest": ingest_child, "cold": cold_child, "floor": floor_child}


# The parent: rounds of fresh processes, then the summary.


def run_child(options: list[str]) -> dict[str, Any]:
    """One child's JSON (its last line of output), its wall time and its peak RSS."""
    command = [sys.executable, str(Path(__file__).resolve()), *options]
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors)
        assert process.stdout is not None
        out = process.stdout.read()
        process.stdout.close()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-4000:]
            raise SystemExit(f"{' '.join(options)} failed ({process.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return {**result, "wall_s": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def run_pipeline(name: str, root: Path, model: Path) -> dict[str, Any]:
    store = root / f"store-{name}"
    shutil.rmtree(store, ignore_errors=True)
    common = ["--pipeline", name, "--store", str(store), "--model", str(model)]
    inputs = ["--corpus", str(root / "corpus"), "--questions", str(root / "questions.json")]
    ingested = run_child(["--child", "ingest", *common, *inputs])
    cold = run_child(["--child", "cold", *common])
    return {
        **ingested,
        "ingest_rss_mb": ingested["peak_rss_mb"],
        "cold_s": cold["wall_s"],
        "cold_rss_mb": cold["peak_rss_mb"],
    }


def run_rounds(pipelines: Sequence[str], rounds: int, chunks: int) -> dict[str, list[Any]]:
    from bench import synthetic_corpus  # type: ignore[import-not-found]

    from evals.calibrate import load_questions
    from ingest.embedding import bundled_model_dir

    model = bundled_model_dir()
    runs: dict[str, list[Any]] = {name: [] for name in [*pipelines, *FLOOR]}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "corpus").mkdir()
        synthetic_corpus(root / "corpus", chunks)
        questions = [q for q, _ in load_questions()]
        (root / "questions.json").write_text(json.dumps(questions), encoding="utf-8")
        for number in range(rounds):
            for name in pipelines:
                print(f"round {number + 1}/{rounds}: {name}", file=sys.stderr)
                runs[name].append(run_pipeline(name, root, model))
            for backend in FLOOR:
                options = ["--pipeline", backend, "--model", str(model)]
                runs[backend].append(
                    run_child(["--child", "floor", *options, "--corpus", str(root / "corpus")])
                )
    return runs


def spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values)}


def summarise(runs: dict[str, list[Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name in [n for n in PIPELINES if n in runs]:
        summary[name] = {m.key: spread([r[m.key] for r in runs[name]]) for m in MEASURES}
    for backend in FLOOR:
        summary[backend] = {
            f"batch_{b}": spread([r[f"batch_{b}"] for r in runs[backend]]) for b in BATCHES
        }
    return summary


def cell(figures: dict[str, float]) -> str:
    return f"{figures['median']:,.4g} (min {figures['min']:,.4g})"


def ratio(peer: float, base: float, higher_is_better: bool, names: tuple[str, str]) -> str:
    """peer ÷ base, and which of the two named is better."""
    times = peer / base
    peer_better = times > 1 if higher_is_better else times < 1
    return f"{times:.2f}× ({names[0] if peer_better else names[1]} better)"


def pipeline_table(summary: dict[str, Any], pipelines: Sequence[str]) -> list[str]:
    peers = [p for p in pipelines if p != "swguide"]
    lines = [
        "| measure (median over rounds, min) | "
        + " | ".join(NAMES[p] for p in pipelines)
        + "".join(f" | {NAMES[p]} ÷ swguide" for p in peers)
        + " |",
        "|---" * (1 + len(pipelines) + len(peers)) + "|",
    ]
    for m in MEASURES:
        row = [f"{m.label}, {'higher' if m.higher_is_better else 'lower'} is better"]
        row += [cell(summary[p][m.key]) for p in pipelines]
        base = summary["swguide"][m.key]["median"] if "swguide" in pipelines else None
        for p in peers:
            peer = summary[p][m.key]["median"]
            names = (NAMES[p], "swguide")
            row.append(ratio(peer, base, m.higher_is_better, names) if base else "n/a")
        lines.append(f"| {' | '.join(row)} |")
    return lines


def floor_table(summary: dict[str, Any], runs: dict[str, list[Any]]) -> list[str]:
    threads = {b: runs[b][0]["threads"] for b in FLOOR}
    lines = [
        f"| forward pass alone, {runs['onnx'][0]['texts']} paragraphs, word pieces/s "
        f"(median, min) | ONNX Runtime ({threads['onnx']} threads) | "
        f"torch ({threads['torch']} threads) | torch ÷ ONNX |",
        "|---|---|---|---|",
    ]
    for b in BATCHES:
        onnx, torch = summary["onnx"][f"batch_{b}"], summary["torch"][f"batch_{b}"]
        times = ratio(torch["median"], onnx["median"], True, ("torch", "ONNX"))
        lines.append(f"| batch {b} | {cell(onnx)} | {cell(torch)} | {times} |")
    return lines


def chunking_lines(runs: dict[str, list[Any]], pipelines: Sequence[str]) -> list[str]:
    lines = []
    for p in pipelines:
        first = runs[p][0]
        lines.append(
            f"- {NAMES[p]}: {first['chunks']:,} chunks, {first['word_pieces']:,} word pieces "
            f"embedded (median {first['word_pieces_per_chunk_median']:.0f} a chunk, longest "
            f"{first['word_pieces_longest']}); {CHUNKING[p].format(batch=batch_size())}; "
            f"{first['questions']} questions, top {TOP_K}"
        )
    return lines


def batch_size() -> int:
    from swguide.settings import load_settings

    return load_settings().embedding.batch_size


def floor_share(summary: dict[str, Any]) -> str:
    """swguide's ingest against the fastest forward pass of its own engine."""
    best = max(BATCHES, key=lambda b: summary["onnx"][f"batch_{b}"]["median"])
    floor = summary["onnx"][f"batch_{best}"]["median"]
    ingest = summary["swguide"]["word_pieces_per_s"]["median"]
    return (
        f"swguide ingests at {ingest / floor:.0%} of its engine's floor (ONNX Runtime's "
        f"fastest forward pass here, batch {best}: {floor:,.0f} word pieces/s)"
    )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Also write the raw figures to this file.")
    parser.add_argument("--only", default=",".join(PIPELINES), help="Pipelines to run.")
    hidden = argparse.SUPPRESS
    parser.add_argument("--child", choices=sorted(CHILDREN), help=hidden)
    parser.add_argument("--pipeline", help=hidden)
    for name in ("corpus", "store", "model", "questions"):
        parser.add_argument(f"--{name}", type=Path, help=hidden)
    return parser.parse_args(argv)


def main() -> int:
    args = parse()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)))
        return 0
    pipelines = [p for p in PIPELINES if p in args.only.split(",")]
    unknown = set(args.only.split(",")) - set(PIPELINES)
    if unknown or not pipelines:
        raise SystemExit(f"--only takes some of {','.join(PIPELINES)}, not {args.only}")
    rounds = max(args.rounds, 1)
    before = load()
    print(f"load average before: {before}")
    runs = run_rounds(pipelines, rounds, args.chunks)
    after = load()
    print(f"load average after: {after}")
    summary = summarise(runs)
    print(f"\n{rounds} rounds, {os.cpu_count()} CPUs, {args.chunks} chunks asked for")
    print("\n".join(chunking_lines(runs, pipelines)) + "\n")
    print("\n".join(pipeline_table(summary, pipelines)) + "\n")
    print("\n".join(floor_table(summary, runs)))
    if "swguide" in pipelines:
        print(f"\n{floor_share(summary)}")
    if args.json:
        figures = {"load_before": before, "load_after": after, "runs": runs, "summary": summary}
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
