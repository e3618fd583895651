"""Build llama-cpp-python as a portable wheel, once per build recipe, into a cache.

PyPI ships llama-cpp-python as source, and its default build is `-march=native`: the
wheel then uses every instruction the building CPU lists. The virtual machines here list
AMX and fault on it (SIGILL in `ggml_backend_amx_mul_mat`), and hosts of one kind differ
(some list AMX and AVX-512, some not), so a native build is not portable. This builds
ggml's CPU backend as several variants that ggml picks from at run time by what the CPU
really has (`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`): AVX2 and AVX-512 stay where a
host has them. The source is patched in two places, each checked:

- ggml's x86 variant list keeps the ones in VARIANTS; it drops sapphirerapids (the only
  one built with AMX) and the rest, which these server hosts never pick;
- llama-cpp-python installs only a target named `ggml-cpu`, so it is told to install
  the variants' libraries beside it.

The wheel's folder name is a hash of everything that shapes it (version, sdist SHA-256,
variants, CMake arguments, this file), so a changed recipe never reuses an old build.

    python tools/llamacpp_wheel.py DIR    # prints the folder that holds the wheel
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VERSION = "0.3.36"
SDIST_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
VARIANTS = ("x64", "haswell", "skylakex", "icelake", "zen4")
CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"
VARIANT_LINE = re.compile(r"^\s*ggml_add_cpu_backend_variant\((\w+)[^)]*\)\s*$", re.MULTILINE)
X86_BLOCK = re.compile(r"( *ggml_add_cpu_backend_variant\(x64\)\n.*?)\n\s*elseif", re.DOTALL)
INSTALL_ANCHOR = "    llama_cpp_python_install_target(ggml-cpu)\n"


def recipe_key() -> str:
    parts = [VERSION, SDIST_SHA256, " ".join(VARIANTS), CMAKE_ARGS, Path(__file__).read_text()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def main(cache: Path) -> Path:
    folder = cache / f"llama-cpp-python-{VERSION}-{recipe_key()}"
    if any(folder.glob("*.whl")):
        return folder
    with tempfile.TemporaryDirectory() as work:
        source = unpack(download(Path(work)), Path(work))
        patch_variants(source / "vendor/llama.cpp/ggml/src/CMakeLists.txt")
        patch_install(source / "CMakeLists.txt")
        wheel = build(source, Path(work) / "wheel")
        folder.mkdir(parents=True, exist_ok=True)
        wheel.replace(folder / wheel.name)  # whole or not at all
    return folder


def download(work: Path) -> Path:
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary"]
    subprocess.run([*pip, ":all:", f"llama-cpp-python=={VERSION}", "-d", str(work)], check=True)
    sdist = next(work.glob("llama_cpp_python-*.tar.gz"))
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        sys.exit(f"{sdist.name} has SHA-256 {digest}, expected {SDIST_SHA256}: not building it.")
    return sdist


def unpack(sdist: Path, work: Path) -> Path:
    with tarfile.open(sdist) as archive:
        archive.extractall(work, filter="data")
    return work / f"llama_cpp_python-{VERSION}"


def patch_variants(cmake: Path) -> None:
    text = cmake.read_text()
    block = X86_BLOCK.search(text)
    lines = block.group(1) if block else ""
    found = {m.group(1) for m in VARIANT_LINE.finditer(lines)}
    if not (set(VARIANTS) <= found and "sapphirerapids" in found):
        sys.exit(f"{cmake} lists the x86 variants {sorted(found)}: update VARIANTS.")
    kept = VARIANT_LINE.sub(lambda m: m.group(0) if m.group(1) in VARIANTS else "", lines)
    cmake.write_text(text.replace(lines, kept))


def patch_install(cmake: Path) -> None:
    text = cmake.read_text()
    if text.count(INSTALL_ANCHOR) != 1:
        sys.exit(f"{cmake} no longer installs ggml-cpu as expected: update patch_install.")
    variants = "".join(f"    llama_cpp_python_install_target(ggml-cpu-{v})\n" for v in VARIANTS)
    cmake.write_text(text.replace(INSTALL_ANCHOR, INSTALL_ANCHOR + variants))


def build(source: Path, out: Path) -> Path:
    cores = str(len(os.sched_getaffinity(0)))
    env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": cores}
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-cache-dir"]
    subprocess.run([*command, "-w", str(out), str(source)], check=True, env=env)
    return next(out.glob("llama_cpp_python-*.whl"))


if __name__ == "__main__":
    print(main(Path(sys.argv[1])))
