"""Shared fixtures: the dev server's base URL (started by scripts/test) and SDK clients."""

import os

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
