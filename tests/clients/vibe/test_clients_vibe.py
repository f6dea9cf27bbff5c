"""mistral-vibe, Mistral's coding agent CLI, unmodified, against the dev server: headless mode
(`vibe -p`) with a config file in a temporary VIBE_HOME whose provider points at the gateway, the
API key from an environment variable. The prompt's `[[call:read_file {...}]]` directive makes the
model call vibe's own read_file tool; vibe runs it and sends the result back; the model answers
`Tool results: name=read_file -> <the tool's output>`. Once through vibe's generic
(OpenAI-style) backend on /stream/v1, once through its Mistral backend (the mistralai SDK) on /v1,
where the gateway sends the stream whole. scripts/test runs these in .venv-vibe (see
requirements.txt)."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

VIBE = Path(sys.executable).parent / "vibe"


@pytest.fixture(scope="module")
def base_url() -> str:
    url = os.environ.get("DEV_BASE_URL")
    if not url:
        pytest.fail("DEV_BASE_URL is not set: run these tests through scripts/test, which starts the dev server")
    return url.rstrip("/")


def config(api_base: str, backend: str) -> str:
    # Nothing vibe would fetch from the internet (telemetry, updates, MCP, connectors).
    return f"""
active_model = "gateway-large"
enable_telemetry = false
enable_update_checks = false
enable_auto_update = false
enable_notifications = false
enable_mcp = false
enable_connectors = false

[[providers]]
name = "gateway"
api_base = "{api_base}"
api_key_env_var = "GATEWAY_API_KEY"
backend = "{backend}"

[[models]]
name = "mistral-large"
provider = "gateway"
alias = "gateway-large"
"""


@pytest.mark.parametrize(("backend", "path"), [("generic", "/stream/v1"), ("mistral", "/v1")])
def test_vibe_reads_a_file_with_its_tool_and_answers(base_url, tmp_path, backend, path):
    home, work, export = tmp_path / "home", tmp_path / "work", tmp_path / "export"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(config(f"{base_url}{path}", backend))
    secret = f"The secret word is {secrets.token_hex(8)}."
    (work / "notes.txt").write_text(secret + "\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MISTRAL_", "VIBE_"))}
    env.update(HOME=str(home), VIBE_HOME=str(home), GATEWAY_API_KEY="unused")
    prompt = 'Read notes.txt [[call:read_file {"path":"notes.txt"}]]'
    done = subprocess.run(
        [str(VIBE), "-p", prompt, "--output", "json", "--max-turns", "4", "--trust", "--workdir", str(work),
         "--output-dir", str(export)],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, f"vibe exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    entries = json.loads(done.stdout)

    # vibe's read_file tool ran, on the arguments the model sent, and read the file.
    [effect] = [entry for entry in entries if entry["type"] == "effect"]
    assert effect["detail"]["toolName"].endswith("read_file")
    assert effect["detail"]["input"]["filePath"] == "notes.txt"
    assert effect["state"]["status"] == "completed"
    assert effect["state"]["output"]["content"] == secret + "\n"

    # The model's answer after the tool result: the tool's output, as vibe sent it back.
    answer = entries[-1]
    assert (answer["type"], answer["role"]) == ("message", "assistant")
    [text] = [part["text"] for part in answer["content"] if part["type"] == "text"]
    assert text.startswith("Tool results: name=read_file -> {")
    assert json.loads(text.removeprefix("Tool results: name=read_file -> "))["content"] == secret + "\n"

    # Two model calls (the tool call, the answer), their usage counted from the gateway's.
    summary = json.loads((export / "export.json").read_text())
    assert (summary["outcome"], summary["steps"]) == ("finished", 2)
    assert summary["usage"]["input_tokens"] > 0 and summary["usage"]["output_tokens"] > 0
