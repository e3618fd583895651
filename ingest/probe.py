"""Read every vector of an embedded Chroma store: `python -m ingest.probe PATH`.

Run as a child process by ingest.integrity. Chroma's native reader segfaults on a
damaged HNSW file; here the crash costs only this child, and the parent names it.
Prints one JSON object: each collection's name and count.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np

from swguide import offline

BATCH = 5000


def read_all(path: str) -> dict[str, int]:
    import chromadb
    from chromadb.config import Settings as ChromaConfig

    config = ChromaConfig(anonymized_telemetry=False, allow_reset=False)
    client = chromadb.PersistentClient(path=path, settings=config)
    counts = {}
    for listed in client.list_collections():
        collection = client.get_collection(listed.name, embedding_function=None)
        count = collection.count()
        first: np.ndarray[Any, Any] | None = None
        for at in range(0, count, BATCH):
            got = collection.get(include=["embeddings"], limit=BATCH, offset=at)
            vectors = got["embeddings"]
            if first is None and vectors is not None and len(vectors):
                first = np.asarray(vectors[0], dtype=np.float32)
        if first is not None:
            collection.query(query_embeddings=[first], n_results=min(count, 10))
        counts[listed.name] = count
    return counts


def main() -> None:
    offline.enforce()
    try:
        counts = read_all(sys.argv[1])
    except Exception as error:  # any failure to read is the finding, reported in one line
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(3)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
