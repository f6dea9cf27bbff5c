"""instructor, unmodified, against the dev server: `instructor.from_openai(OpenAI(base_url=...))`
extracting a pydantic model in TOOLS mode (the model's forced tool call, arguments from the
emulator's `[[call:NAME {args}]]` directive), in JSON_SCHEMA mode with and without the model's
native JSON schema (the emulator answers a value built from the schema), and streamed as partial objects
from /stream/v1 (one: like Mistral's API, the gateway streams a tool call whole). scripts/test runs
these in .venv-instructor (see requirements.txt)."""

import json
import os

import instructor
import pytest
from openai import OpenAI
from pydantic import BaseModel


@pytest.fixture(scope="module")
def base_url() -> str:
    url = os.environ.get("DEV_BASE_URL")
    if not url:
        pytest.fail("DEV_BASE_URL is not set: run these tests through scripts/test, which starts the dev server")
    return url.rstrip("/")


def patched(base_url, mode, path="/v1"):
    return instructor.from_openai(OpenAI(base_url=f"{base_url}{path}", api_key="unused", max_retries=0), mode=mode)


class UserInfo(BaseModel):
    name: str
    age: int


def directive(name, args):
    return f"[[call:{name} {json.dumps(args)}]]"


def test_tools_mode_extracts_the_model_from_the_forced_tool_call(base_url):
    client = patched(base_url, instructor.Mode.TOOLS)
    user, completion = client.chat.completions.create_with_completion(
        model="mistral-large",
        response_model=UserInfo,
        max_retries=0,
        messages=[{"role": "user", "content": "Jason is 25. " + directive("UserInfo", {"name": "Jason", "age": 25})}],
    )
    assert isinstance(user, UserInfo) and user.model_dump() == {"name": "Jason", "age": 25}
    [call] = completion.choices[0].message.tool_calls
    assert call.function.name == "UserInfo"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0


def test_tools_mode_without_a_directive_gets_schema_shaped_arguments(base_url):
    # tool_choice names the tool, so the model must call it; the emulator builds the arguments.
    client = patched(base_url, instructor.Mode.TOOLS)
    user = client.chat.completions.create(
        model="mistral-large",
        response_model=UserInfo,
        max_retries=0,
        messages=[{"role": "user", "content": "Extract the user."}],
    )
    assert user.model_dump() == {"name": "example", "age": 1}


# Ministral 3 and Large 3 have native structured output; Large 2 answers through the gateway's
# forced tool, its arguments sent back as the content.
@pytest.mark.parametrize("model", ["ministral-8b", "mistral-large-3", "mistral-large"])
def test_json_schema_mode(base_url, model):
    client = patched(base_url, instructor.Mode.JSON_SCHEMA)
    user, completion = client.chat.completions.create_with_completion(
        model=model,
        response_model=UserInfo,
        max_retries=0,
        messages=[{"role": "user", "content": "Extract the user."}],
    )
    assert isinstance(user, UserInfo) and user.model_dump() == {"name": "example", "age": 1}
    assert json.loads(completion.choices[0].message.content) == {"name": "example", "age": 1}
    assert completion.usage.total_tokens > 0


def test_tools_mode_streams_partial_objects_from_the_stream_route(base_url):
    client = patched(base_url, instructor.Mode.TOOLS, "/stream/v1")
    partials = list(
        client.chat.completions.create_partial(
            model="mistral-large",
            response_model=UserInfo,
            max_retries=0,
            # instructor names the streamed tool after its partial model.
            messages=[{"role": "user", "content": directive("PartialUserInfo", {"name": "Ada Lovelace", "age": 36})}],
        )
    )
    assert partials[-1].model_dump() == {"name": "Ada Lovelace", "age": 36}
    # Like Mistral's API, the stream carries each tool call whole, in one chunk.
    assert len(partials) == 1, partials
