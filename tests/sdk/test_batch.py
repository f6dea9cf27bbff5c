"""Batch through both SDKs unmodified: upload, create, poll to the end, download and parse every
line (counts, custom_id mapping, usage, the batch price), invalid lines, cancel and the refusals,
against the dev server's local batch (an S3 server and the emulator's batch jobs)."""

import io
import json
import time

import openai
import pytest

from bodies import user

# Mistral Large 2 on demand: $4 / $12 per 1M tokens; batch is half.
BATCH_PRICE = (2.0, 6.0)


def line(custom_id, prompt, model="mistral-large"):
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": model, "messages": user(prompt), "max_tokens": 40}}


def jsonl(lines):
    return "\n".join(json.dumps(item) for item in lines).encode()


def wait(get, done):
    for _ in range(400):
        batch = get()
        if batch.status in done:
            return batch
        time.sleep(0.05)
    pytest.fail(f"the batch did not end: {batch}")


def test_openai_sdk_runs_a_batch_to_its_output_file(openai_client):
    lines = [line(f"q{i}", f"Question {i}") for i in range(4)]
    lines.append({"custom_id": "broken", "method": "POST", "url": "/v1/chat/completions",
                  "body": {"model": "mistral-large", "messages": "not a list"}})
    upload = openai_client.files.create(file=("questions.jsonl", io.BytesIO(jsonl(lines))), purpose="batch")
    assert upload.purpose == "batch" and upload.bytes == len(jsonl(lines))
    batch = openai_client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions",
                                         completion_window="24h", metadata={"run": "sdk"})
    assert batch.status == "validating" and batch.request_counts.total == 5

    done = wait(lambda: openai_client.batches.retrieve(batch.id), {"completed", "failed", "cancelled", "expired"})
    assert done.status == "completed", done
    assert (done.request_counts.completed, done.request_counts.failed) == (4, 1)
    assert done.metadata == {"run": "sdk"}

    answers = [json.loads(l) for l in openai_client.files.content(done.output_file_id).text.splitlines()]
    assert sorted(a["custom_id"] for a in answers) == ["q0", "q1", "q2", "q3"]
    for answer in answers:
        body = answer["response"]["body"]
        n = answer["custom_id"][1:]
        assert body["choices"][0]["message"]["content"] == f"You said: Question {n}"
        usage = body["usage"]
        expected = (usage["prompt_tokens"] * BATCH_PRICE[0] + usage["completion_tokens"] * BATCH_PRICE[1]) / 1e6
        assert usage["cost_usd"] == pytest.approx(expected, abs=1e-12)
    errors = [json.loads(l) for l in openai_client.files.content(done.error_file_id).text.splitlines()]
    assert [e["custom_id"] for e in errors] == ["broken"]
    assert errors[0]["response"]["status_code"] == 400 and errors[0]["error"]["code"] == "invalid_request"

    listed = openai_client.batches.list(limit=100)
    assert batch.id in [b.id for b in listed.data]


def test_openai_sdk_cancels_and_sees_the_refusals(openai_client):
    upload = openai_client.files.create(file=("one.jsonl", io.BytesIO(jsonl([line("a", "Hi", "ministral-8b")]))),
                                        purpose="batch")
    with pytest.raises(openai.BadRequestError) as refused:
        openai_client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert "no batch jobs" in str(refused.value)
    with pytest.raises(openai.NotFoundError):
        openai_client.batches.retrieve("batch_00000000000000000000")
    openai_client.files.delete(upload.id)
    with pytest.raises(openai.NotFoundError):
        openai_client.files.retrieve(upload.id)


def test_mistralai_sdk_runs_a_batch_job_from_a_file_and_from_inline_requests(mistral_client):
    lines = [{"custom_id": str(i), "body": {"messages": user(f"Q{i}"), "max_tokens": 30}} for i in range(3)]
    uploaded = mistral_client.files.upload(file={"file_name": "jobs.jsonl", "content": jsonl(lines)}, purpose="batch")
    job = mistral_client.batch.jobs.create(input_files=[uploaded.id], model="mistral-large",
                                           endpoint="/v1/chat/completions", metadata={"run": "mistral"})
    assert job.status == "QUEUED" and job.total_requests == 3
    done = wait(lambda: mistral_client.batch.jobs.get(job_id=job.id), {"SUCCESS", "FAILED", "CANCELLED", "TIMEOUT_EXCEEDED"})
    assert done.status == "SUCCESS", done
    assert (done.succeeded_requests, done.failed_requests) == (3, 0)
    output = mistral_client.files.download(file_id=done.output_file).read().decode()
    answered = {json.loads(l)["custom_id"]: json.loads(l) for l in output.splitlines()}
    assert answered["2"]["response"]["body"]["choices"][0]["message"]["content"] == "You said: Q2"

    inline = mistral_client.batch.jobs.create(requests=lines, model="mistral-large", endpoint="/v1/chat/completions")
    finished = wait(lambda: mistral_client.batch.jobs.get(job_id=inline.id), {"SUCCESS", "FAILED"})
    assert finished.succeeded_requests == 3
    assert {j.id for j in mistral_client.batch.jobs.list().data} >= {job.id, inline.id}


def test_openai_sdk_sees_a_line_that_failed_in_bedrock(openai_client):
    lines = [line(f"q{i}", f"Question {i}") for i in range(3)] + [line("throttled", "Hi [[fault:throttle]]")]
    upload = openai_client.files.create(file=("partial.jsonl", io.BytesIO(jsonl(lines))), purpose="batch")
    batch = openai_client.batches.create(input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h")
    done = wait(lambda: openai_client.batches.retrieve(batch.id), {"completed", "failed"})
    assert done.status == "completed"
    assert (done.request_counts.completed, done.request_counts.failed) == (3, 1)
    errors = [json.loads(l) for l in openai_client.files.content(done.error_file_id).text.splitlines()]
    assert [e["custom_id"] for e in errors] == ["throttled"]
    assert errors[0]["response"]["status_code"] == 429


def test_both_sdks_cancel_and_hear_the_minimum_on_a_slower_server(dev_server):
    from mistralai.client import Mistral
    from openai import OpenAI

    url = dev_server(EMULATOR_BATCH_STEP_MS="400", BATCH_MIN_RECORDS="3", EMULATOR_PORT="0", S3_PORT="0")
    client = OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    two = client.files.create(file=("two.jsonl", io.BytesIO(jsonl([line("a", "Hi"), line("b", "Hi")]))), purpose="batch")
    with pytest.raises(openai.BadRequestError) as refused:
        client.batches.create(input_file_id=two.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert "at least 3 records" in str(refused.value)

    three = client.files.create(file=("three.jsonl", io.BytesIO(jsonl([line(c, "Hi") for c in "abc"]))), purpose="batch")
    batch = client.batches.create(input_file_id=three.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert client.batches.cancel(batch.id).status in ("cancelling", "cancelled")
    assert wait(lambda: client.batches.retrieve(batch.id), {"cancelled", "completed"}).status == "cancelled"

    mistral = Mistral(api_key="unused", server_url=url)
    job = mistral.batch.jobs.create(input_files=[three.id], model="mistral-large", endpoint="/v1/chat/completions")
    assert mistral.batch.jobs.cancel(job_id=job.id).status in ("CANCELLATION_REQUESTED", "CANCELLED")
    assert wait(lambda: mistral.batch.jobs.get(job_id=job.id), {"CANCELLED", "SUCCESS"}).status == "CANCELLED"
