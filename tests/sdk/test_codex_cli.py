"""Codex CLI (`@openai/codex`, installed into tests/agents by scripts/test with `npm ci`) with a
custom model provider on the Responses API (`wire_api = "responses"`), against the dev server:
`codex exec` sends its prompt, the scripted model calls Codex's shell tool (`exec_command`),
Codex runs it and sends the output back as a `function_call_output` item, and the model's
answer quotes it. Over `/stream/v1` (live events) and `/v1` (the buffered event stream)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CODEX = ROOT / "tests" / "agents" / "node_modules" / ".bin" / "codex"
PROMPT = 'Say hello from the shell. [[call:exec_command {"cmd":"echo hello-from-codex"}]]'


def config(base_url: str) -> str:
    return f"""model = "mistral-large-3"
model_provider = "gateway"

[model_providers.gateway]
name = "gateway"
base_url = "{base_url}"
wire_api = "responses"
env_key = "GATEWAY_API_KEY"
request_max_retries = 0
stream_max_retries = 0
"""


@pytest.mark.parametrize("base", ["/stream/v1", "/v1"])
def test_codex_exec_completes_a_shell_tool_round_trip(base_url, tmp_path, base):
    assert CODEX.exists(), f"{CODEX} is missing: run `npm ci --prefix tests/agents` (scripts/test does)"
    home, work = tmp_path / "codex-home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (home / "config.toml").write_text(config(f"{base_url}{base}"))
    last = tmp_path / "last-message.txt"
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "CODEX_HOME": str(home),
           "GATEWAY_API_KEY": "unused"}
    run = subprocess.run(
        [str(CODEX), "exec", "--skip-git-repo-check", "--output-last-message", str(last), PROMPT],
        cwd=work, env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    answer = last.read_text()
    # The model's second turn quotes the tool result Codex sent back: the command really ran.
    assert answer.startswith("Tool results: name=exec_command -> "), answer
    assert "hello-from-codex" in answer, answer
    assert "exit code 0" in answer.lower() or "exited with code 0" in answer, answer
