"""A llama.cpp runner that speaks `_llamacpp_runner`'s protocol and then really dies.

    python tests/dying_runner.py SIGNAL|HANG [DELTAS]

It loads nothing, counts four characters a token, and answers a chat request with
DELTAS pieces of text (default 2) before it kills itself with SIGNAL (e.g. SIGILL, as
a native build that uses an instruction the CPU cannot run does), or hangs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def send(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main() -> None:
    hang = sys.argv[1] == "HANG"
    sig = signal.SIGKILL if hang else signal.Signals[sys.argv[1]]
    deltas = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "load":
            send({"ok": True, "n_ctx": 2048, "system": "CPU : fake"})
        elif request["op"] == "count":
            send({"tokens": len(request["text"]) // 4 + 1})
        else:
            for _ in range(deltas):
                send({"delta": "Clinical social workers "})
            if hang:
                time.sleep(3600)
            if sig != signal.SIGKILL:
                signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)


if __name__ == "__main__":
    main()
