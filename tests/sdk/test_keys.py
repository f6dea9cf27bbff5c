"""The official openai and mistralai SDKs against a gateway with keys on (`KEYS_TABLE`): the key is
the SDKs' own `api_key`, on every route; refusals are the SDKs' typed errors (401 for a missing,
wrong, revoked or rotated-out key, 403 for a model or route the key may not use, 429 for a spent
budget or a rate limit, with `Retry-After`); `GET /v1/key` and `gateway-admin spend` agree with
what the answers said they cost. Keys are made with the operator CLI, `gateway-admin`, on a
DynamoDB server of the module's own (see conftest's `keys_gateway`)."""

import json
import time

import openai
import pytest
from mistralai.client import Mistral
from mistralai.client import errors as mistral_errors
from mistralai.client.utils import BackoffStrategy, RetryConfig

SMALL = "mistral.ministral-3-3b-instruct"
MEDIUM = "mistral.ministral-3-14b-instruct"
SEED_PROMPT = "What's the status of my transaction T1001?"
# $0.00003 (30,000 nano-dollars) a day: a few 50-token answers of Ministral 3B ($0.10/$0.10 per
# 1M), each reserving ~15,000 (its input bound plus max_tokens) before it settles at ~5,000.
TINY_BUDGET_USD = "0.00003"
TINY_BUDGET_NANOS = 30_000
NO_RETRIES = RetryConfig("none", BackoffStrategy(1, 1, 1.0, 1), False)


def user(text):
    return [{"role": "user", "content": text}]


def openai_at(gateway, key, route="/v1"):
    return openai.OpenAI(base_url=f"{gateway.url}{route}", api_key=key, max_retries=0)


def mistral_at(gateway, key, prefix=""):
    # The SDK appends /v1/chat/completions to server_url: "/stream" and "/tools" pick the route.
    return Mistral(api_key=key, server_url=f"{gateway.url}{prefix}", retry_config=NO_RETRIES)


def nanos(usd):
    """Nano-dollars of a USD amount: the unit budgets and the ledger count in."""
    return round(usd * 1e9)


def error_of(raised):
    """The `error` object of a mistralai SDK exception's body."""
    return json.loads(raised.body)["error"]


def get_key(gateway, key):
    """`GET /v1/key` through the openai client's own HTTP call, with the key as its api_key."""
    return openai_at(gateway, key).get("/key", cast_to=object)


def mistral_usage(usage):
    """A mistralai usage as a dict (the gateway's `cost_usd` is an extra field)."""
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "cost_usd": usage.model_extra["cost_usd"],
    }


def until_refused(call, refusal, limit=10):
    """Calls `call` until it raises `refusal`; returns the answers before it and the exception."""
    answers = []
    for _ in range(limit):
        try:
            answers.append(call())
        except refusal as refused:
            return answers, refused
    pytest.fail(f"still admitted after {limit} calls")


def two_calls_in_one_minute(call, refusal):
    """Two calls, in one UTC minute unless it turns between them: returns the refusal of the
    second (None if it was answered) and whether the minute turned."""
    if time.time() % 60 > 55:  # too close to the turn: start in the next minute
        time.sleep(60.5 - time.time() % 60)
    started = time.time()
    call()
    try:
        call()
        refused = None
    except refusal as error:
        refused = error
    return refused, int(started // 60) != int(time.time() // 60)


# ------------------------------------------------------------------------------ the key as api_key


def test_every_route_takes_the_key_as_the_sdks_api_key(keys_gateway):
    created = keys_gateway.admin.create_key("all routes")
    key = created["key"]
    assert key.startswith(f"mgw_{created['id']}_"), created

    reply = openai_at(keys_gateway, key).chat.completions.create(model="ministral-3b", messages=user("Hello"))
    assert reply.choices[0].message.content == "You said: Hello"
    assert reply.model == SMALL
    assert SMALL in [m.id for m in openai_at(keys_gateway, key).models.list()]
    chunks = list(
        openai_at(keys_gateway, key, "/stream/v1").chat.completions.create(
            model="ministral-3b", messages=user("Hello there"), stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "You said: Hello there"
    tools = openai_at(keys_gateway, key, "/tools/v1").chat.completions.create(
        model="ministral-3b", messages=user(SEED_PROMPT)
    )
    assert "Paid" in tools.choices[0].message.content
    assert [r["name"] for r in tools.model_extra["tool_runs"]] == ["retrieve_payment_status"]

    reply = mistral_at(keys_gateway, key).chat.complete(model="ministral-3b", messages=user("Bonjour"))
    assert reply.choices[0].message.content == "You said: Bonjour"
    events = list(mistral_at(keys_gateway, key, "/stream").chat.stream(model="ministral-3b", messages=user("Salut toi")))
    assert "".join(e.data.choices[0].delta.content or "" for e in events) == "You said: Salut toi"
    tools = mistral_at(keys_gateway, key, "/tools").chat.complete(model="ministral-3b", messages=user(SEED_PROMPT))
    assert "Paid" in tools.choices[0].message.content


# ----------------------------------------------------------------------------- 401: no or bad key


def test_a_missing_or_wrong_key_is_a_401(keys_gateway, monkeypatch):
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    good = keys_gateway.admin.create_key("search")["key"]
    wrong = [
        "sk-not-ours",
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # the right id, another secret
        "mgw_0123456789abcdef_" + "x" * 43,  # well formed, no such key
    ]

    # openai insists on an api_key; the header can still be left out of one request.
    with pytest.raises(openai.AuthenticationError) as raised:
        openai_at(keys_gateway, "placeholder").chat.completions.create(
            model="ministral-3b", messages=user("Hello"), extra_headers={"Authorization": openai.omit}
        )
    assert raised.value.status_code == 401 and raised.value.type == "authentication_error"
    assert "requires an API key" in raised.value.message
    for key in wrong:
        for route in ("/v1", "/stream/v1", "/tools/v1"):
            with pytest.raises(openai.AuthenticationError) as raised:
                openai_at(keys_gateway, key, route).chat.completions.create(model="ministral-3b", messages=user("Hi"))
            assert "API key is not valid" in raised.value.message, (key, route)

    # mistralai sends no Authorization header without an api_key.
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_at(keys_gateway, None).chat.complete(model="ministral-3b", messages=user("Hello"))
    assert raised.value.status_code == 401
    assert error_of(raised.value)["type"] == "authentication_error"
    assert "requires an API key" in error_of(raised.value)["message"]
    for key in wrong:
        with pytest.raises(mistral_errors.SDKError) as raised:
            mistral_at(keys_gateway, key).chat.complete(model="ministral-3b", messages=user("Hello"))
        assert raised.value.status_code == 401
        assert "API key is not valid" in error_of(raised.value)["message"], key
        with pytest.raises(mistral_errors.SDKError) as raised:
            mistral_at(keys_gateway, key, "/stream").chat.stream(model="ministral-3b", messages=user("Hello"))
        assert raised.value.status_code == 401

    # The same clients with the right key are answered.
    assert openai_at(keys_gateway, good).chat.completions.create(model="ministral-3b", messages=user("Hi")).choices
    assert mistral_at(keys_gateway, good).chat.complete(model="ministral-3b", messages=user("Hi")).choices


# ------------------------------------------------------------------ 403: models and routes of a key


def test_a_model_the_key_may_not_use_is_a_403_naming_its_models(keys_gateway):
    created = keys_gateway.admin.create_key("cheap team", models=["ministral-3b", "ministral-14b"])
    key, key_id = created["key"], created["id"]
    assert created["models"] == ["ministral-3b", "ministral-14b"]

    with pytest.raises(openai.PermissionDeniedError) as raised:
        openai_at(keys_gateway, key).chat.completions.create(model="mistral-large-3", messages=user("Hi"))
    assert raised.value.status_code == 403
    assert raised.value.code == "model_not_allowed" and raised.value.type == "permission_error"
    message = raised.value.message
    assert "ministral-3b, ministral-14b" in message and key_id in message and "cheap team" in message, message
    with pytest.raises(openai.PermissionDeniedError) as raised:
        openai_at(keys_gateway, key, "/stream/v1").chat.completions.create(
            model="mistral-large-3", messages=user("Hi"), stream=True
        )
    assert raised.value.code == "model_not_allowed"
    assert openai_at(keys_gateway, key).chat.completions.create(model="ministral-14b", messages=user("Hi")).model == MEDIUM

    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_at(keys_gateway, key).chat.complete(model="mistral-large-3", messages=user("Hi"))
    assert raised.value.status_code == 403
    assert error_of(raised.value)["code"] == "model_not_allowed"
    assert "ministral-3b, ministral-14b" in error_of(raised.value)["message"]
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_at(keys_gateway, key, "/stream").chat.stream(model="mistral-large-3", messages=user("Hi"))
    assert raised.value.status_code == 403
    assert mistral_at(keys_gateway, key).chat.complete(model="ministral-3b-latest", messages=user("Hi")).model == SMALL


def test_a_route_the_key_may_not_call_is_a_403(keys_gateway):
    created = keys_gateway.admin.create_key("sync only", routes=["/v1"])
    key = created["key"]
    assert created["routes"] == ["/v1"]
    assert openai_at(keys_gateway, key).chat.completions.create(model="ministral-3b", messages=user("Hi")).choices
    for route in ("/stream/v1", "/tools/v1"):
        with pytest.raises(openai.PermissionDeniedError) as raised:
            openai_at(keys_gateway, key, route).chat.completions.create(model="ministral-3b", messages=user("Hi"))
        assert raised.value.code == "route_not_allowed", route
        assert f"may not call {route}/chat/completions" in raised.value.message
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_at(keys_gateway, key, "/tools").chat.complete(model="ministral-3b", messages=user("Hi"))
    assert raised.value.status_code == 403 and error_of(raised.value)["code"] == "route_not_allowed"


# ------------------------------------------------------------------------ 429: budgets and limits


def check_budget_refusal(error, headers, key_id):
    """A spent budget: 429, `insufficient_quota`, the budget and its reset named, Retry-After."""
    assert error["code"] == "budget_exceeded" and error["type"] == "insufficient_quota", error
    message = error["message"]
    assert key_id in message and "$0.000030 day budget" in message and "resets at" in message, message
    assert 1 <= int(headers["retry-after"]) <= 86_400


def check_spent_within_budget(keys_gateway, key, answer_costs):
    shown = get_key(keys_gateway, key)
    assert nanos(shown["budget"]["usd"]) == TINY_BUDGET_NANOS and shown["budget"]["period"] == "day", shown
    assert nanos(shown["spent_usd"]) == sum(answer_costs), (shown, answer_costs)
    assert nanos(shown["spent_usd"]) <= TINY_BUDGET_NANOS
    assert shown["reserved_usd"] == 0


def test_a_spent_budget_is_a_429_insufficient_quota(keys_gateway):
    long_answer = user("Write [[words:50]]")
    budget = {"models": ["ministral-3b"], "budget_usd": TINY_BUDGET_USD, "period": "day"}

    created = keys_gateway.admin.create_key("openai budget", **budget)
    assert created["budget"]["nanos"] == TINY_BUDGET_NANOS and created["budget"]["period"] == "day"
    client = openai_at(keys_gateway, created["key"])
    answers, refused = until_refused(
        lambda: client.chat.completions.create(model="ministral-3b", messages=long_answer, max_tokens=50),
        openai.RateLimitError,
    )
    assert answers, "the budget admits at least one call"
    assert refused.status_code == 429
    assert refused.code == "budget_exceeded" and refused.type == "insufficient_quota"
    check_budget_refusal(refused.body, refused.response.headers, created["id"])
    check_spent_within_budget(keys_gateway, created["key"], [nanos(a.usage.model_extra["cost_usd"]) for a in answers])

    created = keys_gateway.admin.create_key("mistral budget", **budget)
    client = mistral_at(keys_gateway, created["key"])
    answers, refused = until_refused(
        lambda: client.chat.complete(model="ministral-3b", messages=long_answer, max_tokens=50),
        mistral_errors.SDKError,
    )
    assert answers, "the budget admits at least one call"
    assert refused.status_code == 429
    check_budget_refusal(error_of(refused), refused.headers, created["id"])
    check_spent_within_budget(keys_gateway, created["key"], [nanos(a.usage.model_extra["cost_usd"]) for a in answers])


def check_rate_refusal(error, headers):
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error", error
    assert "limit of 1 requests per minute" in error["message"], error
    assert 1 <= int(headers["retry-after"]) <= 60


def test_requests_per_minute_are_limited_with_retry_after(keys_gateway):
    created = keys_gateway.admin.create_key("openai bursty", rpm=1)
    assert created["rpm"] == 1
    client = openai_at(keys_gateway, created["key"])
    refused, turned = two_calls_in_one_minute(
        lambda: client.chat.completions.create(model="ministral-3b", messages=user("Hi")), openai.RateLimitError
    )
    if refused is None:
        assert turned, "a second call in the same minute was admitted"
    else:
        assert refused.status_code == 429 and refused.code == "rate_limit_exceeded"
        check_rate_refusal(refused.body, refused.response.headers)

    client = mistral_at(keys_gateway, keys_gateway.admin.create_key("mistral bursty", rpm=1)["key"])
    refused, turned = two_calls_in_one_minute(
        lambda: client.chat.complete(model="ministral-3b", messages=user("Hi")), mistral_errors.SDKError
    )
    if refused is None:
        assert turned, "a second call in the same minute was admitted"
    else:
        assert refused.status_code == 429
        check_rate_refusal(error_of(refused), refused.headers)


# ---------------------------------------------------------------------- what a key has spent


def test_get_key_and_the_ledger_show_what_the_answers_cost(keys_gateway):
    created = keys_gateway.admin.create_key("ledger team", models=["ministral-3b"], budget_usd=5, period="total")
    key, key_id = created["key"], created["id"]
    shown = get_key(keys_gateway, key)
    assert shown["id"] == key_id and shown["name"] == "ledger team" and shown["models"] == ["ministral-3b"]
    assert shown["budget"] == {"usd": 5.0, "period": "total", "remaining_usd": 5.0}, shown
    assert shown["spent_usd"] == 0 and shown["reserved_usd"] == 0
    assert key not in json.dumps(shown) and "hash" not in shown

    # (usage, model calls) of every answer, through both SDKs and all three routes. A named
    # model without fallbacks is one call; the tool loop is one call per step (its `routing`
    # lists them; mistralai keeps no `routing`, and the scripted model takes the same steps for
    # the same prompt).
    answers = []
    reply = openai_at(keys_gateway, key).chat.completions.create(model="ministral-3b", messages=user("Hello"))
    assert len(reply.model_extra["routing"]["attempts"]) == 1
    answers.append((reply.usage.model_dump(), 1))
    chunks = list(
        openai_at(keys_gateway, key, "/stream/v1").chat.completions.create(
            model="ministral-3b", messages=user("Write [[words:30]]"), stream=True
        )
    )
    answers.append((chunks[-1].usage.model_dump(), 1))
    reply = openai_at(keys_gateway, key, "/tools/v1").chat.completions.create(
        model="ministral-3b", messages=user(SEED_PROMPT)
    )
    steps = len(reply.model_extra["routing"]["attempts"])
    assert steps == len(reply.model_extra["tool_runs"]) + 1, reply.model_extra
    answers.append((reply.usage.model_dump(), steps))
    reply = mistral_at(keys_gateway, key).chat.complete(model="ministral-3b", messages=user("Bonjour"))
    answers.append((mistral_usage(reply.usage), 1))
    events = list(mistral_at(keys_gateway, key, "/stream").chat.stream(model="ministral-3b", messages=user("Salut")))
    answers.append((mistral_usage(events[-1].data.usage), 1))
    reply = mistral_at(keys_gateway, key, "/tools").chat.complete(model="ministral-3b", messages=user(SEED_PROMPT))
    assert "Paid" in reply.choices[0].message.content
    answers.append((mistral_usage(reply.usage), steps))

    paid = sum(nanos(usage["cost_usd"]) for usage, _ in answers)
    assert all(usage["cost_usd"] > 0 for usage, _ in answers), answers
    shown = get_key(keys_gateway, key)
    assert nanos(shown["spent_usd"]) == paid, (shown, answers)
    assert nanos(shown["budget"]["remaining_usd"]) == nanos(5) - paid
    assert shown["reserved_usd"] == 0

    spend = keys_gateway.admin("spend", "--key", key_id)
    assert spend["total_nanos"] == paid and nanos(spend["total_usd"]) == paid, spend
    rows = spend["rows"]
    assert {(r["key_id"], r["model"]) for r in rows} == {(key_id, SMALL)}, rows
    assert sum(r["cost_nanos"] for r in rows) == paid
    assert sum(r["input_tokens"] for r in rows) == sum(usage["prompt_tokens"] for usage, _ in answers)
    assert sum(r["output_tokens"] for r in rows) == sum(usage["completion_tokens"] for usage, _ in answers)
    # One ledger request per model call.
    calls = sum(n for _, n in answers)
    assert calls > len(answers), "the tool loop took more than one step"
    assert spend["total_requests"] == sum(r["requests"] for r in rows) == calls, spend


# ---------------------------------------------------------------------------- revoke and rotate


def test_a_revoked_key_is_refused(keys_gateway):
    created = keys_gateway.admin.create_key("old app")
    key = created["key"]
    assert openai_at(keys_gateway, key).chat.completions.create(model="ministral-3b", messages=user("Hi")).choices
    assert mistral_at(keys_gateway, key).chat.complete(model="ministral-3b", messages=user("Hi")).choices

    revoked = keys_gateway.admin("keys", "revoke", created["id"])
    assert revoked["id"] == created["id"] and revoked["disabled"] is True
    with pytest.raises(openai.AuthenticationError) as raised:
        openai_at(keys_gateway, key).chat.completions.create(model="ministral-3b", messages=user("Hi"))
    assert f"API key {created['id']} has been revoked" in raised.value.message
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_at(keys_gateway, key).chat.complete(model="ministral-3b", messages=user("Hi"))
    assert raised.value.status_code == 401 and "revoked" in error_of(raised.value)["message"]


def test_a_rotated_key_replaces_the_old_one_and_keeps_its_spend(keys_gateway):
    created = keys_gateway.admin.create_key("rotating")
    old, key_id = created["key"], created["id"]
    costs = [openai_at(keys_gateway, old).chat.completions.create(model="ministral-3b", messages=user("Hi")).usage]

    rotated = keys_gateway.admin("keys", "rotate", key_id)
    new = rotated["key"]
    assert rotated["id"] == key_id and rotated["name"] == "rotating"
    assert new != old and new.startswith(f"mgw_{key_id}_")
    with pytest.raises(openai.AuthenticationError) as raised:
        openai_at(keys_gateway, old).chat.completions.create(model="ministral-3b", messages=user("Hi"))
    assert "API key is not valid" in raised.value.message
    with pytest.raises(mistral_errors.SDKError) as raised:
        mistral_at(keys_gateway, old).chat.complete(model="ministral-3b", messages=user("Hi"))
    assert raised.value.status_code == 401

    costs.append(openai_at(keys_gateway, new).chat.completions.create(model="ministral-3b", messages=user("Hi")).usage)
    costs.append(mistral_at(keys_gateway, new).chat.complete(model="ministral-3b", messages=user("Hi")).usage)
    shown = get_key(keys_gateway, new)
    assert shown["id"] == key_id
    assert nanos(shown["spent_usd"]) == sum(nanos(u.model_extra["cost_usd"]) for u in costs), "the spend stays"
