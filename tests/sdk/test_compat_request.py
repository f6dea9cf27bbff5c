"""Requests as popular clients send them, which Mistral's and OpenAI's own services accept
(issue #18): litellm's `mistral/` provider sending a Magistral answer's reasoning back as Mistral
`thinking` chunks (and the mistralai SDK receiving them, with `x-reasoning-format: mistral`), parallel tool calls as one assistant message per call (older Codex releases),
malformed bodies refused in the API's words, and `-latest` names meaning what Mistral's API serves."""

import os

import openai
import pytest

# litellm fetches its model price map from the network at import unless told to use its own copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm  # noqa: E402
from litellm.llms.mistral.chat.transformation import MistralConfig  # noqa: E402

LARGE_3 = "mistral.mistral-large-3-675b-instruct"


def test_litellm_mistral_provider_sends_a_magistral_turn_back(base_url):
    call = dict(model="mistral/magistral-small-latest", api_base=f"{base_url}/v1", api_key="unused", num_retries=0)
    messages = [{"role": "user", "content": "What is 2+2?"}]
    first = litellm.completion(messages=messages, **call)
    answer = first.choices[0].message
    assert answer.reasoning_content, "the gateway returns Magistral's reasoning"
    messages += [answer.model_dump(exclude_none=True), {"role": "user", "content": "And 3+3?"}]

    # What litellm puts on the wire for that history: the reasoning as a Mistral thinking chunk.
    sent = MistralConfig().transform_messages([dict(m) for m in messages], "magistral-small-latest")
    assert any(part.get("type") == "thinking" for part in sent[1]["content"]), sent[1]

    second = litellm.completion(messages=messages, **call)
    assert second.choices[0].message.content.startswith("You said: And 3+3?")
    assert second.model.endswith("magistral-small-2509")


def test_openai_sdk_parallel_calls_one_assistant_message_each(openai_client):
    def call(call_id, city):
        return {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": f'{{"city": "{city}"}}'}}],
        }

    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
    reply = openai_client.chat.completions.create(
        model="mistral-large-3",
        tools=[tool],
        messages=[
            {"role": "user", "content": "Weather in Paris and Lyon?"},
            call("call_paris", "Paris"),
            call("call_lyon", "Lyon"),
            {"role": "tool", "tool_call_id": "call_paris", "content": "21C"},
            {"role": "tool", "tool_call_id": "call_lyon", "content": "19C"},
        ],
    )
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content


@pytest.mark.parametrize(
    "messages, extra, param, words",
    [
        ([{"role": "user", "content": 5}], {}, "messages[0].content", "a string or a list of content parts"),
        ([{"role": "user", "content": [{"type": "video"}]}], {}, "messages[0].content[0].type", "`image_url`"),
        ([{"role": "user", "content": "hi"}], {"stop": 5}, "stop", "a stop sequence (a string) or a list of them"),
        ([{"role": "user", "content": "hi"}], {"tool_choice": 5}, "tool_choice", '"auto", "none", "any", "required"'),
    ],
)
def test_malformed_bodies_name_the_field_and_the_shapes(openai_client, messages, extra, param, words):
    with pytest.raises(openai.BadRequestError) as refused:
        openai_client.chat.completions.create(model="mistral-large", messages=messages, extra_body=extra)
    assert refused.value.body["param"] == param
    assert words in refused.value.message
    assert "untagged" not in refused.value.message and "line 1 column" not in refused.value.message


def test_mistral_sdk_latest_names_are_mistrals(mistral_client):
    from mistralai.client.errors import SDKError

    reply = mistral_client.chat.complete(model="mistral-large-latest", messages=[{"role": "user", "content": "Bonjour"}])
    assert reply.model == LARGE_3
    assert reply.usage.total_tokens > 0
    assert mistral_client.chat.complete(model="mistral-large-2407", messages=[{"role": "user", "content": "Hi"}]).model == "mistral.mistral-large-2407-v1:0"
    with pytest.raises(SDKError) as missing:
        mistral_client.chat.complete(model="mistral-small-latest", messages=[{"role": "user", "content": "Hi"}])
    assert missing.value.status_code == 404


def test_mistralai_sdk_receives_reasoning_as_thinking_chunks_and_sends_them_back(mistral_client):
    """Item 3, the answer side: with `x-reasoning-format: mistral`, a Magistral answer reads as
    Mistral's API sends it (a ThinkChunk, then a TextChunk), and goes back unchanged next turn."""
    from mistralai.client.models import TextChunk, ThinkChunk

    headers = {"x-reasoning-format": "mistral"}
    messages = [{"role": "user", "content": "What is 2+2?"}]
    first = mistral_client.chat.complete(model="magistral-small-latest", messages=messages, http_headers=headers)
    content = first.choices[0].message.content
    assert isinstance(content, list) and isinstance(content[0], ThinkChunk), content
    assert content[0].thinking[0].text and isinstance(content[1], TextChunk), content
    assert content[1].text.startswith("You said: What is 2+2?")

    messages += [first.choices[0].message.model_dump(exclude_none=True), {"role": "user", "content": "And 3+3?"}]
    second = mistral_client.chat.complete(model="magistral-small-latest", messages=messages, http_headers=headers)
    assert second.choices[0].message.content[1].text.startswith("You said: And 3+3?")

    streamed = mistral_client.chat.stream(model="magistral-small-latest", messages=messages, http_headers=headers)
    deltas = [event.data.choices[0].delta.content for event in streamed if event.data.choices]
    assert any(isinstance(d, list) and isinstance(d[0], ThinkChunk) for d in deltas), deltas
    assert "".join(d for d in deltas if isinstance(d, str)).startswith("You said: And 3+3?")
