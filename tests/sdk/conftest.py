"""Shared fixtures: the dev server started by scripts/test, dev servers with settings of their own,
a standalone Bedrock emulator (for boto3), SDK clients, and a gateway with keys on (a DynamoDB
server on loopback, the operator CLI `gateway-admin`, a dev server with `KEYS_TABLE`)."""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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
            _drain(process)
            return process, match.group(1)
    process.kill()
    pytest.fail(f"{binary} did not listen in time")


def _drain(process: subprocess.Popen) -> None:
    """Reads a started binary's output to its end, so a full pipe never blocks it (the dev server
    writes a metrics line per request)."""

    def read():
        for _ in process.stdout:
            pass

    threading.Thread(target=read, daemon=True).start()


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


# ------------------------------------------------------------------------------------------ keys

KEYS_TABLE = "gateway-keys"


@pytest.fixture(scope="module")
def dynamodb_url(tmp_path_factory):
    """A DynamoDB-compatible server on a free port (scripts/dynamodb-server: moto, one request at
    a time), stopped when the module's tests end."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("dynamodb") / "server.log"
    with open(log_path, "w") as log:
        # Its own process group: the launcher may still be installing moto (pip) when stopped.
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "dynamodb-server"), str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    deadline = time.monotonic() + 120  # the first run installs moto into .venv-dynamodb
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"scripts/dynamodb-server exited {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                stop()
                pytest.fail(f"scripts/dynamodb-server did not accept connections in time:\n{log_path.read_text()}")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    stop()


class Admin:
    """The operator CLI (`gateway-admin`, built by scripts/test as ADMIN_BIN) on one table, with
    `--json`: `admin("keys", "revoke", key_id)` returns what it printed, parsed."""

    def __init__(self, table: str, env: dict):
        binary = os.environ.get("ADMIN_BIN")
        if not binary:
            pytest.fail("ADMIN_BIN is not set: run these tests through scripts/test, which builds gateway-admin")
        self.binary, self.table, self.env = binary, table, {**os.environ, **env}

    def run(self, *args) -> str:
        command = [self.binary, "--table", self.table, "--json", *map(str, args)]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            pytest.fail(f"gateway-admin {' '.join(command[1:])} exited {done.returncode}:\n{done.stderr}{done.stdout}")
        return done.stdout

    def __call__(self, *args) -> dict:
        return json.loads(self.run(*args))

    def create_key(self, name: str, **options) -> dict:
        """`keys create --name NAME` with `options` as flags: `models=["a", "b"]` is `--models a,b`,
        `budget_usd=0.5` is `--budget-usd 0.5`. Returns the key as created, its `key` included."""
        args = ["keys", "create", "--name", name]
        for option, value in options.items():
            args += ["--" + option.replace("_", "-"), ",".join(value) if isinstance(value, list) else value]
        return self(*args)


@dataclass
class KeysGateway:
    """A dev server with keys on, and the CLI that manages its keys."""

    url: str
    admin: Admin


@pytest.fixture(scope="module")
def keys_gateway(dynamodb_url):
    """A dev server with keys on: the table `gateway-keys` created by `gateway-admin init` on the
    module's DynamoDB server, keys never cached (a revoked key is refused at once), one attempt
    per Bedrock call. Keys are made by the tests through `keys_gateway.admin`."""
    env = {
        "KEYS_TABLE": KEYS_TABLE,
        "KEYS_CACHE_TTL_MS": "0",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "BEDROCK_MAX_ATTEMPTS": "1",
    }
    admin = Admin(KEYS_TABLE, env)
    admin.run("init")
    process, url = _start("DEV_BIN", env, "dev server listening on")
    yield KeysGateway(url, admin)
    process.kill()
    process.wait()
