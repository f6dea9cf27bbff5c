"""The official openai and mistralai SDKs, unmodified, streaming from the stream route (/stream/v1)."""

import json

import openai
import pytest
from mistralai.client import errors as mistral_errors

from bodies import tool, user


@pytest.fixture(scope="module")
def openai_stream(base_url):
    return openai.OpenAI(base_url=f"{base_url}/stream/v1", api_key="unused", max_retries=0)


@pytest.fixture(scope="module")
def mistral_stream(base_url):
    from mistralai.client import Mistral

    # The SDK appends /v1/chat/completions to server_url.
    return Mistral(api_key="unused", server_url=f"{base_url}/stream")


# ---------------------------------------------------------------------------------------- openai


def test_openai_streams_text_chunk_by_chunk(openai_stream):
    chunks = list(openai_stream.chat.completions.create(model="mistral-large", messages=user("Hello there"), stream=True))
    assert chunks[0].choices[0].delta.role == "assistant"
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert pieces == ["You", " said:", " Hello", " there"]
    assert len({(c.id, c.created, c.model) for c in chunks}) == 1
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.usage.prompt_tokens == 2 and last.usage.completion_tokens == 4 and last.usage.total_tokens == 6
    assert last.usage.model_extra["cost_usd"] > 0
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_openai_helper_reassembles_a_streamed_tool_call(openai_stream):
    prompt = '[[call:get_weather {"city":"Paris","unit":"celsius","days":3}]]'
    with openai_stream.chat.completions.stream(
        model="mistral-large-3", messages=user(prompt), tools=[tool("get_weather")]
    ) as stream:
        argument_deltas = [e.arguments_delta for e in stream if e.type == "tool_calls.function.arguments.delta"]
        completion = stream.get_final_completion()
    # The call arrives whole (as Mistral's API sends it): its complete arguments in one delta.
    assert [json.loads(d) for d in argument_deltas] == [{"city": "Paris", "unit": "celsius", "days": 3}]
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.id.startswith("tooluse_")
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius", "days": 3}
    assert completion.usage.total_tokens > 0


def test_openai_helper_reassembles_parallel_tool_calls(openai_stream):
    prompt = '[[call:get_weather {"city":"Paris"}]] [[call:get_time {"city":"Tokyo"}]]'
    with openai_stream.chat.completions.stream(
        model="mistral-large-3", messages=user(prompt), tools=[tool("get_weather"), tool("get_time")]
    ) as stream:
        completion = stream.get_final_completion()
    calls = completion.choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"city": "Tokyo"}),
    ]
    assert calls[0].id != calls[1].id


def test_openai_helper_reassembles_tool_calls_of_a_model_that_cannot_stream_them(openai_stream):
    with openai_stream.chat.completions.stream(
        model="mistral.mistral-large-2407-v1:0",
        messages=user('[[call:get_weather {"city":"Oslo"}]]'),
        tools=[tool("get_weather")],
    ) as stream:
        completion = stream.get_final_completion()
    (call,) = completion.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Oslo"})
    assert completion.choices[0].finish_reason == "tool_calls"


def test_openai_mid_stream_error_raises_after_the_partial_answer(openai_stream):
    stream = openai_stream.chat.completions.create(
        model="mistral-large", messages=user("one two three [[midstream:throttlingException]]"), stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as raised:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "You said:"
    assert "throttling" in raised.value.message
    assert raised.value.body["code"] == "throttled"


def test_openai_error_before_the_stream_has_its_status(openai_stream):
    with pytest.raises(openai.RateLimitError) as raised:
        openai_stream.chat.completions.create(model="mistral-large", messages=user("hi [[fault:throttle]]"), stream=True)
    assert raised.value.response.headers["retry-after"] == "2"
    with pytest.raises(openai.PermissionDeniedError):
        openai_stream.chat.completions.create(model="mistral-large", messages=user("hi [[fault:access_denied]]"), stream=True)
    with pytest.raises(openai.BadRequestError) as bad:
        openai_stream.chat.completions.create(model="mistral-large", messages=user("hi"), temperature=1.7, stream=True)
    assert "temperature" in bad.value.message


def test_openai_without_stream_gets_json_from_the_stream_route(openai_stream):
    reply = openai_stream.chat.completions.create(model="mistral-large", messages=user("Hello there"))
    assert reply.object == "chat.completion"
    assert reply.choices[0].message.content == "You said: Hello there"


# ------------------------------------------------------------------------------------- mistralai


def test_mistral_streams_text(mistral_stream):
    events = list(mistral_stream.chat.stream(model="mistral-large-latest", messages=user("Bonjour tout le monde")))
    chunks = [e.data for e in events]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "You said: Bonjour tout le monde"
    assert len(chunks) == 1 + 6 + 1, "role, one chunk per word, final"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.total_tokens == chunks[-1].usage.prompt_tokens + chunks[-1].usage.completion_tokens


def test_mistral_streams_a_tool_call_whole(mistral_stream):
    prompt = '[[call:get_weather {"city":"Lyon","unit":"celsius"}]]'
    events = list(mistral_stream.chat.stream(model="mistral-large-3", messages=user(prompt), tools=[tool("get_weather")]))
    calls = [call for e in events for call in (e.data.choices[0].delta.tool_calls or [])]
    # One delta with the whole call, as Mistral's API sends it: index, id, name, complete arguments.
    assert len(calls) == 1
    (call,) = calls
    assert call.index == 0
    assert call.id.startswith("tooluse_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Lyon", "unit": "celsius"}
    assert events[-1].data.choices[0].finish_reason == "tool_calls"


def test_mistral_mid_stream_error_raises(mistral_stream):
    stream = mistral_stream.chat.stream(
        model="mistral-large", messages=user("one two three [[midstream:modelStreamErrorException]]")
    )
    received = []
    with pytest.raises(mistral_errors.MistralError) as raised:
        for event in stream:
            received.append(event.data.choices[0].delta.content or "")
    assert "".join(received) == "You said:"
    # The SDK cannot read the error event as a chunk: it raises, with the event in the body.
    assert json.loads(raised.value.body)["data"]["error"]["code"] == "bedrock_error"


def test_mistral_error_before_the_stream_has_its_status(mistral_stream):
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_stream.chat.stream(model="mistral-large", messages=user("hi [[fault:throttle]]"))
    assert raised.value.status_code == 429
    assert json.loads(raised.value.body)["error"]["type"] == "rate_limit_error"
