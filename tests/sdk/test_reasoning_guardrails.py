"""Reasoning output and Bedrock Guardrails through the official SDKs."""

import openai
import pytest
from openai import OpenAI


def test_reasoning_content_in_answers_and_stream_deltas(openai_client, base_url):
    reply = openai_client.chat.completions.create(model="magistral-small", messages=[{"role": "user", "content": "Why is the sky blue?"}])
    message = reply.choices[0].message
    assert message.content == "You said: Why is the sky blue?"
    assert message.model_extra["reasoning_content"].startswith("Thinking about")

    stream = OpenAI(base_url=f"{base_url}/stream/v1", api_key="unused", max_retries=0)
    chunks = list(stream.chat.completions.create(model="magistral-small", stream=True, messages=[{"role": "user", "content": "Why?"}]))
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    reasoning = [i for i, d in enumerate(deltas) if (d.model_extra or {}).get("reasoning_content")]
    content = [i for i, d in enumerate(deltas) if d.content]
    assert reasoning and content and max(reasoning) < min(content)
    assert "Thinking" not in "".join(d.content or "" for d in deltas)


def test_a_reasoning_budget_is_refused_by_name(openai_client):
    with pytest.raises(openai.BadRequestError) as raised:
        openai_client.chat.completions.create(model="magistral-small", reasoning_effort="high", messages=[{"role": "user", "content": "Hi"}])
    assert raised.value.body["param"] == "reasoning_effort"


@pytest.fixture(scope="module")
def guarded(dev_server):
    return dev_server(BEDROCK_GUARDRAIL_ID="gr1abc2def", BEDROCK_GUARDRAIL_VERSION="1", BEDROCK_INVOKE_MODELS="mistral-large")


@pytest.mark.parametrize("model", ["mistral-large-3", "mistral-large"])
def test_a_guardrail_intervention_ends_in_content_filter(guarded, model):
    client = OpenAI(base_url=f"{guarded}/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Something bad [[intervene]]"}])
    assert reply.choices[0].finish_reason == "content_filter"
    assert reply.choices[0].message.content == "Sorry, the model cannot answer this question."
    fine = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello"}])
    assert fine.choices[0].finish_reason == "stop"


def test_a_streamed_intervention_ends_in_content_filter(guarded):
    client = OpenAI(base_url=f"{guarded}/stream/v1", api_key="unused", max_retries=0)
    chunks = list(client.chat.completions.create(model="mistral-large-3", stream=True, messages=[{"role": "user", "content": "Bad [[intervene]]"}]))
    assert chunks[-1].choices[0].finish_reason == "content_filter"
