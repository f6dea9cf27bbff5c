"""Mistral's native API on Bedrock: AWS's boto3 examples run unmodified against the emulator
(plain invoke, invoke with response stream, the payment-status tool round trip), and the
official SDKs through the gateway for models it calls with the native body."""

import os
import pathlib
import subprocess
import sys

import pytest
from openai import OpenAI

EXAMPLES = pathlib.Path(__file__).parent / "aws_examples"


def run_example(name, emulator_url):
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": emulator_url,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "example-secret",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_aws_invoke_model_example(emulator_url):
    out = run_example("invoke_model.py", emulator_url)
    assert out.strip() == "You said: Describe the purpose of a 'hello world' program in one line."


def test_aws_invoke_model_with_response_stream_example(emulator_url):
    out = run_example("invoke_model_with_response_stream.py", emulator_url)
    assert out == "You said: Describe the purpose of a 'hello world' program in one line."


def test_aws_payment_status_tool_round_trip(emulator_url):
    out = run_example("payment_status_tools.py", emulator_url).splitlines()
    assert out[0] == "function_name: retrieve_payment_status function_params: {'transaction_id': 'T1001'}"
    assert out[1] == 'Tool results: name=retrieve_payment_status -> {"status": "Paid"}'


@pytest.fixture(scope="module")
def native(dev_server):
    return dev_server(BEDROCK_INVOKE_MODELS="mistral-large,mixtral-8x7b")


def test_the_sdks_see_no_difference_on_native_models(native):
    client = OpenAI(base_url=f"{native}/v1", api_key="unused", max_retries=0)
    for model in ("mistral-large", "mixtral-8x7b"):
        reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hello native"}])
        assert reply.choices[0].message.content == "You said: Hello native"
        assert reply.usage.prompt_tokens > 0 and reply.usage.model_extra["cost_usd"] > 0
    stream = OpenAI(base_url=f"{native}/stream/v1", api_key="unused", max_retries=0)
    chunks = list(stream.chat.completions.create(model="mistral-large", stream=True, messages=[{"role": "user", "content": "a b c"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "You said: a b c"
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_tool_choice_none_after_tool_calls_works_natively(native):
    client = OpenAI(base_url=f"{native}/v1", api_key="unused", max_retries=0)
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
    reply = client.chat.completions.create(
        model="mistral-large",
        tools=[tool],
        tool_choice="none",
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": "", "tool_calls": [{"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call00001", "content": "sunny"},
            {"role": "user", "content": "Now just say bye"},
        ],
    )
    assert reply.choices[0].finish_reason == "stop"
    assert not reply.choices[0].message.tool_calls


def test_the_tool_loop_runs_natively(native):
    client = OpenAI(base_url=f"{native}/tools/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(model="mistral-large", messages=[{"role": "user", "content": "What's the status of my transaction T1001?"}])
    assert "Paid" in reply.choices[0].message.content
    assert reply.model_extra["tool_runs"][0]["name"] == "retrieve_payment_status"
