"""The OpenAI Python SDK against the tool loop (`/tools/v1`): the server runs the tools, the
client only changes its base URL. Needs a running dev server: DEV_BASE_URL=http://127.0.0.1:3000.

Also checks the webhook-signature verifier documented in docs/tools.md.
"""

import hashlib
import hmac
import os
import time

import pytest

BASE = os.environ.get("DEV_BASE_URL", "").rstrip("/")
SEED_PROMPT = "What's the status of my transaction T1001?"


def verify(secret: bytes, headers: dict, body: bytes, now=None) -> bool:
    """The verifier of docs/tools.md, verbatim."""
    ts = headers["x-signature-timestamp"]
    expected = "sha256=" + hmac.new(secret, f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs((now or time.time()) - int(ts)) <= 300
    return fresh and hmac.compare_digest(expected, headers["x-signature"])


def test_documented_verifier_matches_the_rust_signer():
    # The vector of shared/src/tools/auth.rs (matches_the_documented_python_verifier).
    secret, body = b"0123456789abcdef-test", b"{}"
    headers = {
        "x-signature-timestamp": "1700000000",
        "x-signature": "sha256=41ce468ad698c0b0a8d2c15faf9a0258c0246ff28b66a6e3d95ae723fd52d7ea",
    }
    assert verify(secret, headers, body, now=1_700_000_100)
    assert not verify(secret, headers, b"{ }", now=1_700_000_100)
    assert not verify(secret, headers, body, now=1_700_000_301)
    assert not verify(b"another-secret-0123", headers, body, now=1_700_000_000)


needs_server = pytest.mark.skipif(not BASE, reason="set DEV_BASE_URL to a running dev server (cargo run -p dev)")


def client():
    from openai import OpenAI

    return OpenAI(base_url=f"{BASE}/tools/v1", api_key="not-used-locally")


@needs_server
def test_seed_scenario_is_answered_with_server_side_tools():
    completion = client().chat.completions.create(
        model="mistral-large",
        messages=[{"role": "user", "content": SEED_PROMPT}],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert "Paid" in choice.message.content
    runs = completion.model_extra["tool_runs"]
    assert [(r["name"], r["arguments"], r["status"]) for r in runs] == [
        ("retrieve_payment_status", {"transaction_id": "T1001"}, "ok")
    ]
    assert completion.usage.total_tokens > 0
    assert completion.usage.model_extra["cost_usd"] > 0


@needs_server
def test_tools_are_selected_by_name():
    completion = client().chat.completions.create(
        model="mistral-large",
        messages=[{"role": "user", "content": "What's the payment date of transaction T1004?"}],
        extra_body={"tools": ["retrieve_payment_date"]},
    )
    runs = completion.model_extra["tool_runs"]
    assert [r["name"] for r in runs] == ["retrieve_payment_date"]
    assert runs[0]["result"] == {"date": "2021-10-05"}


@needs_server
def test_unknown_tool_names_are_a_400():
    import openai

    with pytest.raises(openai.BadRequestError) as refused:
        client().chat.completions.create(
            model="mistral-large",
            messages=[{"role": "user", "content": SEED_PROMPT}],
            extra_body={"tools": ["delete_all_payments"]},
        )
    assert "retrieve_payment_status" in str(refused.value)
