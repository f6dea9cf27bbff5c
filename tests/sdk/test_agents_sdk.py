"""The OpenAI Agents SDK with its default model, `OpenAIResponsesModel` (the Responses API),
pointed at the gateway through `set_default_openai_client`: an agent calls a function tool and
answers with its result, over `/v1` and over `/stream/v1` (streamed run)."""

import asyncio

import pytest
from agents import Agent, Runner, function_tool, set_default_openai_client, set_tracing_disabled
from agents.models.openai_provider import OpenAIProvider
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI

calls = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    calls.append(city)
    return f"sunny in {city}"


def agent():
    return Agent(
        name="Weather",
        instructions="Use the tool.",
        model="mistral-large",
        tools=[get_weather],
    )


@pytest.fixture()
def gateway(base_url):
    def use(base):
        client = AsyncOpenAI(base_url=f"{base_url}{base}", api_key="unused", max_retries=0)
        set_default_openai_client(client, use_for_tracing=False)
        set_tracing_disabled(True)
        calls.clear()

    return use


def test_the_default_model_is_the_responses_model(gateway):
    """No `set_default_openai_api`: the runs below use the SDK's default, the Responses API."""
    gateway("/v1")
    assert isinstance(OpenAIProvider().get_model("mistral-large"), OpenAIResponsesModel)


def test_an_agent_completes_a_function_tool_round_trip(gateway):
    gateway("/v1")
    result = asyncio.run(Runner.run(agent(), 'Weather in Paris? [[call:get_weather {"city":"Paris"}]]'))
    assert calls == ["Paris"]
    # Two model calls, both through the Responses API (chat completions have no response ids).
    assert [r.response_id[:5] for r in result.raw_responses] == ["resp_", "resp_"]
    assert result.final_output == "Tool results: name=get_weather -> sunny in Paris"


def test_a_streamed_agent_run_completes_a_function_tool_round_trip(gateway):
    gateway("/stream/v1")

    async def run():
        streamed = Runner.run_streamed(agent(), 'Weather in Lyon? [[call:get_weather {"city":"Lyon"}]]')
        kinds = [event.type async for event in streamed.stream_events()]
        return streamed, kinds

    streamed, kinds = asyncio.run(run())
    assert calls == ["Lyon"]
    assert "raw_response_event" in kinds
    assert streamed.final_output == "Tool results: name=get_weather -> sunny in Lyon"
