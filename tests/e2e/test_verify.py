"""`swguide verify` through the real CLI: JSON lines in, one verdict (or error) out per
line, with exactly the guard the answers use (`guard.checker`)."""

from __future__ import annotations

import json
from typing import Any

from conftest import run_cli

POLICY = (
    "Clinical social workers should also consider developing a social media policy to "
    "share with clients. This policy should be discussed with the client during the "
    "initial interview."
)
BILLING = "Billing codes for telehealth sessions are listed in the agency handbook."


def lines(done: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def test_verify_reads_json_lines_and_answers_each_in_place(make_settings: Any) -> None:
    stdin = "\n".join(
        [
            json.dumps(
                {
                    "claim": "Share your social media policy with clients.",
                    "passages": [BILLING, POLICY],
                    "question": "Should I have a policy?",
                }
            ),
            "not json",
            json.dumps(
                {
                    "claim": "You have to share your social media policy with clients.",
                    "passages": [POLICY],
                }
            ),
            json.dumps(
                {"claim": "The policy must be filed with the state board.", "passages": [POLICY]}
            ),
            json.dumps({"claim": "x", "passages": []}),
        ]
    ).encode()
    done = run_cli(["verify", "--json"], make_settings(), stdin=stdin)
    assert done.returncode == 2, done.stderr.decode()
    first, bad, obliged, invented, empty = lines(done)
    assert first["supported"] and first["passage"] == 1 and first["score"] >= 0.5
    assert bad["error"].startswith("Line 2: not JSON")
    assert not obliged["supported"] and any("obligation" in r for r in obliged["reasons"])
    assert not invented["supported"] and invented["passage"] is None
    assert "passages must be a list" in empty["error"]


def test_verify_one_claim_and_its_errors(make_settings: Any) -> None:
    settings = make_settings()
    done = run_cli(
        [
            "verify",
            "Social workers should discuss the policy in the initial interview.",
            "--passage",
            POLICY,
        ],
        settings,
    )
    assert done.returncode == 0 and done.stdout.decode().startswith("supported (")
    missing = run_cli(["verify", "A claim."], settings)
    assert missing.returncode == 2 and b"--passage" in missing.stderr
