"""The official openai and mistralai SDKs, unmodified, against the sync route (/v1)."""

import json

import openai
import pytest
from mistralai.client import errors as mistral_errors

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_openai_chat(openai_client):
    reply = openai_client.chat.completions.create(
        model="mistral-large",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}],
        temperature=0.2,
        max_tokens=50,
    )
    assert reply.choices[0].message.content == "[system: Be brief.] You said: Hello there"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 0 and reply.usage.completion_tokens == 7
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.model == "mistral.mistral-large-2407-v1:0"


def test_openai_tool_call_round_trip(openai_client):
    messages = [{"role": "user", "content": "What is the weather in Paris?"}]
    first = openai_client.chat.completions.create(model="mistral-large", messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temp_c": 21})})
    second = openai_client.chat.completions.create(model="mistral-large", messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].message.content == 'Tool results: name=get_weather -> {"temp_c": 21}'


def test_openai_json_schema(openai_client):
    reply = openai_client.chat.completions.create(
        model="mistral-large-3",
        messages=[{"role": "user", "content": "Capital of France?"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "City", "schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
        },
    )
    assert isinstance(json.loads(reply.choices[0].message.content)["city"], str)


def test_openai_models_list(openai_client):
    ids = [m.id for m in openai_client.models.list()]
    assert "mistral.mistral-large-2407-v1:0" in ids


def test_openai_errors_are_typed(openai_client):
    with pytest.raises(openai.RateLimitError) as throttled:
        openai_client.chat.completions.create(model="mistral-large", messages=[{"role": "user", "content": "hi [[fault:throttle]]"}])
    assert "Retry" in throttled.value.message
    with pytest.raises(openai.BadRequestError) as bad:
        openai_client.chat.completions.create(model="mistral-large", messages=[{"role": "user", "content": "hi"}], temperature=1.7)
    assert "temperature" in bad.value.message
    with pytest.raises(openai.NotFoundError):
        openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.PermissionDeniedError) as denied:
        openai_client.chat.completions.create(model="mistral-large", messages=[{"role": "user", "content": "hi [[fault:access_denied]]"}])
    assert "Model access" in denied.value.message


def test_mistral_chat(mistral_client):
    reply = mistral_client.chat.complete(model="mistral-large-latest", messages=[{"role": "user", "content": "Bonjour"}])
    assert reply.choices[0].message.content == "You said: Bonjour"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_mistral_tool_call(mistral_client):
    reply = mistral_client.chat.complete(
        model="mistral-large",
        messages=[{"role": "user", "content": "What is the weather in Lyon?"}],
        tools=[WEATHER_TOOL],
        tool_choice="any",
    )
    call = reply.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    arguments = call.function.arguments
    assert "city" in (json.loads(arguments) if isinstance(arguments, str) else arguments)
    assert reply.choices[0].finish_reason == "tool_calls"


def test_mistral_error_is_the_sdk_exception(mistral_client):
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_client.chat.complete(model="mistral-large", messages=[{"role": "user", "content": "hi [[fault:throttle]]"}])
    assert raised.value.status_code == 429
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_client.chat.complete(model="mistral-large", messages=[{"role": "user", "content": "hi"}], random_seed=3)
    assert raised.value.status_code == 400
    assert "random_seed" in raised.value.body
