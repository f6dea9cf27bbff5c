"""Batch inference on the transformed template: the batch and batch-events functions, Bedrock's
batch service role, the batch bucket and the EventBridge rule.

The IAM is held to exact lists, for every parameter set test_iam.py uses (its
check_least_privilege calls check_batch_privilege): the batch function may create batch jobs on
the foundation models of ModelIds and on this account's jobs, read and stop those jobs, pass the
service role to Bedrock alone, and use the batch bucket; the batch-events function may read jobs
and the bucket; the service role is trusted by Bedrock for this account's jobs only and reads
the job inputs and writes the job outputs. Which resource types each Bedrock action takes is the
Service Authorization Reference's ("Actions, resources, and condition keys for Amazon Bedrock").
Widened copies of the template must fail the same check.
"""

from __future__ import annotations

import copy
import json
import pathlib
from typing import Any, Callable

import pytest

import keys_schema
from cfn import ACCOUNT, REGION, ROOT, STACK, Evaluator, load_template, transform
from test_iam import EVERYTHING, US_PROFILE, as_list, check_least_privilege, function_role, listed, role_statements

FUNCTIONS = ("BatchFunction", "BatchEventsFunction")
JOBS = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:model-invocation-job/*"
BUCKET = "<GetAtt BatchBucket.Arn>"
OBJECTS = f"{BUCKET}/*"
SERVICE_ROLE = "<GetAtt BatchServiceRole.Arn>"
DEAD_LETTERS = "<GetAtt BatchEventsDeadLetterQueue.Arn>"
KEYS_TABLE = "<GetAtt KeysTable.Arn>"
NO_CONDITION = "null"
PASSED_TO_BEDROCK = {"StringEquals": {"iam:PassedToService": "bedrock.amazonaws.com"}}
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
ENVIRONMENT = {
    "BATCH_BUCKET": "<Ref BatchBucket>",
    "BATCH_ROLE_ARN": SERVICE_ROLE,
    "BATCH_JOB_PREFIX": STACK,
}
DETAIL_TYPE = "Batch Inference Job State Change"

Grant = tuple[str, str, str]  # (action, resource, condition as JSON)


def flatten(statements: list[dict[str, Any]], who: str) -> set[Grant]:
    """Every (action, resource, condition) an Allow statement grants; anything else is refused."""
    out: set[Grant] = set()
    for st in statements:
        assert st.get("Effect") == "Allow", f"{who}: a statement that is not an Allow: {st}"
        assert "NotAction" not in st and "NotResource" not in st and "NotPrincipal" not in st, f"{who}: {st}"
        condition = json.dumps(st.get("Condition"), sort_keys=True)
        for action in as_list(st["Action"]):
            for resource in as_list(st["Resource"]):
                assert isinstance(resource, str), f"{who}: resource {resource!r}"
                out.add((action, resource, condition))
    return out


def plain(action: str, *resources: str) -> set[Grant]:
    return {(action, resource, NO_CONDITION) for resource in resources}


def expected_batch(ev: Evaluator, params: dict[str, str], template: dict[str, Any], function_id: str) -> set[Grant]:
    group = "BatchLogGroup" if function_id == "BatchFunction" else "BatchEventsLogGroup"
    want = {g for action in LOG_ACTIONS for g in plain(action, f"<GetAtt {group}.Arn>")}
    if function_id == "BatchFunction":
        models = [f"arn:aws:bedrock:{REGION}::foundation-model/{m}" for m in listed(params, "ModelIds", template)]
        want |= plain("bedrock:CreateModelInvocationJob", *models, JOBS)
        want |= plain("bedrock:GetModelInvocationJob", JOBS) | plain("bedrock:StopModelInvocationJob", JOBS)
        want.add(("iam:PassRole", SERVICE_ROLE, json.dumps(PASSED_TO_BEDROCK, sort_keys=True)))
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
            want |= plain(action, OBJECTS)
        want |= plain("s3:ListBucket", BUCKET)
    else:
        want |= plain("bedrock:GetModelInvocationJob", JOBS)
        for action in ("s3:GetObject", "s3:PutObject"):
            want |= plain(action, OBJECTS)
        want |= plain("s3:ListBucket", BUCKET)
        want |= plain("sqs:SendMessage", DEAD_LETTERS)
    if ev.condition("UseKeysAuth"):
        for action in keys_schema.load().function_actions:
            want |= plain(action, KEYS_TABLE)
    return want


SERVICE_ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "bedrock.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {"aws:SourceArn": JOBS},
            },
        }
    ],
}
SERVICE_ROLE_GRANTS = {
    ("s3:GetObject", f"{BUCKET}/jobs/*/input.jsonl", NO_CONDITION),
    ("s3:PutObject", f"{BUCKET}/jobs/*/output/*", NO_CONDITION),
    ("s3:ListBucket", BUCKET, json.dumps({"StringLike": {"s3:prefix": "jobs/*"}}, sort_keys=True)),
}


def check_batch_privilege(ev: Evaluator, params: dict[str, str], template: dict[str, Any]) -> dict[str, set[Grant]]:
    """The whole batch IAM contract for one evaluated parameter set; returns what was granted."""
    found: dict[str, set[Grant]] = {}
    for function_id in FUNCTIONS:
        role = function_role(ev, function_id)
        got = flatten(role_statements(ev, role), function_id)
        want = expected_batch(ev, params, template, function_id)
        assert got == want, f"{function_id}: granted but not wanted {sorted(got - want)}; wanted but not granted {sorted(want - got)}"
        found[function_id] = got
    service = ev.resource("BatchServiceRole")["Properties"]
    assert service["AssumeRolePolicyDocument"] == SERVICE_ROLE_TRUST, service["AssumeRolePolicyDocument"]
    assert not service.get("ManagedPolicyArns"), "BatchServiceRole: managed policies"
    got = flatten(role_statements(ev, "BatchServiceRole"), "BatchServiceRole")
    assert got == SERVICE_ROLE_GRANTS, f"BatchServiceRole: {sorted(got ^ SERVICE_ROLE_GRANTS)}"
    found["BatchServiceRole"] = got
    # Only the batch function may pass a role, and no role but the service role trusts Bedrock.
    for role_id, role in ev.resources("AWS::IAM::Role").items():
        managed = role["Properties"].get("ManagedPolicyArns", [])
        if all(isinstance(arn, str) and arn.startswith("<Ref ") for arn in managed):
            statements = role_statements(ev, role_id)
        else:  # an AWS managed policy (API Gateway's logging role): its inline policies only
            statements = [s for p in role["Properties"].get("Policies", []) for s in as_list(p["PolicyDocument"]["Statement"])]
        passes = [s for s in statements if any(str(a).lower().startswith("iam:") for a in as_list(s.get("Action", [])))]
        assert not passes or role_id == function_role(ev, "BatchFunction"), f"{role_id} may {passes}"
        trust = json.dumps(ev.resource(role_id)["Properties"]["AssumeRolePolicyDocument"])
        assert ("bedrock.amazonaws.com" in trust) == (role_id == "BatchServiceRole"), f"{role_id} trusts {trust}"
    return found


# ---------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def evaluated(template: dict[str, Any], **params: str) -> Evaluator:
    return Evaluator(transform(template, params), params)


def batch_grants(template: dict[str, Any], params: dict[str, str]) -> dict[str, set[Grant]]:
    """The batch grants for one parameter set, after the whole IAM contract held for it."""
    check_least_privilege(template, params)
    return check_batch_privilege(Evaluator(transform(template, params), params), params, template)


def test_batch_jobs_follow_the_model_list(template: dict[str, Any]) -> None:
    one = {"ModelIds": "mistral.mistral-small-2402-v1:0", "DefaultModel": "mistral.mistral-small-2402-v1:0"}
    grants = batch_grants(template, one)["BatchFunction"]
    created = {resource for action, resource, _ in grants if action == "bedrock:CreateModelInvocationJob"}
    assert created == {f"arn:aws:bedrock:{REGION}::foundation-model/mistral.mistral-small-2402-v1:0", JOBS}


def test_batch_grants_do_not_follow_profiles_guardrails_or_native_bodies(template: dict[str, Any]) -> None:
    # Batch jobs take foundation models (the reference lists no inference-profile resource for
    # CreateModelInvocationJob) and carry no guardrail: those options add nothing here.
    base = batch_grants(template, {})
    everything = batch_grants(template, {**EVERYTHING, "AuthMode": "AWS_IAM"})
    models = set(listed(EVERYTHING, "ModelIds", template)) - set(listed({}, "ModelIds", template))
    extra = {f"arn:aws:bedrock:{REGION}::foundation-model/{m}" for m in models}
    dropped = set(listed({}, "ModelIds", template)) - set(listed(EVERYTHING, "ModelIds", template))
    gone = {f"arn:aws:bedrock:{REGION}::foundation-model/{m}" for m in dropped}
    created = lambda g: {r for a, r, _ in g if a == "bedrock:CreateModelInvocationJob"}  # noqa: E731
    assert created(everything["BatchFunction"]) == (created(base["BatchFunction"]) | extra) - gone
    for function_id in FUNCTIONS:
        assert {g for g in everything[function_id] if g[0] != "bedrock:CreateModelInvocationJob"} == {
            g for g in base[function_id] if g[0] != "bedrock:CreateModelInvocationJob"
        }
        assert not any("guardrail" in r or "inference-profile" in r for _, r, _ in everything[function_id])


def test_the_only_bedrock_wildcard_is_this_accounts_jobs(template: dict[str, Any]) -> None:
    ev = evaluated(template, **EVERYTHING)
    for function_id in FUNCTIONS:
        for action, resource, _ in check_batch_privilege(ev, EVERYTHING, template)[function_id]:
            if action.startswith("bedrock:") and "*" in resource:
                assert resource == JOBS, f"{function_id}: {action} on {resource}"


def test_both_functions_get_the_batch_settings_and_the_model_settings(template: dict[str, Any]) -> None:
    ev = evaluated(template, AuthMode="KEYS")
    converse = ev.resource("ConverseFunction")["Properties"]["Environment"]["Variables"]
    for function_id in FUNCTIONS:
        variables = ev.resource(function_id)["Properties"]["Environment"]["Variables"]
        assert {k: variables[k] for k in ENVIRONMENT} == ENVIRONMENT
        for name in ("BEDROCK_MODEL_IDS", "BEDROCK_DEFAULT_MODEL", "METRICS_NAMESPACE", "RUST_LOG", "KEYS_TABLE"):
            assert variables[name] == converse[name], name
    for function_id in ("ConverseFunction", "StreamFunction", "ToolsFunction"):
        variables = ev.resource(function_id)["Properties"]["Environment"]["Variables"]
        assert not set(ENVIRONMENT) & set(variables), f"{function_id} gets batch settings"


def test_the_bucket_is_private_encrypted_tls_only_and_expires_its_objects(template: dict[str, Any]) -> None:
    ev = evaluated(template, BatchRetentionDays="7")
    bucket = ev.resource("BatchBucket")
    assert (bucket.get("DeletionPolicy"), bucket.get("UpdateReplacePolicy")) == ("Retain", "Retain")
    props = bucket["Properties"]
    assert props["BucketEncryption"] == {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and "Prefix" not in rule and "Filter" not in rule, "the rule covers every object"
    assert rule["ExpirationInDays"] == "7"
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "VersioningConfiguration" not in props and "WebsiteConfiguration" not in props
    assert template["Parameters"]["BatchRetentionDays"]["Default"] == 30
    (policy,) = [p["Properties"] for p in ev.resources("AWS::S3::BucketPolicy").values()]
    assert policy["Bucket"] == "<Ref BatchBucket>"
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [BUCKET, OBJECTS],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]


def test_the_rule_sends_this_stacks_job_state_changes_to_batch_events(template: dict[str, Any]) -> None:
    ev = evaluated(template)
    rule = ev.resource("BatchEventRule")["Properties"]
    assert rule["EventPattern"] == {
        "source": ["aws.bedrock"],
        "detail-type": [DETAIL_TYPE],
        "detail": {"batchJobName": [{"prefix": f"{STACK}-"}]},
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == "<GetAtt BatchEventsFunction.Arn>"
    assert target["DeadLetterConfig"]["Arn"] == DEAD_LETTERS
    assert "State" not in rule or rule["State"] == "ENABLED"
    permission = ev.resource("BatchEventPermission")["Properties"]
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": "<Ref BatchEventsFunction>",
        "Principal": "events.amazonaws.com",
        "SourceArn": "<GetAtt BatchEventRule.Arn>",
    }
    invoke = ev.resource("BatchEventInvokeConfig")["Properties"]
    assert invoke["FunctionName"] == "<Ref BatchEventsFunction>"
    assert invoke["DestinationConfig"] == {"OnFailure": {"Destination": DEAD_LETTERS}}
    (statement,) = ev.resource("BatchEventsDeadLetterQueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": "<GetAtt BatchEventRule.Arn>"}}
    # The batch-events function is reached by this rule alone.
    assert not [
        p for p in ev.resources("AWS::Lambda::Permission").values() if p["Properties"]["FunctionName"] == "<Ref BatchEventsFunction>"
    ][1:]


def dev_settings() -> dict[str, str]:
    lines = (ROOT / "dev" / "lambda.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_sample_event_is_one_the_rule_delivers() -> None:
    event = json.loads((ROOT / "events" / "batch-events" / "job-completed.json").read_text())
    assert event["source"] == "aws.bedrock" and event["detail-type"] == DETAIL_TYPE
    detail = event["detail"]
    # Named as the batch function names jobs under the local settings: <prefix>-<batch>-<n>.
    assert detail["batchJobName"].startswith(dev_settings()["BATCH_JOB_PREFIX"] + "-")
    assert detail["batchJobArn"] in event["resources"]
    assert detail["batchJobArn"].startswith(f"arn:aws:bedrock:{event['region']}:{event['account']}:model-invocation-job/")
    assert detail["status"] == "Completed"


def test_the_local_settings_point_the_batch_functions_at_the_dev_server() -> None:
    settings = dev_settings()
    for name in ("BATCH_BUCKET", "BATCH_ROLE_ARN", "BATCH_JOB_PREFIX"):
        assert settings[name], name
    assert settings["AWS_ENDPOINT_URL_S3"].startswith("http://127.0.0.1:")
    assert settings["AWS_ENDPOINT_URL_BEDROCK"] == settings["AWS_ENDPOINT_URL_BEDROCK_RUNTIME"]


def test_uploads_pass_through_as_binary(template: dict[str, Any]) -> None:
    body = evaluated(template).resource("Api")["Properties"]["Body"]
    assert body["x-amazon-apigateway-binary-media-types"] == ["multipart/form-data"]


# ---------------------------------------------------------------------- the check catches widening


def _statement(t: dict[str, Any], role: str, policy: str, sid: str) -> dict[str, Any]:
    (document,) = [p["PolicyDocument"] for p in t["Resources"][role]["Properties"]["Policies"] if p["PolicyName"] == policy]
    (statement,) = [s for s in document["Statement"] if s.get("Sid") == sid]
    return statement


def _create_statement(t: dict[str, Any]) -> dict[str, Any]:
    (statement,) = t["Resources"]["BedrockCreateModelInvocationJobPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    return statement


def create_jobs_on_any_model(t: dict[str, Any]) -> None:
    _create_statement(t)["Resource"].append({"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/*"})


def create_jobs_on_an_unconfigured_model(t: dict[str, Any]) -> None:
    _create_statement(t)["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/mistral.codestral-2501-v1:0"}
    )


def create_jobs_anywhere(t: dict[str, Any]) -> None:
    _create_statement(t)["Resource"] = "*"


def list_every_job(t: dict[str, Any]) -> None:
    _statement(t, "BatchRole", "batch-jobs", "ReadAndStopBatchJobs")["Action"].append("bedrock:ListModelInvocationJobs")


def stop_jobs_of_every_region(t: dict[str, Any]) -> None:
    _statement(t, "BatchRole", "batch-jobs", "ReadAndStopBatchJobs")["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:bedrock:*:${AWS::AccountId}:model-invocation-job/*"
    }


def pass_any_role(t: dict[str, Any]) -> None:
    _statement(t, "BatchRole", "batch-jobs", "PassBatchServiceRoleToBedrock")["Resource"] = "*"


def pass_the_role_to_any_service(t: dict[str, Any]) -> None:
    del _statement(t, "BatchRole", "batch-jobs", "PassBatchServiceRoleToBedrock")["Condition"]


def any_s3_action_on_the_bucket(t: dict[str, Any]) -> None:
    _statement(t, "BatchRole", "batch-jobs", "BatchObjects")["Action"] = "s3:*"


def every_bucket(t: dict[str, Any]) -> None:
    _statement(t, "BatchEventsRole", "finalise-batches", "BatchObjects")["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}


def events_function_deletes_objects(t: dict[str, Any]) -> None:
    _statement(t, "BatchEventsRole", "finalise-batches", "BatchObjects")["Action"].append("s3:DeleteObject")


def events_function_creates_jobs(t: dict[str, Any]) -> None:
    t["Resources"]["BatchEventsRole"]["Properties"]["ManagedPolicyArns"].append({"Ref": "BedrockCreateModelInvocationJobPolicy"})


def batch_function_invokes_models(t: dict[str, Any]) -> None:
    t["Resources"]["BatchRole"]["Properties"]["ManagedPolicyArns"].append({"Ref": "BedrockInvokeModelPolicy"})


def trust_bedrock_without_conditions(t: dict[str, Any]) -> None:
    del t["Resources"]["BatchServiceRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]


def trust_any_account(t: dict[str, Any]) -> None:
    condition = t["Resources"]["BatchServiceRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    condition["ArnLike"]["aws:SourceArn"] = "arn:aws:bedrock:*:*:model-invocation-job/*"


def service_role_reads_the_whole_bucket(t: dict[str, Any]) -> None:
    _statement(t, "BatchServiceRole", "job-inputs-and-outputs", "ReadJobInputs")["Resource"] = {"Fn::Sub": "${BatchBucket.Arn}/*"}


def service_role_overwrites_inputs(t: dict[str, Any]) -> None:
    _statement(t, "BatchServiceRole", "job-inputs-and-outputs", "WriteJobOutputs")["Resource"] = {"Fn::Sub": "${BatchBucket.Arn}/jobs/*"}


def service_role_lists_everything(t: dict[str, Any]) -> None:
    del _statement(t, "BatchServiceRole", "job-inputs-and-outputs", "ListJobPrefixes")["Condition"]


def service_role_gets_bedrock_full_access(t: dict[str, Any]) -> None:
    t["Resources"]["BatchServiceRole"]["Properties"]["ManagedPolicyArns"] = [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonBedrockFullAccess"}
    ]


def tools_passes_the_service_role(t: dict[str, Any]) -> None:
    t["Resources"]["ToolsRole"]["Properties"]["Policies"].append(
        {
            "PolicyName": "pass",
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": {"Fn::GetAtt": ["BatchServiceRole", "Arn"]}}],
            },
        }
    )


WIDENINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    f.__name__: f
    for f in (
        create_jobs_on_any_model,
        create_jobs_on_an_unconfigured_model,
        create_jobs_anywhere,
        list_every_job,
        stop_jobs_of_every_region,
        pass_any_role,
        pass_the_role_to_any_service,
        any_s3_action_on_the_bucket,
        every_bucket,
        events_function_deletes_objects,
        events_function_creates_jobs,
        batch_function_invokes_models,
        trust_bedrock_without_conditions,
        trust_any_account,
        service_role_reads_the_whole_bucket,
        service_role_overwrites_inputs,
        service_role_lists_everything,
        service_role_gets_bedrock_full_access,
        tools_passes_the_service_role,
    )
}


@pytest.mark.parametrize("widening", WIDENINGS)
def test_a_widened_batch_grant_fails_the_check(template: dict[str, Any], widening: str) -> None:
    widened = copy.deepcopy(template)
    WIDENINGS[widening](widened)
    with pytest.raises(AssertionError):
        check_least_privilege(widened, US_PROFILE)


def test_the_unwidened_copy_passes(template: dict[str, Any]) -> None:
    check_least_privilege(copy.deepcopy(template), US_PROFILE)


def test_the_sample_events_exist() -> None:
    for name in ("batch/rest-batches-list.json", "batch/rest-files-list.json", "batch-events/job-completed.json"):
        assert (pathlib.Path(ROOT) / "events" / name).is_file(), name
