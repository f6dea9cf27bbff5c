"""pydantic-ai, unmodified, against the dev server: an Agent on the OpenAI chat model (a function
tool round trip, structured output through its default tool output and through NativeOutput
(json_schema, with and without the model's native structured output), `run_stream` against
/stream/v1 for text, tools and structured output) and on the Mistral model (a tool round trip,
tool output, Magistral's thinking read from Mistral's format with `x-reasoning-format: mistral`).
The emulator's `[[call:...]]` directives in the prompt choose the model's tool calls; after the
tool result it answers `Tool results: name=<tool> -> <content>`."""

import asyncio

import httpx2
import pytest
from pydantic import BaseModel
from pydantic_ai import Agent, NativeOutput
from pydantic_ai.models.mistral import MistralModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.mistral import MistralProvider
from pydantic_ai.providers.openai import OpenAIProvider


def openai_model(base_url, path="/v1", name="mistral-large"):
    return OpenAIChatModel(name, provider=OpenAIProvider(base_url=f"{base_url}{path}", api_key="unused"))


def weather_agent(model):
    """An agent with one function tool that records each call it runs."""
    agent = Agent(model)
    calls = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return f"Sunny in {city}"

    return agent, calls


def test_openai_chat_model_runs_a_function_tool_round_trip(base_url):
    agent, calls = weather_agent(openai_model(base_url))
    result = agent.run_sync('Weather? [[call:get_weather {"city":"Paris"}]]')
    assert calls == ["Paris"]
    assert result.output == "Tool results: name=get_weather -> Sunny in Paris"
    # The model's call, as pydantic-ai parsed it, and the tool's result it sent back.
    parts = [part for message in result.all_messages() for part in message.parts]
    call = next(part for part in parts if part.part_kind == "tool-call")
    assert (call.tool_name, call.args_as_dict()) == ("get_weather", {"city": "Paris"})
    returned = next(part for part in parts if part.part_kind == "tool-return")
    assert returned.tool_call_id == call.tool_call_id
    usage = result.usage
    assert usage.requests == 2
    assert usage.input_tokens > 0 and usage.output_tokens > 0


class City(BaseModel):
    name: str
    country: str
    population_millions: float


def test_openai_chat_model_gives_structured_output_through_its_output_tool(base_url):
    agent = Agent(openai_model(base_url), output_type=City)
    prompt = 'Tell me about Paris. [[call:final_result {"name":"Paris","country":"France","population_millions":2.1}]]'
    result = agent.run_sync(prompt)
    assert result.output == City(name="Paris", country="France", population_millions=2.1)
    sent = result.all_messages()[-2].parts[-1]
    assert (sent.part_kind, sent.tool_name) == ("tool-call", "final_result")


def test_openai_chat_model_structured_output_without_directives_follows_the_schema(base_url):
    # No directive: pydantic-ai requires a tool call (tool_choice "required"), so the model calls
    # its only tool, the output tool, with arguments built from the schema.
    agent = Agent(openai_model(base_url), output_type=City)
    result = agent.run_sync("Tell me about a city.")
    assert result.output == City(name="example", country="example", population_millions=1)


@pytest.mark.parametrize("model", ["ministral-8b", "mistral-large"])
def test_openai_chat_model_native_output(base_url, model):
    # NativeOutput sends response_format json_schema: Ministral 3 has native structured output,
    # Large 2 answers through the gateway's forced tool; the emulator answers a value of the schema.
    agent = Agent(openai_model(base_url, name=model), output_type=NativeOutput(City))
    result = agent.run_sync("Tell me about a city.")
    assert result.output == City(name="example", country="example", population_millions=1)
    assert result.usage.output_tokens > 0


def test_openai_chat_model_streams_structured_output_from_the_stream_route(base_url):
    agent = Agent(openai_model(base_url, "/stream/v1"), output_type=City)
    prompt = '[[call:final_result {"name":"Nice","country":"France","population_millions":0.34}]]'

    async def run():
        async with agent.run_stream(prompt) as streamed:
            outputs = [output async for output in streamed.stream_output(debounce_by=None)]
            return outputs, await streamed.get_output()

    outputs, output = asyncio.run(run())
    assert output == City(name="Nice", country="France", population_millions=0.34)
    assert outputs[-1] == output


def test_openai_chat_model_streams_text_from_the_stream_route(base_url):
    agent = Agent(openai_model(base_url, "/stream/v1"))

    async def run():
        async with agent.run_stream("Hello streaming world") as streamed:
            deltas = [delta async for delta in streamed.stream_text(delta=True, debounce_by=None)]
            return deltas, streamed.usage

    deltas, usage = asyncio.run(run())
    assert "".join(deltas) == "You said: Hello streaming world"
    assert len(deltas) > 1, deltas
    assert usage.input_tokens > 0 and usage.output_tokens > 0


def test_openai_chat_model_streams_a_tool_round_trip(base_url):
    agent, calls = weather_agent(openai_model(base_url, "/stream/v1"))

    async def run():
        async with agent.run_stream('[[call:get_weather {"city":"Lyon"}]]') as streamed:
            return await streamed.get_output()

    assert asyncio.run(run()) == "Tool results: name=get_weather -> Sunny in Lyon"
    assert calls == ["Lyon"]


def test_mistral_model_runs_a_function_tool_round_trip(base_url):
    model = MistralModel("mistral-large", provider=MistralProvider(api_key="unused", base_url=base_url))
    agent, calls = weather_agent(model)
    result = agent.run_sync('Weather? [[call:get_weather {"city":"Oslo"}]]')
    assert calls == ["Oslo"]
    assert result.output == "Tool results: name=get_weather -> Sunny in Oslo"
    usage = result.usage
    assert usage.requests == 2 and usage.input_tokens > 0


def test_mistral_model_gives_structured_output(base_url):
    model = MistralModel("mistral-large", provider=MistralProvider(api_key="unused", base_url=base_url))
    agent = Agent(model, output_type=City)
    prompt = '[[call:final_result {"name":"Rome","country":"Italy","population_millions":2.8}]]'
    assert agent.run_sync(prompt).output == City(name="Rome", country="Italy", population_millions=2.8)


def magistral(base_url, prefix=""):
    """Magistral through the Mistral model, asking the gateway for reasoning the way Mistral's API
    sends it (`thinking` chunks, which pydantic-ai's Mistral model reads) with its header."""
    client = httpx2.AsyncClient(headers={"x-reasoning-format": "mistral"})
    provider = MistralProvider(api_key="unused", base_url=f"{base_url}{prefix}", http_client=client)
    return MistralModel("magistral-small", provider=provider)


def test_mistral_model_reads_magistral_thinking(base_url):
    parts = Agent(magistral(base_url)).run_sync("Think it over").all_messages()[-1].parts
    assert [(part.part_kind, part.content) for part in parts] == [
        ("thinking", "Thinking about: Think it over"),
        ("text", "You said: Think it over"),
    ]


def test_mistral_model_streams_magistral_thinking_from_the_stream_route(base_url):
    # The Mistral SDK appends /v1/chat/completions to the base URL.
    agent = Agent(magistral(base_url, "/stream"))

    async def run():
        async with agent.run_stream("Think it through") as streamed:
            return await streamed.get_output(), streamed.all_messages()[-1].parts

    output, parts = asyncio.run(run())
    assert output == "You said: Think it through"
    assert [(part.part_kind, part.content) for part in parts] == [
        ("thinking", "Thinking about: Think it through"),
        ("text", "You said: Think it through"),
    ]
