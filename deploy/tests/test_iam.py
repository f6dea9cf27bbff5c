"""Least privilege of the functions' roles, checked on the CloudFormation that the SAM transform
makes of template.yaml, for several parameter sets.

For every Lambda function: its Bedrock actions are exactly the ones its code calls (and
bedrock:ApplyGuardrail when a guardrail is configured); every Bedrock resource is a concrete
foundation-model, inference-profile, application-inference-profile or guardrail ARN built from
the parameters, and the set of them is exactly the one the parameters ask for; a model reached
through a profile is granted only through that profile; nothing else is granted but writing to
its own log group (and, for tools, its queues when those triggers are on; with AuthMode=KEYS,
the DynamoDB actions shared/src/keys/schema.rs names, on the keys table alone). The two batch
functions and Bedrock's batch service role are held to their own exact lists (test_batch.py),
checked here for every parameter set too. checkov and cfn-lint cannot see any of this: the ARNs
only exist once the intrinsics are evaluated.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Callable

import pytest

import keys_schema
from cfn import ACCOUNT, REGION, Evaluator, load_template, transform

INVOKE = "bedrock:InvokeModel"
INVOKE_STREAM = "bedrock:InvokeModelWithResponseStream"
APPLY_GUARDRAIL = "bedrock:ApplyGuardrail"
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
SQS_POLL_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility")
# What the keys code calls on its table (shared/src/keys/schema.rs, FUNCTION_ACTIONS).
KEYS_TABLE_ACTIONS = keys_schema.load().function_actions
KEYS_TABLE_ARN = "<GetAtt KeysTable.Arn>"

# What each function's code calls on Bedrock (shared/src/bedrock/sdk/): Converse and InvokeModel
# need bedrock:InvokeModel, ConverseStream and InvokeModelWithResponseStream
# bedrock:InvokeModelWithResponseStream. Only the stream function streams; it also makes whole
# calls (triage, checked cascade answers, models that cannot stream tool use).
BEDROCK_ACTIONS = {
    "ConverseFunction": {INVOKE},
    "StreamFunction": {INVOKE, INVOKE_STREAM},
    "ToolsFunction": {INVOKE},
}

FOUNDATION_MODEL_ARN = re.compile(r"arn:aws:bedrock:[a-z]{2}(-gov)?-[a-z]+-\d::foundation-model/mistral\.[a-z0-9][a-z0-9.:-]*")
PROFILE_ARN = re.compile(r"arn:aws:bedrock:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:inference-profile/[a-z]+\.mistral\.[a-z0-9][a-z0-9.:-]*")
APP_PROFILE_ARN = re.compile(r"arn:aws:bedrock:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:application-inference-profile/[a-z0-9]+")
GUARDRAIL_ARN = re.compile(r"arn:aws:bedrock:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:guardrail/[a-z0-9]+")
PROFILE_CONDITION_KEY = "bedrock:InferenceProfileArn"

DEFAULTS: dict[str, str] = {}
US_PROFILE = {
    "InferenceProfileIds": "us.mistral.pixtral-large-2502-v1:0",
    "InferenceProfileRegions": "us-east-1,us-east-2,us-west-2",
}
EVERY_SLOT = {
    "ModelIds": ",".join(
        [
            "mistral.mistral-large-2407-v1:0",
            "mistral.mistral-small-2402-v1:0",
            "mistral.mistral-7b-instruct-v0:2",
            "mistral.mixtral-8x7b-instruct-v0:1",
            "mistral.mistral-large-2402-v1:0",
            "mistral.pixtral-large-2502-v1:0",
            "mistral.ministral-3-8b-instruct",
            "mistral.magistral-small-2509",
        ]
    ),
    # Three different models, so a profile slot wired to the wrong model or Region shows.
    "InferenceProfileIds": "eu.mistral.pixtral-large-2502-v1:0,eu.mistral.magistral-small-2509,eu.mistral.ministral-3-8b-instruct",
    "InferenceProfileRegions": "eu-central-1,eu-north-1,eu-west-1,eu-west-3,eu-south-1,eu-south-2",
    "DefaultModel": "mistral.mistral-small-2402-v1:0",
}
ALL_TRIGGERS = {"EnableSqsTrigger": "true", "ToolsEventSource": "acme.orders", "EnableFunctionUrl": "true"}
GUARDRAIL = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:guardrail/abc123def456"
APP_PROFILES = [f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{i}" for i in ("a1b2c3d4e5f6", "0f9e8d7c6b5a", "99aa88bb77cc")]
APP_PROFILE_MODELS = ["mistral.mistral-large-3-675b-instruct", "mistral.magistral-small-2509", "mistral.ministral-3-8b-instruct"]
# Two application profiles copied from foundation models: their Region is the stack's.
APP_PROFILES_HERE = {
    "ApplicationInferenceProfileArns": ",".join(APP_PROFILES[:2]),
    "ApplicationInferenceProfileModels": ",".join(APP_PROFILE_MODELS[:2]),
}
# Every new option at once, every slot used: three application profiles copied from cross-Region
# profiles, a guardrail, native-body models, team keys, with the system profiles and triggers.
EVERYTHING = {
    **EVERY_SLOT,
    **ALL_TRIGGERS,
    "AuthMode": "KEYS",
    "ApplicationInferenceProfileArns": ",".join(APP_PROFILES),
    "ApplicationInferenceProfileModels": ",".join(APP_PROFILE_MODELS),
    "ApplicationInferenceProfileRegions": "us-east-1,us-east-2,us-west-2,ca-central-1,sa-east-1,us-west-1",
    "GuardrailArn": GUARDRAIL,
    "GuardrailVersion": "3",
    "GuardrailTrace": "enabled",
    "InvokeModelIds": f"mistral.mistral-large-2407-v1:0,{APP_PROFILES[0]}",
}
PARAMETER_SETS = {
    "defaults": DEFAULTS,
    "us-profile": US_PROFILE,
    "every-slot": EVERY_SLOT,
    "triggers-on": ALL_TRIGGERS,
    "api-key": {"AuthMode": "API_KEY", "ModelIds": "mistral.mistral-small-2402-v1:0", "DefaultModel": "mistral.mistral-small-2402-v1:0"},
    "app-profiles": APP_PROFILES_HERE,
    "guardrail": {"GuardrailArn": GUARDRAIL},
    "keys": {"AuthMode": "KEYS"},
    "everything": EVERYTHING,
}


# ---------------------------------------------------------------------- what the parameters ask


def listed(params: dict[str, str], name: str, template: dict[str, Any]) -> list[str]:
    raw = params.get(name, template["Parameters"][name].get("Default", ""))
    return [item for item in str(raw).split(",") if item]


def expected_bedrock(params: dict[str, str], template: dict[str, Any], region: str = REGION) -> dict[str, set[Any]]:
    """The Bedrock ARNs the parameters ask for, computed without the template's intrinsics.

    `pairs` are the (model ARN, profile ARN) pairs granted only through a profile: every model
    behind the system profiles through any of them (one statement for all, as before), and an
    application profile's own model only through that profile."""
    models = listed(params, "ModelIds", template)
    profiles = listed(params, "InferenceProfileIds", template)
    regions = listed(params, "InferenceProfileRegions", template)
    apps = list(zip(listed(params, "ApplicationInferenceProfileArns", template), listed(params, "ApplicationInferenceProfileModels", template), strict=True))
    app_regions = listed(params, "ApplicationInferenceProfileRegions", template) or [region]
    profile_arns = {f"arn:aws:bedrock:{region}:{ACCOUNT}:inference-profile/{p}" for p in profiles}
    behind_system = {f"arn:aws:bedrock:{r}::foundation-model/{p.split('.', 1)[1]}" for p in profiles for r in regions}
    behind_apps = {(f"arn:aws:bedrock:{r}::foundation-model/{model}", arn) for arn, model in apps for r in app_regions}
    return {
        "direct": {f"arn:aws:bedrock:{region}::foundation-model/{m}" for m in models} | profile_arns | {arn for arn, _ in apps},
        "behind_profiles": behind_system | {model for model, _ in behind_apps},
        "profiles": profile_arns | {arn for arn, _ in apps},
        "pairs": {(model, arn) for model in behind_system for arn in profile_arns} | behind_apps,
    }


def expected_guardrail(params: dict[str, str]) -> dict[str, set[Any]]:
    guardrail = params.get("GuardrailArn", "")
    return {"direct": {guardrail} if guardrail else set(), "behind_profiles": set(), "profiles": set(), "pairs": set()}


# ---------------------------------------------------------------------- what the template grants


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(ev: Evaluator, role_id: str) -> list[dict[str, Any]]:
    """Every statement that reaches the role: inline, attached managed policies, policy resources."""
    role = ev.resource(role_id)
    assert role["Type"] == "AWS::IAM::Role", f"{role_id} is not a role of this template"
    props = role["Properties"]
    statements: list[dict[str, Any]] = []
    for policy in props.get("Policies", []):
        statements += as_list(policy["PolicyDocument"]["Statement"])
    for arn in props.get("ManagedPolicyArns", []):
        match = re.fullmatch(r"<Ref (\w+)>", arn) if isinstance(arn, str) else None
        assert match, f"{role_id}: managed policy {arn} cannot be checked here; write the statements in the template"
        policy = ev.resource(match.group(1))
        assert policy["Type"] == "AWS::IAM::ManagedPolicy", f"{role_id}: {arn} is not a managed policy"
        statements += as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    me = f"<Ref {role_id}>"
    for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy"):
        for policy_id, policy in ev.resources(kind).items():
            attached = as_list(policy["Properties"].get("Roles", [])) + as_list(policy["Properties"].get("RoleName", []))
            if me in attached and policy_id not in str(props.get("ManagedPolicyArns", [])):
                statements += as_list(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def function_role(ev: Evaluator, function_id: str) -> str:
    role = ev.resource(function_id)["Properties"]["Role"]
    match = re.fullmatch(r"<GetAtt (\w+)\.Arn>", role) if isinstance(role, str) else None
    assert match, f"{function_id}: role {role!r} is not one of this template's roles"
    return match.group(1)


def grants(ev: Evaluator, function_id: str) -> dict[str, Any]:
    """What the function's role allows, with every rule about the shape of a statement asserted."""
    bedrock: dict[str, dict[str, set[str]]] = {}
    other: set[tuple[str, str]] = set()
    for st in role_statements(ev, function_role(ev, function_id)):
        assert "NotAction" not in st and "NotResource" not in st, f"{function_id}: NotAction/NotResource in {st}"
        if st.get("Effect") != "Allow":
            continue
        actions = as_list(st["Action"])
        resources = as_list(st["Resource"])
        for action in actions:
            assert "*" not in action and "?" not in action, f"{function_id}: wildcard action {action}"
        for resource in resources:
            assert isinstance(resource, str) and "*" not in resource and "?" not in resource, (
                f"{function_id}: wildcard resource {resource!r} for {actions}"
            )
        condition = st.get("Condition")
        for action in actions:
            if not action.lower().startswith("bedrock:"):
                assert condition is None, f"{function_id}: unexpected condition on {action}"
                other.update((action, resource) for resource in resources)
                continue
            grant = bedrock.setdefault(action, {"direct": set(), "behind_profiles": set(), "profiles": set(), "pairs": set()})
            for resource in resources:
                if action == APPLY_GUARDRAIL:
                    assert GUARDRAIL_ARN.fullmatch(resource), f"{function_id}: {action} on {resource!r}, not a guardrail ARN"
                else:
                    assert (
                        FOUNDATION_MODEL_ARN.fullmatch(resource) or PROFILE_ARN.fullmatch(resource) or APP_PROFILE_ARN.fullmatch(resource)
                    ), f"{function_id}: {action} on {resource!r}, not a model or inference-profile ARN"
            if condition is None:
                grant["direct"].update(resources)
            else:
                assert action != APPLY_GUARDRAIL, f"{function_id}: a condition on {action}"
                assert list(condition) == ["StringEquals"] and list(condition["StringEquals"]) == [PROFILE_CONDITION_KEY], (
                    f"{function_id}: unexpected condition {condition}"
                )
                through = as_list(condition["StringEquals"][PROFILE_CONDITION_KEY])
                for profile in through:
                    assert isinstance(profile, str) and (PROFILE_ARN.fullmatch(profile) or APP_PROFILE_ARN.fullmatch(profile)), (
                        f"{function_id}: {action} conditioned on {profile!r}, not one inference-profile ARN"
                    )
                for resource in resources:
                    assert FOUNDATION_MODEL_ARN.fullmatch(resource), (
                        f"{function_id}: {action} through a profile on {resource!r}, not a foundation model"
                    )
                grant["behind_profiles"].update(resources)
                grant["profiles"].update(through)
                grant["pairs"].update((resource, profile) for resource in resources for profile in through)
    return {"bedrock": bedrock, "other": other}


def expected_other(ev: Evaluator, function_id: str) -> set[tuple[str, str]]:
    log_group = ev.resource(function_id)["Properties"]["LoggingConfig"]["LogGroup"]
    match = re.fullmatch(r"<Ref (\w+)>", log_group)
    assert match, f"{function_id} logs to {log_group!r}, not to a log group of this template"
    expected = {(action, f"<GetAtt {match.group(1)}.Arn>") for action in LOG_ACTIONS}
    if function_id == "ToolsFunction":
        if ev.condition("SqsTriggerEnabled"):
            expected |= {(action, "<GetAtt ToolsQueue.Arn>") for action in SQS_POLL_ACTIONS}
        if ev.condition("EventBridgeEnabled"):
            expected.add(("sqs:SendMessage", "<GetAtt ToolsDeadLetterQueue.Arn>"))
    if ev.condition("UseKeysAuth"):
        expected |= {(action, KEYS_TABLE_ARN) for action in KEYS_TABLE_ACTIONS}
    return expected


def check_least_privilege(sam_template: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    """Asserts the whole IAM contract for one parameter set; returns the grants for inspection."""
    import test_batch  # the batch contract; it imports this module's helpers

    ev = Evaluator(transform(sam_template, params), params)
    functions = ev.resources("AWS::Lambda::Function")
    assert set(functions) == set(BEDROCK_ACTIONS) | set(test_batch.FUNCTIONS), (
        f"functions {sorted(functions)}: update BEDROCK_ACTIONS or test_batch.FUNCTIONS"
    )
    want_models = expected_bedrock(params, sam_template)
    found = {}
    for function_id, actions in BEDROCK_ACTIONS.items():
        if params.get("GuardrailArn"):
            actions = actions | {APPLY_GUARDRAIL}
        got = grants(ev, function_id)
        assert set(got["bedrock"]) == actions, f"{function_id}: Bedrock actions {sorted(got['bedrock'])}, want {sorted(actions)}"
        for action, grant in got["bedrock"].items():
            want = expected_guardrail(params) if action == APPLY_GUARDRAIL else want_models
            assert grant["pairs"] == want["pairs"], (
                f"{function_id} {action}: granted through the wrong profile: {sorted(grant['pairs'] ^ want['pairs'])}"
            )
            assert grant["direct"] == want["direct"], f"{function_id} {action}: {sorted(grant['direct'] ^ want['direct'])}"
            assert grant["behind_profiles"] == want["behind_profiles"], (
                f"{function_id} {action} behind profiles: {sorted(grant['behind_profiles'] ^ want['behind_profiles'])}"
            )
            if want["behind_profiles"]:
                assert grant["profiles"] == want["profiles"], f"{function_id} {action}: condition {grant['profiles']}"
        assert got["other"] == expected_other(ev, function_id), (
            f"{function_id}: non-Bedrock grants {sorted(got['other'] ^ expected_other(ev, function_id))}"
        )
        found[function_id] = got
    test_batch.check_batch_privilege(ev, params, sam_template)
    return found


# ---------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.mark.parametrize("name", PARAMETER_SETS)
def test_each_role_gets_exactly_the_configured_models(template: dict[str, Any], name: str) -> None:
    check_least_privilege(template, PARAMETER_SETS[name])


def test_profiles_add_profile_arn_and_models_in_each_profile_region(template: dict[str, Any]) -> None:
    grant = check_least_privilege(template, US_PROFILE)["StreamFunction"]["bedrock"][INVOKE_STREAM]
    profile = f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/us.mistral.pixtral-large-2502-v1:0"
    assert profile in grant["direct"]
    assert grant["behind_profiles"] == {
        f"arn:aws:bedrock:{r}::foundation-model/mistral.pixtral-large-2502-v1:0" for r in ("us-east-1", "us-east-2", "us-west-2")
    }
    assert grant["profiles"] == {profile}


def test_without_profiles_no_cross_region_model_is_granted(template: dict[str, Any]) -> None:
    for got in check_least_privilege(template, DEFAULTS).values():
        for grant in got["bedrock"].values():
            assert grant["behind_profiles"] == set()
            assert all(arn.startswith(f"arn:aws:bedrock:{REGION}:") for arn in grant["direct"])


def test_changing_model_ids_changes_the_arns(template: dict[str, Any]) -> None:
    one = {"ModelIds": "mistral.mistral-small-2402-v1:0", "DefaultModel": "mistral.mistral-small-2402-v1:0"}
    other = {"ModelIds": "mistral.mistral-large-2407-v1:0", "DefaultModel": "mistral.mistral-large-2407-v1:0"}
    first = check_least_privilege(template, one)["ConverseFunction"]["bedrock"][INVOKE]["direct"]
    second = check_least_privilege(template, other)["ConverseFunction"]["bedrock"][INVOKE]["direct"]
    assert first == {f"arn:aws:bedrock:{REGION}::foundation-model/mistral.mistral-small-2402-v1:0"}
    assert second == {f"arn:aws:bedrock:{REGION}::foundation-model/mistral.mistral-large-2407-v1:0"}


def test_region_and_partition_come_from_the_stack(template: dict[str, Any]) -> None:
    params = {"ModelIds": "mistral.mistral-large-2402-v1:0", "DefaultModel": "mistral.mistral-large-2402-v1:0"}
    ev = Evaluator(transform(template, params), params, region="eu-west-3")
    arns = grants(ev, "ToolsFunction")["bedrock"][INVOKE]["direct"]
    assert arns == {"arn:aws:bedrock:eu-west-3::foundation-model/mistral.mistral-large-2402-v1:0"}


def test_functions_allow_the_models_that_iam_allows(template: dict[str, Any]) -> None:
    for params in PARAMETER_SETS.values():
        ev = Evaluator(transform(template, params), params)
        ids = listed(params, "ModelIds", template) + listed(params, "InferenceProfileIds", template)
        ids += [
            f"{arn}#{model}"
            for arn, model in zip(
                listed(params, "ApplicationInferenceProfileArns", template), listed(params, "ApplicationInferenceProfileModels", template)
            )
        ]
        for function_id in BEDROCK_ACTIONS:
            env = ev.resource(function_id)["Properties"]["Environment"]["Variables"]
            assert env["BEDROCK_MODEL_IDS"].split(",") == ids


@pytest.mark.parametrize(
    ("param", "items"),
    [("ModelIds", 9), ("InferenceProfileIds", 4), ("InferenceProfileRegions", 7)],
)
def test_more_ids_than_slots_fails_the_deploy(template: dict[str, Any], param: str, items: int) -> None:
    values = {
        "ModelIds": [f"mistral.model-{i}-v1:0" for i in range(items)],
        "InferenceProfileIds": [f"us.mistral.model-{i}-v1:0" for i in range(items)],
        "InferenceProfileRegions": [f"us-west-{i + 1}" for i in range(items)],
    }[param]
    params = {param: ",".join(values), "DefaultModel": "mistral.mistral-large-2407-v1:0"}
    ev = Evaluator(transform(template, params), params)
    assert ev.exists("IdSlotsOverflowGuard")
    fitting = {param: ",".join(values[:-1])}
    assert not Evaluator(transform(template, fitting), fitting).exists("IdSlotsOverflowGuard")


def test_policies_stay_under_the_managed_policy_size_limit(template: dict[str, Any]) -> None:
    # IAM counts a managed policy's characters without whitespace, at most 6,144.
    long_ids = {
        "ModelIds": ",".join(f"mistral.a-rather-long-model-name-{i}-2512-v1:0" for i in range(8)),
        "InferenceProfileIds": ",".join(f"apac.mistral.a-rather-long-model-name-{i}-2512-v1:0" for i in range(3)),
        "InferenceProfileRegions": "ap-northeast-1,ap-northeast-2,ap-northeast-3,ap-southeast-1,ap-southeast-2,ap-south-1",
        "DefaultModel": "",
    }
    ev = Evaluator(transform(template, long_ids), long_ids, region="ap-northeast-1")
    for policy_id, policy in ev.resources("AWS::IAM::ManagedPolicy").items():
        size = len(json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":")))
        assert size <= 6144, f"{policy_id} is {size} characters"


def test_application_profiles_grant_the_profile_and_its_own_model_only_through_it(template: dict[str, Any]) -> None:
    params = {**APP_PROFILES_HERE, "ApplicationInferenceProfileRegions": "us-east-1,us-west-2"}
    for function_id, got in check_least_privilege(template, params).items():
        for action in BEDROCK_ACTIONS[function_id]:
            grant = got["bedrock"][action]
            assert set(APP_PROFILES[:2]) <= grant["direct"]
            assert grant["pairs"] == {
                (f"arn:aws:bedrock:{r}::foundation-model/{model}", arn)
                for arn, model in zip(APP_PROFILES[:2], APP_PROFILE_MODELS[:2])
                for r in ("us-east-1", "us-west-2")
            }


def test_application_profile_regions_default_to_the_stack_region(template: dict[str, Any]) -> None:
    arn = f"arn:aws:bedrock:eu-west-3:{ACCOUNT}:application-inference-profile/a1b2c3d4e5f6"
    params = {"ApplicationInferenceProfileArns": arn, "ApplicationInferenceProfileModels": "mistral.mistral-large-3-675b-instruct"}
    ev = Evaluator(transform(template, params), params, region="eu-west-3")
    for function_id, actions in BEDROCK_ACTIONS.items():
        for action in actions:
            grant = grants(ev, function_id)["bedrock"][action]
            assert grant["pairs"] == {("arn:aws:bedrock:eu-west-3::foundation-model/mistral.mistral-large-3-675b-instruct", arn)}


def test_a_guardrail_adds_apply_guardrail_on_that_guardrail_only(template: dict[str, Any]) -> None:
    with_guardrail = check_least_privilege(template, {"GuardrailArn": GUARDRAIL})
    without = check_least_privilege(template, DEFAULTS)
    for function_id in BEDROCK_ACTIONS:
        assert with_guardrail[function_id]["bedrock"][APPLY_GUARDRAIL]["direct"] == {GUARDRAIL}
        assert APPLY_GUARDRAIL not in without[function_id]["bedrock"]
        del with_guardrail[function_id]["bedrock"][APPLY_GUARDRAIL]
        assert with_guardrail[function_id] == without[function_id], f"{function_id}: the guardrail changed other grants"


def test_native_body_models_need_no_other_permission(template: dict[str, Any]) -> None:
    native = {**APP_PROFILES_HERE, "InvokeModelIds": f"mistral.mistral-large-2407-v1:0,{APP_PROFILES[0]}"}
    assert check_least_privilege(template, native) == check_least_privilege(template, APP_PROFILES_HERE)


@pytest.mark.parametrize(
    ("arns", "models", "mismatch"),
    [(2, 2, False), (0, 0, False), (2, 1, True), (1, 2, True), (0, 1, True), (1, 0, True)],
)
def test_application_profile_lists_must_pair_up(template: dict[str, Any], arns: int, models: int, mismatch: bool) -> None:
    params = {
        "ApplicationInferenceProfileArns": ",".join(APP_PROFILES[:arns]),
        "ApplicationInferenceProfileModels": ",".join(APP_PROFILE_MODELS[:models]),
    }
    ev = Evaluator(transform(template, params), params)
    assert ev.exists("ApplicationProfileModelsMismatchGuard") == mismatch
    # A profile without its model is never granted a foundation model, so nothing is guessed.
    for function_id in BEDROCK_ACTIONS:
        for grant in grants(ev, function_id)["bedrock"].values():
            assert {arn for _, arn in grant["pairs"]} <= set(APP_PROFILES[: min(arns, models)])


@pytest.mark.parametrize(
    "params",
    [
        {
            "ApplicationInferenceProfileArns": ",".join(f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/p{i}" for i in range(4)),
            "ApplicationInferenceProfileModels": ",".join(f"mistral.model-{i}" for i in range(4)),
        },
        {**APP_PROFILES_HERE, "ApplicationInferenceProfileRegions": ",".join(f"us-west-{i + 1}" for i in range(7))},
    ],
    ids=["four-application-profiles", "seven-application-profile-regions"],
)
def test_more_application_profiles_than_slots_fails_the_deploy(template: dict[str, Any], params: dict[str, str]) -> None:
    assert Evaluator(transform(template, params), params).exists("IdSlotsOverflowGuard")


def test_every_policy_fits_the_iam_quotas_with_every_option(template: dict[str, Any]) -> None:
    # Managed policies: 6,144 characters each (whitespace not counted), 10 attached per role by
    # default; inline policies: 10,240 characters per role in all.
    region = "ap-northeast-1"
    long_ids = {
        "ModelIds": ",".join(f"mistral.a-rather-long-model-name-{i}-2512-v1:0" for i in range(8)),
        "InferenceProfileIds": ",".join(f"apac.mistral.a-rather-long-model-name-{i}-2512-v1:0" for i in range(3)),
        "InferenceProfileRegions": "ap-northeast-1,ap-northeast-2,ap-northeast-3,ap-southeast-1,ap-southeast-2,ap-south-1",
        "ApplicationInferenceProfileArns": ",".join(f"arn:aws:bedrock:{region}:{ACCOUNT}:application-inference-profile/{i}abcdefghijk" for i in range(3)),
        "ApplicationInferenceProfileModels": ",".join(f"mistral.a-rather-long-model-name-{i}-2512-v1:0" for i in range(3)),
        "ApplicationInferenceProfileRegions": "ap-northeast-1,ap-northeast-2,ap-northeast-3,ap-southeast-1,ap-southeast-2,ap-south-1",
        "GuardrailArn": f"arn:aws:bedrock:{region}:{ACCOUNT}:guardrail/abcdefghijkl",
        "DefaultModel": "",
        "AuthMode": "KEYS",
        **ALL_TRIGGERS,
    }
    ev = Evaluator(transform(template, long_ids), long_ids, region=region)
    for policy_id, policy in ev.resources("AWS::IAM::ManagedPolicy").items():
        size = len(json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":")))
        assert size <= 6144, f"{policy_id} is {size} characters"
    for function_id in BEDROCK_ACTIONS:
        role = ev.resource(function_role(ev, function_id))["Properties"]
        assert len(role["ManagedPolicyArns"]) <= 10, f"{function_id}: {len(role['ManagedPolicyArns'])} managed policies"
        inline = sum(len(json.dumps(p["PolicyDocument"], separators=(",", ":"))) for p in role.get("Policies", []))
        assert inline <= 10240, f"{function_id}: inline policies of {inline} characters"


def test_no_bedrock_resource_or_condition_holds_a_wildcard(template: dict[str, Any]) -> None:
    # Every statement that reaches a role, Allow or not, for the parameter set that uses everything.
    ev = Evaluator(transform(template, EVERYTHING), EVERYTHING)
    for function_id in BEDROCK_ACTIONS:
        for st in role_statements(ev, function_role(ev, function_id)):
            if not any(str(a).lower().startswith("bedrock:") for a in as_list(st.get("Action", st.get("NotAction", [])))):
                continue
            text = json.dumps({k: st.get(k) for k in ("Resource", "NotResource", "Condition")})
            assert "*" not in text and "?" not in text, f"{function_id}: wildcard in {st}"


# ---------------------------------------------------------------------- the check catches widening


def _policy_statements(t: dict[str, Any], policy_id: str) -> list[dict[str, Any]]:
    return t["Resources"][policy_id]["Properties"]["PolicyDocument"]["Statement"]


def widen_resource_to_star(t: dict[str, Any]) -> None:
    _policy_statements(t, "BedrockInvokeModelPolicy")[0]["Resource"] = "*"


def widen_action_to_bedrock_star(t: dict[str, Any]) -> None:
    _policy_statements(t, "BedrockInvokeModelPolicy")[0]["Action"] = "bedrock:*"


def add_wildcard_model_arn(t: dict[str, Any]) -> None:
    _policy_statements(t, "BedrockInvokeModelPolicy")[0]["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/*"}
    )


def add_unconfigured_model(t: dict[str, Any]) -> None:
    _policy_statements(t, "BedrockInvokeModelWithResponseStreamPolicy")[0]["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/mistral.codestral-2501-v1:0"}
    )


def give_converse_the_stream_action(t: dict[str, Any]) -> None:
    t["Resources"]["ConverseRole"]["Properties"]["ManagedPolicyArns"].append(
        {"Ref": "BedrockInvokeModelWithResponseStreamPolicy"}
    )


def attach_aws_managed_bedrock_policy(t: dict[str, Any]) -> None:
    t["Resources"]["ToolsRole"]["Properties"]["ManagedPolicyArns"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonBedrockFullAccess"}
    )


def add_separate_policy_resource(t: dict[str, Any]) -> None:
    t["Resources"]["ExtraPolicy"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "extra",
            "Roles": [{"Ref": "StreamRole"}],
            "PolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "bedrock:ListFoundationModels", "Resource": "*"}],
            },
        },
    }


def drop_the_profile_condition(t: dict[str, Any]) -> None:
    conditional = _policy_statements(t, "BedrockInvokeModelPolicy")[1]["Fn::If"][1]
    del conditional["Condition"]


def use_not_resource(t: dict[str, Any]) -> None:
    statement = _policy_statements(t, "BedrockInvokeModelPolicy")[0]
    statement["NotResource"] = statement.pop("Resource")


def log_anywhere(t: dict[str, Any]) -> None:
    statement = t["Resources"]["ConverseRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]
    statement["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*"}


def sam_policies_on_a_generated_role(t: dict[str, Any]) -> None:
    props = t["Resources"]["ToolsFunction"]["Properties"]
    del props["Role"]
    props["Policies"] = [{"Statement": [{"Effect": "Allow", "Action": INVOKE, "Resource": "*"}]}]


def _app_statements(t: dict[str, Any], action: str = "InvokeModel") -> list[dict[str, Any]]:
    return _policy_statements(t, f"BedrockApplicationProfiles{action}Policy")


def apply_any_guardrail(t: dict[str, Any]) -> None:
    _policy_statements(t, "BedrockApplyGuardrailPolicy")[0]["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:guardrail/*"
    }


def invoke_models_with_the_guardrail_policy(t: dict[str, Any]) -> None:
    _policy_statements(t, "BedrockApplyGuardrailPolicy")[0]["Action"] = ["bedrock:ApplyGuardrail", INVOKE]


def apply_the_guardrail_without_one_configured(t: dict[str, Any]) -> None:
    del t["Resources"]["BedrockApplyGuardrailPolicy"]["Condition"]
    _policy_statements(t, "BedrockApplyGuardrailPolicy")[0]["Resource"] = {
        "Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:guardrail/abc123def456"
    }
    t["Resources"]["ToolsRole"]["Properties"]["ManagedPolicyArns"].append({"Ref": "BedrockApplyGuardrailPolicy"})


def add_any_application_profile(t: dict[str, Any]) -> None:
    _app_statements(t)[0]["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:application-inference-profile/*"}
    )


def call_an_application_profile_model_directly(t: dict[str, Any]) -> None:
    del _app_statements(t, "InvokeModelWithResponseStream")[1]["Fn::If"][1]["Condition"]


def reach_a_model_through_another_application_profile(t: dict[str, Any]) -> None:
    first, second = (_app_statements(t)[i]["Fn::If"][1] for i in (1, 2))
    first["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"] = second["Condition"]["StringEquals"]["bedrock:InferenceProfileArn"]


def application_profile_model_in_any_region(t: dict[str, Any]) -> None:
    _app_statements(t)[1]["Fn::If"][1]["Resource"].append(
        {"Fn::Sub": "arn:${AWS::Partition}:bedrock:*::foundation-model/mistral.mistral-large-3-675b-instruct"}
    )


def stream_application_profiles_from_tools(t: dict[str, Any]) -> None:
    t["Resources"]["ToolsRole"]["Properties"]["ManagedPolicyArns"].append(
        {"Ref": "BedrockApplicationProfilesInvokeModelWithResponseStreamPolicy"}
    )


def _keys_statement(t: dict[str, Any]) -> dict[str, Any]:
    (statement,) = _policy_statements(t, "KeysTablePolicy")
    return statement


def scan_the_keys_table(t: dict[str, Any]) -> None:
    _keys_statement(t)["Action"].append("dynamodb:Scan")


def put_whole_items_in_the_keys_table(t: dict[str, Any]) -> None:
    _keys_statement(t)["Action"] = ["dynamodb:GetItem", "dynamodb:PutItem"]


def any_dynamodb_action_on_the_keys_table(t: dict[str, Any]) -> None:
    _keys_statement(t)["Action"] = "dynamodb:*"


def keys_table_indexes_too(t: dict[str, Any]) -> None:
    _keys_statement(t)["Resource"] = [{"Fn::GetAtt": ["KeysTable", "Arn"]}, {"Fn::Sub": "${KeysTable.Arn}/index/by-name"}]


def every_table_in_the_account(t: dict[str, Any]) -> None:
    _keys_statement(t)["Resource"] = {"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"}


def grant_the_keys_table_in_every_auth_mode(t: dict[str, Any]) -> None:
    del t["Resources"]["KeysTablePolicy"]["Condition"]
    t["Resources"]["ToolsRole"]["Properties"]["ManagedPolicyArns"].append({"Ref": "KeysTablePolicy"})


NEW_WIDENINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    f.__name__: f
    for f in (
        apply_any_guardrail,
        invoke_models_with_the_guardrail_policy,
        add_any_application_profile,
        call_an_application_profile_model_directly,
        reach_a_model_through_another_application_profile,
        application_profile_model_in_any_region,
        stream_application_profiles_from_tools,
        scan_the_keys_table,
        put_whole_items_in_the_keys_table,
        any_dynamodb_action_on_the_keys_table,
        keys_table_indexes_too,
        every_table_in_the_account,
    )
}

WIDENINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    f.__name__: f
    for f in (
        widen_resource_to_star,
        widen_action_to_bedrock_star,
        add_wildcard_model_arn,
        add_unconfigured_model,
        give_converse_the_stream_action,
        attach_aws_managed_bedrock_policy,
        add_separate_policy_resource,
        drop_the_profile_condition,
        use_not_resource,
        log_anywhere,
        sam_policies_on_a_generated_role,
    )
}


@pytest.mark.parametrize("widening", WIDENINGS)
def test_a_widened_template_fails_the_check(template: dict[str, Any], widening: str) -> None:
    widened = copy.deepcopy(template)
    WIDENINGS[widening](widened)
    with pytest.raises(AssertionError):
        check_least_privilege(widened, US_PROFILE)


def test_the_unwidened_copy_passes(template: dict[str, Any]) -> None:
    # The widening test is only meaningful if the same copy passes before it is widened.
    check_least_privilege(copy.deepcopy(template), US_PROFILE)


@pytest.mark.parametrize("widening", [*WIDENINGS, *NEW_WIDENINGS])
def test_a_widened_template_fails_the_check_with_every_option(template: dict[str, Any], widening: str) -> None:
    widened = copy.deepcopy(template)
    {**WIDENINGS, **NEW_WIDENINGS}[widening](widened)
    with pytest.raises(AssertionError):
        check_least_privilege(widened, EVERYTHING)


def test_a_guardrail_grant_without_a_guardrail_parameter_fails_the_check(template: dict[str, Any]) -> None:
    widened = copy.deepcopy(template)
    apply_the_guardrail_without_one_configured(widened)
    with pytest.raises(AssertionError):
        check_least_privilege(widened, US_PROFILE)


def test_a_keys_table_grant_outside_keys_mode_fails_the_check(template: dict[str, Any]) -> None:
    widened = copy.deepcopy(template)
    grant_the_keys_table_in_every_auth_mode(widened)
    with pytest.raises(AssertionError):
        check_least_privilege(widened, US_PROFILE)


def test_the_unwidened_copy_passes_with_every_option(template: dict[str, Any]) -> None:
    check_least_privilege(copy.deepcopy(template), EVERYTHING)
