"""The rest of template.yaml's contract, on the transformed template: routes and how API Gateway
calls each function, auth on every route in the AWS_IAM and API_KEY modes (KEYS: test_keys.py),
the optional pieces, outputs, build settings, timeouts, logs, the parameter rules, and the
metrics namespace, dashboard and alarms."""

from __future__ import annotations

import copy
import json
import pathlib
import re
import subprocess
import sys
from typing import Any

import pytest

from cfn import ROOT, Evaluator, load_template, transform

ROUTES = {
    ("/v1/chat/completions", "post"): "ConverseFunction",
    ("/v1/responses", "post"): "ConverseFunction",
    ("/v1/models", "get"): "ConverseFunction",
    ("/v1/key", "get"): "ConverseFunction",
    ("/stream/v1/chat/completions", "post"): "StreamFunction",
    ("/stream/v1/responses", "post"): "StreamFunction",
    ("/tools/v1/chat/completions", "post"): "ToolsFunction",
    ("/v1/files", "post"): "BatchFunction",
    ("/v1/files", "get"): "BatchFunction",
    ("/v1/files/{file_id}", "get"): "BatchFunction",
    ("/v1/files/{file_id}/content", "get"): "BatchFunction",
    ("/v1/files/{file_id}", "delete"): "BatchFunction",
    ("/v1/batches", "post"): "BatchFunction",
    ("/v1/batches", "get"): "BatchFunction",
    ("/v1/batches/{batch_id}", "get"): "BatchFunction",
    ("/v1/batches/{batch_id}/cancel", "post"): "BatchFunction",
    ("/v1/batch/jobs", "post"): "BatchFunction",
    ("/v1/batch/jobs", "get"): "BatchFunction",
    ("/v1/batch/jobs/{job_id}", "get"): "BatchFunction",
    ("/v1/batch/jobs/{job_id}/cancel", "post"): "BatchFunction",
}
BINARIES = {
    "ConverseFunction": "converse",
    "StreamFunction": "stream",
    "ToolsFunction": "tools",
    "BatchFunction": "batch",
    "BatchEventsFunction": "batch-events",
}
APP_PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def evaluated(template: dict[str, Any], **params: str) -> Evaluator:
    return Evaluator(transform(template, params), params)


def api_paths(ev: Evaluator) -> dict[str, dict[str, Any]]:
    return ev.resource("Api")["Properties"]["Body"]["paths"]


def test_generated_blocks_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "gen_bedrock_slots.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_show_iam_prints_every_function_role() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "show_iam.py"), "InferenceProfileIds=us.mistral.pixtral-large-2502-v1:0"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    for function in BINARIES:
        assert f"== {function} (role " in result.stdout
    assert "inference-profile/us.mistral.pixtral-large-2502-v1:0" in result.stdout


def test_each_route_is_proxied_to_its_function(template: dict[str, Any]) -> None:
    paths = api_paths(evaluated(template))
    found = {(path, method) for path, item in paths.items() for method in item}
    assert found == set(ROUTES)
    for (path, method), function in ROUTES.items():
        integration = paths[path][method]["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert f"<GetAtt {function}.Arn>" in integration["uri"]


def test_only_the_stream_route_streams(template: dict[str, Any]) -> None:
    paths = api_paths(evaluated(template))
    for (path, method), function in ROUTES.items():
        integration = paths[path][method]["x-amazon-apigateway-integration"]
        if function == "StreamFunction":
            assert integration["responseTransferMode"] == "STREAM"
            assert integration["uri"].endswith("/response-streaming-invocations")
            assert "/2021-11-15/" in integration["uri"]
        else:
            assert "responseTransferMode" not in integration
            assert integration["uri"].endswith("/invocations")


@pytest.mark.parametrize(("mode", "scheme"), [("AWS_IAM", "sigv4"), ("API_KEY", "api_key")])
def test_every_route_requires_the_chosen_auth(template: dict[str, Any], mode: str, scheme: str) -> None:
    ev = evaluated(template, AuthMode=mode)
    body = ev.resource("Api")["Properties"]["Body"]
    for item in body["paths"].values():
        for operation in item.values():
            assert operation["security"] == [{scheme: []}]
    if scheme == "sigv4":
        assert body["securityDefinitions"]["sigv4"]["x-amazon-apigateway-authtype"] == "awsSigv4"
    key_resources = {"ApiKey", "UsagePlan", "UsagePlanKey"}
    assert all(ev.exists(r) for r in key_resources) == (mode == "API_KEY")
    assert not any(ev.exists(r) for r in key_resources) == (mode == "AWS_IAM")


def test_usage_plan_and_stage_throttle_with_the_parameters(template: dict[str, Any]) -> None:
    ev = evaluated(template, AuthMode="API_KEY", ThrottlingBurstLimit="7", ThrottlingRateLimit="3")
    assert ev.resource("UsagePlan")["Properties"]["Throttle"] == {"BurstLimit": "7", "RateLimit": "3"}
    stages = ev.resources("AWS::ApiGateway::Stage")
    (stage,) = stages.values()
    (setting,) = stage["Properties"]["MethodSettings"]
    assert (setting["ThrottlingBurstLimit"], setting["ThrottlingRateLimit"]) == ("7", "3")
    assert stage["Properties"]["AccessLogSetting"]["DestinationArn"] == "<GetAtt ApiAccessLogGroup.Arn>"


def test_api_is_regional(template: dict[str, Any]) -> None:
    api = evaluated(template).resource("Api")["Properties"]
    assert api["EndpointConfiguration"]["Types"] == ["REGIONAL"]


@pytest.mark.parametrize("enabled", ["true", "false"])
def test_function_url_is_optional_iam_and_streaming(template: dict[str, Any], enabled: str) -> None:
    ev = evaluated(template, EnableFunctionUrl=enabled)
    assert ev.exists("StreamFunctionUrl") == (enabled == "true")
    if enabled == "true":
        url = ev.resource("StreamFunctionUrl")["Properties"]
        assert url == {"TargetFunctionArn": "<GetAtt StreamFunction.Arn>", "AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"}


def test_outputs_are_the_three_base_urls(template: dict[str, Any]) -> None:
    ev = evaluated(template)
    outputs = ev.value(ev.template["Outputs"])
    assert outputs["ApiBaseUrl"]["Value"]== "https://<Ref Api>.execute-api.us-east-1.amazonaws.com/prod/v1"
    assert outputs["StreamApiBaseUrl"]["Value"] == "https://<Ref Api>.execute-api.us-east-1.amazonaws.com/prod/stream/v1"
    assert outputs["ToolsApiBaseUrl"]["Value"] == "https://<Ref Api>.execute-api.us-east-1.amazonaws.com/prod/tools/v1"


def test_functions_build_from_the_workspace_for_arm64(template: dict[str, Any]) -> None:
    functions = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}
    assert set(functions) == set(BINARIES)
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "provided.al2023"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["CodeUri"] == "."
    for logical_id, function in functions.items():
        assert function["Metadata"]["BuildMethod"] == "rust-cargolambda"
        assert function["Metadata"]["BuildProperties"]["Binary"] == BINARIES[logical_id]
        assert "CodeUri" not in function["Properties"]


def test_every_function_logs_to_its_own_group_with_retention(template: dict[str, Any]) -> None:
    ev = evaluated(template, LogRetentionDays="14")
    for logical_id in BINARIES:
        group_ref = ev.resource(logical_id)["Properties"]["LoggingConfig"]["LogGroup"]
        group = ev.resource(group_ref.removeprefix("<Ref ").removesuffix(">"))
        assert group["Properties"]["RetentionInDays"] == "14"
        assert group["Properties"]["LogGroupName"].endswith("-" + BINARIES[logical_id])


def test_timeouts_fit_the_way_each_function_is_called(template: dict[str, Any]) -> None:
    ev = evaluated(template)
    timeout = {k: int(ev.resource(k)["Properties"]["Timeout"]) for k in BINARIES}
    assert timeout["ConverseFunction"] <= 29 and timeout["ToolsFunction"] <= 29 and timeout["BatchFunction"] <= 29
    # No API Gateway in front of batch-events: a finished job is finalised in one invocation.
    assert timeout["BatchEventsFunction"] == 900
    assert timeout["StreamFunction"] * 1000 == int(
        api_paths(ev)["/stream/v1/chat/completions"]["post"]["x-amazon-apigateway-integration"]["timeoutInMillis"]
    )
    queued = evaluated(template, EnableSqsTrigger="true")
    tools_timeout = int(queued.resource("ToolsFunction")["Properties"]["Timeout"])
    assert tools_timeout > 29
    assert int(queued.resource("ToolsQueue")["Properties"]["VisibilityTimeout"]) >= 6 * tools_timeout


def test_memory_sizes_are_the_measured_choice(template: dict[str, Any]) -> None:
    # README > Performance: 128 MB for the waiting-bound converse and stream; tools' init needs
    # more CPU than 128 MB's share gives in one period, so it gets 256 MB.
    ev = evaluated(template)
    memory = {k: int(ev.resource(k)["Properties"]["MemorySize"]) for k in BINARIES}
    # batch holds an upload of up to ~4.5 MB several times; batch-events streams job outputs.
    assert memory == {"ConverseFunction": 128, "StreamFunction": 128, "ToolsFunction": 256, "BatchFunction": 256, "BatchEventsFunction": 512}


def test_sqs_trigger_has_a_dead_letter_queue(template: dict[str, Any]) -> None:
    assert not evaluated(template).exists("ToolsQueue")
    ev = evaluated(template, EnableSqsTrigger="true")
    queue = ev.resource("ToolsQueue")["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == "<GetAtt ToolsDeadLetterQueue.Arn>"
    mapping = ev.resource("ToolsQueueMapping")["Properties"]
    assert mapping["FunctionName"] == "<Ref ToolsFunction>"
    assert mapping["EventSourceArn"] == "<GetAtt ToolsQueue.Arn>"
    # The function reports failed records; Lambda only reads that list with this setting.
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_callback_settings_reach_the_tools_function_only_when_given(template: dict[str, Any]) -> None:
    unset = evaluated(template).resource("ToolsFunction")["Properties"].get("Environment", {}).get("Variables", {})
    assert "TOOLS_CALLBACK_SECRET" not in unset and "TOOLS_CALLBACK_ALLOWLIST" not in unset
    ev = evaluated(template, ToolsCallbackSecret="0123456789abcdef0123", ToolsCallbackAllowlist="hooks.example.com")
    variables = ev.resource("ToolsFunction")["Properties"]["Environment"]["Variables"]
    assert variables["TOOLS_CALLBACK_SECRET"] == "0123456789abcdef0123"
    assert variables["TOOLS_CALLBACK_ALLOWLIST"] == "hooks.example.com"
    assert template["Parameters"]["ToolsCallbackSecret"]["NoEcho"] is True


def test_eventbridge_rule_is_optional_and_dead_letters(template: dict[str, Any]) -> None:
    assert not evaluated(template).exists("ToolsEventRule")
    ev = evaluated(template, ToolsEventSource="acme.orders")
    rule = ev.resource("ToolsEventRule")["Properties"]
    assert rule["EventPattern"] == {"source": ["acme.orders"]}
    (target,) = rule["Targets"]
    assert target["DeadLetterConfig"]["Arn"] == "<GetAtt ToolsDeadLetterQueue.Arn>"
    assert ev.resource("ToolsEventPermission")["Properties"]["SourceArn"] == "<GetAtt ToolsEventRule.Arn>"


def test_the_router_alone_removes_the_stage(template: dict[str, Any]) -> None:
    # One mechanism for the stage prefix: the router strips it (shared/src/routes/stage.rs), so
    # lambda_http's own switch must not be set as well.
    ev = evaluated(template)
    for logical_id in BINARIES:
        variables = ev.resource(logical_id)["Properties"]["Environment"]["Variables"]
        assert "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH" not in variables
        assert variables["RUST_LOG"] == "info"
        assert variables["BEDROCK_DEFAULT_MODEL"] == "mistral.mistral-large-2407-v1:0"


@pytest.mark.parametrize(
    ("params", "broken"),
    [
        ({}, set()),
        ({"InferenceProfileIds": "us.mistral.pixtral-large-2502-v1:0"}, set()),
        ({"InferenceProfileIds": "us.mistral.pixtral-large-2502-v1:0", "InferenceProfileRegions": ""}, {"ProfilesNeedRegions"}),
        ({"ApplicationInferenceProfileArns": APP_PROFILE, "ApplicationInferenceProfileModels": "mistral.mistral-large-3-675b-instruct"}, set()),
        ({"ApplicationInferenceProfileArns": APP_PROFILE}, {"ApplicationProfilesNeedModels"}),
        ({"ApplicationInferenceProfileModels": "mistral.mistral-large-3-675b-instruct"}, {"ApplicationProfileModelsNeedProfiles"}),
    ],
)
def test_rules_refuse_inconsistent_parameters(template: dict[str, Any], params: dict[str, str], broken: set[str]) -> None:
    verdicts = Evaluator(template, params).rules()
    assert {name for name, ok in verdicts.items() if not ok} == broken


def test_an_empty_default_model_leaves_the_choice_to_the_functions(template: dict[str, Any]) -> None:
    ev = evaluated(template, DefaultModel="")
    for logical_id in BINARIES:
        assert "BEDROCK_DEFAULT_MODEL" not in ev.resource(logical_id)["Properties"]["Environment"]["Variables"]


def test_parameter_patterns_refuse_bad_ids(template: dict[str, Any]) -> None:
    for params in ({"ModelIds": "mistral.ok-v1:0,"}, {"ModelIds": "anthropic.claude-v2"}, {"InferenceProfileIds": "mistral.x"}):
        with pytest.raises(ValueError):
            Evaluator(template, params)


# ---------------------------------------------------------------------- metrics: dashboard, alarms

NAMESPACE = "MistralBedrock/mistral-api"  # MistralBedrock/<stack name>, as cfn.STACK names it
ALARMS = {
    f"{logical_id.removesuffix('Function')}{kind}Alarm": (binary, metric)
    for logical_id, binary in BINARIES.items()
    for kind, metric in (("ServerErrorRate", "ServerErrors"), ("ThrottleRate", "Throttles"))
}


def dashboard(ev: Evaluator) -> dict[str, Any]:
    (board,) = ev.resources("AWS::CloudWatch::Dashboard").values()
    return json.loads(board["Properties"]["DashboardBody"])


def test_every_function_writes_metrics_to_the_stack_namespace(template: dict[str, Any]) -> None:
    ev = evaluated(template)
    for logical_id in BINARIES:
        assert ev.resource(logical_id)["Properties"]["Environment"]["Variables"]["METRICS_NAMESPACE"] == NAMESPACE
    assert ev.value(ev.template["Outputs"])["MetricsNamespace"]["Value"] == NAMESPACE


def test_dashboard_reads_the_stack_namespace_in_the_stack_region(template: dict[str, Any]) -> None:
    ev = Evaluator(transform(template, {}), {}, region="eu-west-3")
    widgets = dashboard(ev)["widgets"]
    for widget in widgets:
        if widget["type"] != "metric":
            continue
        assert widget["properties"]["region"] == "eu-west-3"
        for line in widget["properties"]["metrics"]:
            if isinstance(line[0], dict):
                assert f'{{"{NAMESPACE}",Function,Model,Route}}' in line[0]["expression"]
            else:
                assert line[0] == NAMESPACE
    (alarm_widget,) = [w for w in widgets if w["type"] == "alarm"]
    assert set(alarm_widget["properties"]["alarms"]) == {f"<GetAtt {a}.Arn>" for a in ALARMS}


def test_dashboard_widgets_tile_the_grid_without_overlap(template: dict[str, Any]) -> None:
    taken: set[tuple[int, int]] = set()
    for widget in dashboard(evaluated(template))["widgets"]:
        assert widget["x"] + widget["width"] <= 24, widget["properties"]["title"]
        cells = {(x, y) for x in range(widget["x"], widget["x"] + widget["width"]) for y in range(widget["y"], widget["y"] + widget["height"])}
        assert not cells & taken, f"{widget['properties']['title']} overlaps another widget"
        taken |= cells


def test_cost_per_model_is_an_hourly_sum_over_the_model_dimension_set(template: dict[str, Any]) -> None:
    (cost,) = [w for w in dashboard(evaluated(template))["widgets"] if w["properties"]["title"].startswith("Cost per model")]
    ((query,),) = cost["properties"]["metrics"]
    assert query["expression"] == f"SEARCH('{{\"{NAMESPACE}\",Function,Model,Route}} MetricName=\"CostUSD\"', 'Sum', 3600)"
    assert cost["properties"]["period"] == 3600
    assert "${PROP('Dim.Model')}" in query["label"]


def test_each_function_has_a_5xx_and_a_throttle_rate_alarm(template: dict[str, Any]) -> None:
    ev = evaluated(template)
    alarms = ev.resources("AWS::CloudWatch::Alarm")
    assert set(alarms) == set(ALARMS)
    for logical_id, (binary, metric) in ALARMS.items():
        props = alarms[logical_id]["Properties"]
        assert props["TreatMissingData"] == "notBreaching"
        assert props["ComparisonOperator"] == "GreaterThanThreshold" and 0 < float(props["Threshold"]) < 1
        assert int(props["DatapointsToAlarm"]) <= int(props["EvaluationPeriods"])
        queries = {q["Id"]: q for q in props["Metrics"]}
        (result,) = [q for q in queries.values() if q["ReturnData"]]
        # The expression divides the failed answers by the requests, and only names queries of this alarm.
        assert "failed" in result["Expression"] and "/ requests" in result["Expression"]
        assert set(re.findall(r"\b[a-z]+\b", result["Expression"])) - {"failed", "requests"} == set()
        for query_id, wanted in (("failed", metric), ("requests", "Requests")):
            stat = queries[query_id]["MetricStat"]
            assert stat["Metric"] == {"Namespace": NAMESPACE, "MetricName": wanted, "Dimensions": [{"Name": "Function", "Value": binary}]}
            assert (stat["Stat"], int(stat["Period"])) == ("Sum", 300)


@pytest.mark.parametrize("topic", ["", "arn:aws:sns:us-east-1:123456789012:ops-alerts"])
def test_alarms_notify_the_topic_only_when_given(template: dict[str, Any], topic: str) -> None:
    ev = evaluated(template, AlarmTopicArn=topic)
    for alarm in ev.resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        if topic:
            assert props["AlarmActions"] == [topic] and props["OKActions"] == [topic]
        else:
            assert "AlarmActions" not in props and "OKActions" not in props


def test_alarm_topic_must_be_an_sns_arn(template: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Evaluator(template, {"AlarmTopicArn": "ops-alerts"})


# ---------------------------------------------------------------------- guardrail, native bodies, profiles

GUARDRAIL = "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123def456"
GUARDRAIL_VARIABLES = ("BEDROCK_GUARDRAIL_ID", "BEDROCK_GUARDRAIL_VERSION", "BEDROCK_GUARDRAIL_TRACE")


def variables(ev: Evaluator, logical_id: str) -> dict[str, str]:
    return ev.resource(logical_id)["Properties"]["Environment"]["Variables"]


def test_guardrail_settings_reach_every_function_only_when_given(template: dict[str, Any]) -> None:
    unset = evaluated(template)
    with_defaults = evaluated(template, GuardrailArn=GUARDRAIL)
    pinned = evaluated(template, GuardrailArn=GUARDRAIL, GuardrailVersion="7", GuardrailTrace="enabled_full")
    for logical_id in BINARIES:
        assert not set(GUARDRAIL_VARIABLES) & set(variables(unset, logical_id))
        assert [variables(with_defaults, logical_id)[v] for v in GUARDRAIL_VARIABLES] == [GUARDRAIL, "DRAFT", "disabled"]
        assert [variables(pinned, logical_id)[v] for v in GUARDRAIL_VARIABLES] == [GUARDRAIL, "7", "enabled_full"]


def test_native_body_models_reach_every_function_only_when_given(template: dict[str, Any]) -> None:
    unset = evaluated(template)
    ev = evaluated(template, InvokeModelIds=f"mistral.mistral-large-2407-v1:0,{APP_PROFILE}")
    for logical_id in BINARIES:
        assert "BEDROCK_INVOKE_MODELS" not in variables(unset, logical_id)
        assert variables(ev, logical_id)["BEDROCK_INVOKE_MODELS"] == f"mistral.mistral-large-2407-v1:0,{APP_PROFILE}"


def test_application_profiles_join_the_model_list_with_their_model(template: dict[str, Any]) -> None:
    ev = evaluated(
        template,
        ModelIds="mistral.mistral-small-2402-v1:0",
        InferenceProfileIds="us.mistral.pixtral-large-2502-v1:0",
        ApplicationInferenceProfileArns=APP_PROFILE,
        ApplicationInferenceProfileModels="mistral.mistral-large-3-675b-instruct",
        DefaultModel=APP_PROFILE,
    )
    for logical_id in BINARIES:
        env = variables(ev, logical_id)
        assert env["BEDROCK_MODEL_IDS"] == (
            f"mistral.mistral-small-2402-v1:0,us.mistral.pixtral-large-2502-v1:0,{APP_PROFILE}#mistral.mistral-large-3-675b-instruct"
        )
        assert env["BEDROCK_DEFAULT_MODEL"] == APP_PROFILE


@pytest.mark.parametrize(
    "params",
    [
        {"GuardrailArn": "abc123def456"},
        {"GuardrailArn": "arn:aws:bedrock:us-east-1:123456789012:guardrail/*"},
        {"GuardrailArn": "arn:aws:bedrock:us-east-1:123456789012:guardrail-profile/us.guardrail.v1:0"},
        {"GuardrailVersion": "draft"},
        {"GuardrailVersion": "0"},
        {"GuardrailVersion": ""},
        {"GuardrailTrace": "on"},
        {"ApplicationInferenceProfileArns": "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.mistral.pixtral-large-2502-v1:0"},
        {"ApplicationInferenceProfileArns": "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/*"},
        {"ApplicationInferenceProfileModels": "us.mistral.pixtral-large-2502-v1:0"},
        {"ApplicationInferenceProfileRegions": "*"},
        {"InvokeModelIds": "mistral.*"},
        {"DefaultModel": "arn:aws:bedrock:us-east-1:123456789012:guardrail/abc123def456"},
    ],
)
def test_parameter_patterns_refuse_bad_guardrails_and_profiles(template: dict[str, Any], params: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        Evaluator(template, params)


# ---------------------------------------------------------------------- Lambda Managed Instances recipe

def managed_instances_recipe(tmp: pathlib.Path) -> dict[str, Any]:
    """The YAML block of docs/deploy.md section 8, loaded with CloudFormation's tags."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    block = text.split("<!-- managed-instances-recipe: start -->", 1)[1].split("<!-- managed-instances-recipe: end -->", 1)[0]
    path = tmp / "managed-instances-recipe.yaml"
    path.write_text(block.strip().removeprefix("```yaml").removesuffix("```"))
    return load_template(path)


def test_the_managed_instances_recipe_translates_lints_and_keeps_least_privilege(template: dict[str, Any], tmp_path: pathlib.Path) -> None:
    from cfnlint.api import ManualArgs, lint
    from test_iam import check_least_privilege

    recipe = managed_instances_recipe(tmp_path)
    assert set(recipe) == {"Parameters", "Resources", "StreamFunction"}
    edited = copy.deepcopy(template)
    edited["Parameters"].update(recipe["Parameters"])
    edited["Resources"].update(recipe["Resources"])
    edited["Resources"]["StreamFunction"]["Properties"].update(recipe["StreamFunction"])
    params = {"ManagedInstancesSubnetIds": "subnet-0123456789abcdef0,subnet-0fedcba9876543210", "ManagedInstancesSecurityGroupIds": "sg-0123456789abcdef0"}

    ev = Evaluator(transform(edited, params), params)
    stream = ev.resource("StreamFunction")["Properties"]
    assert stream["CapacityProviderConfig"] == {
        "LambdaManagedInstancesCapacityProviderConfig": {"CapacityProviderArn": "<GetAtt StreamCapacityProvider.Arn>", "PerExecutionEnvironmentMaxConcurrency": "64"}
    }
    assert int(stream["MemorySize"]) == 2048
    # Managed Instances run published versions: the streaming route invokes the alias.
    integration = api_paths(ev)["/stream/v1/chat/completions"]["post"]["x-amazon-apigateway-integration"]
    assert "<Ref StreamFunctionAliaslive>" in integration["uri"] and integration["responseTransferMode"] == "STREAM"
    provider = ev.resource("StreamCapacityProvider")["Properties"]
    assert provider["InstanceRequirements"]["Architectures"] == template["Globals"]["Function"]["Architectures"]

    matches = lint(json.dumps(edited), config=ManualArgs(regions=["us-east-1"]))
    errors = [m for m in matches if m.rule.id.startswith("E")]
    assert not errors, "\n".join(str(m) for m in errors)
    # The functions' own roles are untouched by the recipe.
    check_least_privilege(edited, params)
