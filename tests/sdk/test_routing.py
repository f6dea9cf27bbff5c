"""Tiered routing through the official SDKs: `model: "auto"` on cheap tiers first, escalation of
hard cases, JSON that must validate, fallbacks on faults, triage when streaming, and the
arithmetic of every `routing` object."""

import json

import pytest
from openai import OpenAI

SMALL = "mistral.ministral-3-3b-instruct"
MEDIUM = "mistral.ministral-3-14b-instruct"
LARGE = "mistral.mistral-large-3-675b-instruct"
TIERS = "ministral-3b,ministral-14b,mistral-large-3"
# USD per 1M input / output tokens, as the catalog has them.
PRICES = {SMALL: (0.10, 0.10), MEDIUM: (0.20, 0.20), LARGE: (0.50, 1.50)}


def cost(model, usage):
    price_in, price_out = PRICES[model]
    return (usage["prompt_tokens"] * price_in + usage["completion_tokens"] * price_out) / 1e6


def check_accounts(routing, usage, top=LARGE):
    """Every call's tokens and cost sum to `usage`; the saving is the answer's tokens (every
    answered call's) on the top tier minus everything that was paid."""
    calls = routing["attempts"] + ([routing["triage"]] if "triage" in routing else [])
    for field in ("prompt_tokens", "completion_tokens", "total_tokens"):
        assert sum(c["usage"][field] for c in calls) == usage[field], (field, routing)
    paid = 0.0
    for call in calls:
        assert call["cost_usd"] == pytest.approx(cost(call["model"], call["usage"]), abs=1e-9)
        paid += call["cost_usd"]
    assert usage["cost_usd"] == pytest.approx(paid, abs=1e-9)
    answered = [a for a in routing["attempts"] if a["outcome"] == "answered"]
    assert answered, routing
    on_top = sum(cost(top, a["usage"]) for a in answered)
    assert routing["savings_usd"] == pytest.approx(on_top - paid, abs=1e-9)


def outcomes(routing):
    return [(a["model"], a["outcome"]) for a in routing["attempts"]]


@pytest.fixture(scope="module")
def tiered(dev_server):
    url = dev_server(ROUTING_TIERS=TIERS)
    return OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0), url


def test_an_easy_request_is_answered_by_the_cheapest_tier(tiered):
    client, _ = tiered
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "What is the capital of France?"}]
    )
    reply = raw.parse()
    assert reply.model == SMALL
    assert raw.headers["x-routed-model"] == SMALL
    routing = reply.model_extra["routing"]
    assert routing["policy"] == "cascade"
    assert outcomes(routing) == [(SMALL, "answered")]
    check_accounts(routing, reply.usage.model_dump())


def test_a_hard_request_escalates_to_a_large_model(tiered):
    client, _ = tiered
    reply = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Prove it [[hard]]"}])
    assert reply.model == LARGE
    routing = reply.model_extra["routing"]
    assert outcomes(routing) == [(SMALL, "escalated"), (MEDIUM, "escalated"), (LARGE, "answered")]
    assert all("cannot answer reliably" in a["reason"] for a in routing["attempts"][:2])
    assert reply.choices[0].message.content == "You said: Prove it"
    check_accounts(routing, reply.usage.model_dump())


def test_broken_json_ends_in_a_schema_valid_answer(tiered):
    client, _ = tiered
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"],
        "additionalProperties": False,
    }
    reply = client.chat.completions.create(
        model="auto",
        messages=[{"role": "user", "content": "Capital of France as JSON [[broken-json]]"}],
        response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema}},
    )
    answer = json.loads(reply.choices[0].message.content)
    assert isinstance(answer["city"], str) and isinstance(answer["population"], int)
    routing = reply.model_extra["routing"]
    assert routing["attempts"][0]["outcome"] == "escalated"
    assert "not valid JSON" in routing["attempts"][0]["reason"]
    check_accounts(routing, reply.usage.model_dump())


def test_a_throttled_cheapest_tier_falls_back(tiered):
    client, _ = tiered
    reply = client.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "Hi [[fault:throttle@ministral-3b]]"}]
    )
    assert reply.model == MEDIUM
    routing = reply.model_extra["routing"]
    assert outcomes(routing) == [(SMALL, "failed"), (MEDIUM, "answered")]
    check_accounts(routing, reply.usage.model_dump())


def test_fallbacks_of_a_named_model(dev_server):
    url = dev_server(ROUTING_TIERS=TIERS, MODEL_FALLBACKS="ministral-3b=ministral-14b")
    client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(
        model="ministral-3b", messages=[{"role": "user", "content": "Hi [[fault:throttle@ministral-3b]]"}]
    )
    assert reply.model == MEDIUM
    routing = reply.model_extra["routing"]
    assert routing["policy"] == "fixed"
    assert outcomes(routing) == [(SMALL, "failed"), (MEDIUM, "answered")]
    check_accounts(routing, reply.usage.model_dump())


def test_triage_streams_from_the_tier_it_names(tiered):
    _, url = tiered
    client = OpenAI(base_url=f"{url}/stream/v1", api_key="unused", max_retries=0)
    chunks = list(
        client.chat.completions.create(
            model="auto", stream=True, messages=[{"role": "user", "content": "A subtle proof, please [[hard]]"}]
        )
    )
    assert {c.model for c in chunks} == {LARGE}
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: A subtle proof, please"
    routing = chunks[-1].model_extra["routing"]
    assert routing["policy"] == "triage"
    assert routing["triage"]["difficulty"] == "hard" and routing["triage"]["model"] == SMALL
    check_accounts(routing, chunks[-1].usage.model_dump())


def test_the_mistral_sdk_reads_routed_answers(dev_server):
    from mistralai.client import Mistral

    url = dev_server(ROUTING_TIERS=TIERS)
    client = Mistral(api_key="unused", server_url=url)
    reply = client.chat.complete(model="auto", messages=[{"role": "user", "content": "Hard one [[hard]]"}])
    assert reply.model == LARGE
    assert reply.choices[0].message.content == "You said: Hard one"


def test_an_unknown_policy_is_a_400_naming_the_field(tiered):
    import openai

    client, _ = tiered
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "Hi"}], extra_body={"routing": {"policy": "cheapest"}}
        )
    assert raised.value.body["param"] == "routing.policy"
