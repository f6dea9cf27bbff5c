"""Shared fixtures: the dev server started by scripts/test, dev servers with settings of their own,
a standalone Bedrock emulator (for boto3), and SDK clients."""

import os
import re
import socket
import subprocess
import time

import pytest


@pytest.fixture(scope="session")
def base_url() -> str:
    url = os.environ.get("DEV_BASE_URL")
    if not url:
        pytest.fail("DEV_BASE_URL is not set: run these tests through scripts/test, which starts the dev server")
    return url.rstrip("/")


@pytest.fixture(scope="session")
def openai_client(base_url):
    from openai import OpenAI

    return OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)


@pytest.fixture(scope="session")
def mistral_client(base_url):
    from mistralai.client import Mistral

    # The SDK appends /v1/chat/completions to server_url.
    return Mistral(api_key="unused", server_url=base_url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(binary_var: str, env: dict, ready: str) -> tuple[subprocess.Popen, str]:
    """Starts the binary named by `binary_var` with `env`; returns it and its base URL once it
    prints `ready` followed by its URL."""
    binary = os.environ.get(binary_var)
    if not binary:
        pytest.fail(f"{binary_var} is not set: run these tests through scripts/test")
    port = _free_port()
    full_env = {**os.environ, "PORT": str(port), "BEDROCK_MAX_ATTEMPTS": "1", "RUST_LOG": "warn", **env}
    process = subprocess.Popen([binary], env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            pytest.fail(f"{binary} exited: {process.returncode}")
        match = re.search(ready + r" (http://[0-9.:]+)", line)
        if match:
            return process, match.group(1)
    process.kill()
    pytest.fail(f"{binary} did not listen in time")


@pytest.fixture(scope="module")
def dev_server():
    """Starts dev servers with settings of their own: `dev_server(ROUTING_TIERS="...")` returns
    the base URL. Every server started is stopped when the module's tests end."""
    started = []

    def start(**env):
        process, url = _start("DEV_BIN", env, "dev server listening on")
        started.append(process)
        return url

    yield start
    for process in started:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def emulator_url():
    """A standalone Bedrock emulator, for clients that talk to Bedrock directly (boto3)."""
    process, url = _start("EMULATOR_BIN", {}, "bedrock-emulator listening on")
    yield url
    process.kill()
    process.wait()
