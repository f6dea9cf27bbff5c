"""Answers as both client families read them, through the client libraries themselves:
`parallel_tool_calls: false` (LangChain's `with_structured_output(method="function_calling")`),
tool calls streamed whole (the openai SDK's streaming helper and langchain-mistralai's
ChatMistralAI), `stream: true` on the /v1 base URL (clients that always stream: the openai and
mistralai SDKs as vibe, opencode and aider use them), `reasoning_effort` on Devstral 2, and
`json_schema` on models without native structured output (the SDKs' `parse` helpers)."""

import json

import openai
import pytest
from langchain_core.messages import AIMessageChunk
from langchain_mistralai import ChatMistralAI
from langchain_openai import ChatOpenAI
from mistralai.client import errors as mistral_errors
from pydantic import BaseModel

from bodies import tool, user

TWO_CALLS = '[[call:get_weather {"city":"Paris"}]] [[call:get_time {"city":"Tokyo"}]]'


class Capital(BaseModel):
    """The capital city of a country."""

    country: str
    city: str


def streamed(model, prompt) -> AIMessageChunk:
    """The chunks LangChain yields for `prompt`, merged as LangChain merges them."""
    merged = None
    for chunk in model.stream(prompt):
        merged = chunk if merged is None else merged + chunk
    return merged


# --------------------------------------------------------------- 1: parallel_tool_calls: false


def test_langchain_structured_output_by_function_calling(base_url):
    llm = ChatOpenAI(model="mistral-large", base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    structured = llm.with_structured_output(Capital, method="function_calling", include_raw=True)
    result = structured.invoke("What is the capital of France?")
    assert result["parsing_error"] is None
    answer = result["parsed"]
    assert isinstance(answer, Capital)
    assert answer.country and answer.city
    raw = result["raw"]
    assert [c["name"] for c in raw.tool_calls] == ["Capital"]


def test_langchain_with_parallel_tool_calls_false_gets_one_call(base_url):
    llm = ChatOpenAI(model="mistral-large", base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    both = llm.bind_tools([tool("get_weather"), tool("get_time")]).invoke(TWO_CALLS)
    assert [c["name"] for c in both.tool_calls] == ["get_weather", "get_time"]
    one = llm.bind_tools([tool("get_weather"), tool("get_time")], parallel_tool_calls=False).invoke(TWO_CALLS)
    assert [(c["name"], c["args"]) for c in one.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert one.response_metadata["finish_reason"] == "tool_calls"


def test_openai_stream_with_parallel_tool_calls_false_gets_one_call(base_url):
    client = openai.OpenAI(base_url=f"{base_url}/stream/v1", api_key="unused", max_retries=0)
    with client.chat.completions.stream(
        model="mistral-large-3",
        messages=user(TWO_CALLS),
        tools=[tool("get_weather"), tool("get_time")],
        parallel_tool_calls=False,
    ) as stream:
        completion = stream.get_final_completion()
    calls = completion.choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [("get_weather", {"city": "Paris"})]


# ------------------------------------------------------------------ 2: tool calls sent whole


def test_chat_mistralai_streams_a_tool_call_as_one_intact_call(base_url):
    llm = ChatMistralAI(model="mistral-large-3", endpoint=f"{base_url}/stream/v1", api_key="unused", max_retries=0)
    prompt = '[[call:get_weather {"city":"Lyon","unit":"celsius"}]]'
    message = streamed(llm.bind_tools([tool("get_weather")]), prompt)
    assert len(message.tool_calls) == 1, message.tool_calls
    (call,) = message.tool_calls
    assert call["name"] == "get_weather"
    assert call["args"] == {"city": "Lyon", "unit": "celsius"}
    assert call["id"].startswith("tooluse_")
    assert message.invalid_tool_calls == []
    assert message.response_metadata["finish_reason"] == "tool_calls"


def test_chat_mistralai_streams_parallel_tool_calls_intact(base_url):
    llm = ChatMistralAI(model="mistral-large-3", endpoint=f"{base_url}/stream/v1", api_key="unused", max_retries=0)
    message = streamed(llm.bind_tools([tool("get_weather"), tool("get_time")]), TWO_CALLS)
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"city": "Tokyo"}),
    ]
    assert message.tool_calls[0]["id"] != message.tool_calls[1]["id"]
    assert message.invalid_tool_calls == []


def test_openai_helper_reads_a_whole_streamed_call(base_url):
    client = openai.OpenAI(base_url=f"{base_url}/stream/v1", api_key="unused", max_retries=0)
    prompt = '[[call:get_weather {"city":"Paris","unit":"celsius","days":3}]]'
    with client.chat.completions.stream(model="mistral-large-3", messages=user(prompt), tools=[tool("get_weather")]) as stream:
        events = list(stream)
        completion = stream.get_final_completion()
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert [(e.name, json.loads(e.arguments)) for e in done] == [("get_weather", {"city": "Paris", "unit": "celsius", "days": 3})]
    (call,) = completion.choices[0].message.tool_calls
    assert call.id.startswith("tooluse_") and call.type == "function"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "celsius", "days": 3}


def test_mistralai_sdk_streams_each_call_whole_with_its_name(base_url):
    from mistralai.client import Mistral

    client = Mistral(api_key="unused", server_url=f"{base_url}/stream")
    events = list(client.chat.stream(model="mistral-large-3", messages=user(TWO_CALLS), tools=[tool("get_weather"), tool("get_time")]))
    calls = [call for e in events for call in (e.data.choices[0].delta.tool_calls or [])]
    assert [(c.index, c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        (0, "get_weather", {"city": "Paris"}),
        (1, "get_time", {"city": "Tokyo"}),
    ]
    assert all(c.id.startswith("tooluse_") for c in calls)


# ---------------------------------------------------------- 6: stream: true on the /v1 base URL


def test_openai_streams_from_v1_in_one_buffered_body(base_url):
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    response = client.chat.completions.with_raw_response.create(
        model="mistral-large", messages=user("Hello there"), stream=True
    )
    assert response.headers["x-stream-mode"] == "buffered"
    assert response.headers["content-type"] == "text/event-stream"
    chunks = list(response.parse())
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "You said: Hello there"
    assert len({c.id for c in chunks}) == 1
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.total_tokens == 6
    assert chunks[-1].model_extra["routing"]["policy"] == "fixed"


def test_openai_helper_streams_a_tool_call_from_v1(base_url):
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    with client.chat.completions.stream(
        model="mistral-large", messages=user(TWO_CALLS), tools=[tool("get_weather"), tool("get_time")]
    ) as stream:
        completion = stream.get_final_completion()
    calls = completion.choices[0].message.tool_calls
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"city": "Tokyo"}),
    ]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_mistralai_sdk_streams_from_the_v1_base_url(mistral_client):
    # mistral-vibe's backend: chat.stream with server_url at the gateway's root (/v1 appended).
    events = list(mistral_client.chat.stream(model="devstral-2", messages=user("Bonjour tout le monde")))
    chunks = [e.data for e in events]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "You said: Bonjour tout le monde"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.total_tokens > 0


def test_chat_mistralai_streams_a_tool_call_from_v1(base_url):
    llm = ChatMistralAI(model="mistral-large", endpoint=f"{base_url}/v1", api_key="unused", max_retries=0)
    message = streamed(llm.bind_tools([tool("get_weather")]), '[[call:get_weather {"city":"Oslo"}]]')
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("get_weather", {"city": "Oslo"})]


def test_a_v1_stream_that_fails_before_the_answer_raises_with_its_status(openai_client):
    with pytest.raises(openai.RateLimitError) as raised:
        openai_client.chat.completions.create(model="mistral-large", messages=user("hi [[fault:throttle]]"), stream=True)
    assert raised.value.response.headers["retry-after"] == "2"


# --------------------------------------------------------------- 7: reasoning_effort on Devstral 2


def test_reasoning_effort_on_devstral_2_is_refused_as_mistral_refuses_it(mistral_client):
    # What mistral-vibe sends for a model with thinking set: the field, on a model that does not
    # reason. Mistral's API refuses it for such models too; the message says how to turn it off.
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_client.chat.complete(model="devstral-2", messages=user("Hi"), reasoning_effort="high")
    assert raised.value.status_code == 400
    error = json.loads(raised.value.body)["error"]
    assert error["param"] == "reasoning_effort"
    assert 'thinking = "off"' in error["message"]
    # With thinking off vibe leaves the field out, and Devstral 2 answers.
    reply = mistral_client.chat.complete(model="devstral-2", messages=user("Hi"))
    assert reply.model == "mistral.devstral-2-123b"
    assert reply.choices[0].message.content == "You said: Hi"


# ------------------------------------ 4: json_schema on models without native structured output


def test_openai_parse_on_large_2_answers_through_the_forced_tool(openai_client):
    completion = openai_client.chat.completions.parse(
        model="mistral-large", messages=user("Capital of France?"), response_format=Capital
    )
    message = completion.choices[0].message
    assert isinstance(message.parsed, Capital), message
    assert message.parsed.city and message.parsed.country
    assert not message.tool_calls
    assert completion.choices[0].finish_reason == "stop"


def test_mistralai_parse_on_large_2_and_streamed_from_pixtral(mistral_client):
    parsed = mistral_client.chat.parse(
        model="mistral-large-2407", messages=user("Capital of France?"), response_format=Capital
    )
    assert isinstance(parsed.choices[0].message.parsed, Capital), parsed
    text = "".join(
        event.data.choices[0].delta.content or ""
        for event in mistral_client.chat.parse_stream(
            model="pixtral-large", messages=user("Capital of France?"), response_format=Capital
        )
        if event.data.choices
    )
    assert Capital.model_validate_json(text).city, text


def test_json_schema_on_a_model_that_can_do_neither_names_what_to_use(openai_client):
    with pytest.raises(openai.BadRequestError) as refused:
        openai_client.chat.completions.parse(
            model="mistral-7b", messages=user("Capital of France?"), response_format=Capital
        )
    assert "function_calling" in str(refused.value) and refused.value.status_code == 400
