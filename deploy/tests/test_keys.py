"""AuthMode=KEYS on the transformed template: the keys table is the one shared/src/keys/schema.rs
declares (read from the Rust source, see keys_schema.py), it is retained, backed up and
encrypted; every function gets its name and may only get and update its items; API Gateway
checks no credential but still throttles; the other modes have none of it; the queue and
EventBridge triggers are what they are in the other modes."""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any

import pytest

import keys_schema
from cfn import Evaluator, load_template, transform
from test_iam import as_list, function_role, role_statements
from test_template import ROUTES

FUNCTIONS = ("ConverseFunction", "StreamFunction", "ToolsFunction", "BatchFunction", "BatchEventsFunction")
TABLE_ARN = "<GetAtt KeysTable.Arn>"
OTHER_MODES = ("AWS_IAM", "API_KEY")
ALL_TRIGGERS = {"EnableSqsTrigger": "true", "ToolsEventSource": "acme.orders", "EnableFunctionUrl": "true"}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="module")
def schema() -> keys_schema.KeysSchema:
    return keys_schema.load()


def evaluated(template: dict[str, Any], **params: str) -> Evaluator:
    return Evaluator(transform(template, params), params)


def dynamodb_statements(ev: Evaluator) -> list[tuple[str, dict[str, Any]]]:
    """Every IAM statement of every created role and policy that names a DynamoDB action."""
    found = []
    for kind in ("AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::RolePolicy"):
        for logical_id, resource in ev.resources(kind).items():
            props = resource["Properties"]
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])] + [props.get("PolicyDocument", {})]
            for document in documents:
                for statement in as_list(document.get("Statement", [])):
                    actions = as_list(statement.get("Action", [])) + as_list(statement.get("NotAction", []))
                    if any(str(a).lower().startswith("dynamodb:") for a in actions):
                        found.append((logical_id, statement))
    return found


def test_the_functions_call_only_get_item_and_update_item(schema: keys_schema.KeysSchema) -> None:
    # Widening the functions' access to the table is a decision, not a side effect of a code
    # change: it changes this test, the template's KeysTablePolicy and docs/deploy.md together.
    assert set(schema.function_actions) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}
    assert len(schema.function_actions) == 2


def assert_table_matches(props: dict[str, Any], schema: keys_schema.KeysSchema) -> None:
    assert props["BillingMode"] == schema.billing_mode
    assert props["KeySchema"] == [
        {"AttributeName": schema.partition_key, "KeyType": "HASH"},
        {"AttributeName": schema.sort_key, "KeyType": "RANGE"},
    ]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        [{"AttributeName": schema.partition_key, "AttributeType": schema.key_type}, {"AttributeName": schema.sort_key, "AttributeType": schema.key_type}],
        key=lambda a: a["AttributeName"],
    )
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.ttl_attribute, "Enabled": True}
    # On demand, and nothing the functions' policy does not cover (it names no index ARN).
    assert "ProvisionedThroughput" not in props
    assert "GlobalSecondaryIndexes" not in props and "LocalSecondaryIndexes" not in props


def test_the_table_is_the_one_the_code_declares(template: dict[str, Any], schema: keys_schema.KeysSchema) -> None:
    table = evaluated(template, AuthMode="KEYS").resource("KeysTable")
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert_table_matches(table["Properties"], schema)
    assert "TableName" not in table["Properties"], "a fixed name would make every replacement fail"


@pytest.mark.parametrize(
    "change",
    [{"partition_key": "id"}, {"sort_key": "range"}, {"key_type": "N"}, {"billing_mode": "PROVISIONED"}, {"ttl_attribute": "expires_at"}],
    ids=lambda change: next(iter(change)),
)
def test_a_schema_change_in_the_code_fails_the_comparison(template: dict[str, Any], schema: keys_schema.KeysSchema, change: dict[str, str]) -> None:
    table = evaluated(template, AuthMode="KEYS").resource("KeysTable")
    with pytest.raises(AssertionError):
        assert_table_matches(table["Properties"], dataclasses.replace(schema, **change))


# The declarations as schema.rs writes them, for testing the parser on its own.
SAMPLE_SCHEMA_RS = """
//! The keys table (`billing_mode: "PROVISIONED",` in a comment is not code).
pub const PARTITION_KEY: &str = "pk";
pub const SORT_KEY: &str = "sk";
pub const TTL_ATTRIBUTE: &str = "ttl";
pub const TABLE_SCHEMA: TableSchema = TableSchema {
    partition_key: PARTITION_KEY,
    sort_key: SORT_KEY,
    key_type: "S",
    billing_mode: "PAY_PER_REQUEST",
    ttl_attribute: TTL_ATTRIBUTE,
};
pub const FUNCTION_ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:UpdateItem",
];
"""


def test_the_parser_reads_the_declarations_and_skips_comments(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "schema.rs"
    path.write_text(SAMPLE_SCHEMA_RS)
    assert keys_schema.load(path) == keys_schema.KeysSchema("pk", "sk", "S", "PAY_PER_REQUEST", "ttl", ("dynamodb:GetItem", "dynamodb:UpdateItem"))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('pub const TTL_ATTRIBUTE: &str = "ttl";', 'pub const TTL: &str = "ttl";'),
        ("sort_key: SORT_KEY,", 'sort_key: "range",'),
        ('billing_mode: "PAY_PER_REQUEST",', "billing_mode: BillingMode::PayPerRequest.as_str(),"),
        ('    "dynamodb:UpdateItem",', "    UPDATE_ITEM,"),
    ],
    ids=["constant-renamed", "schema-disagrees-with-constant", "not-a-literal", "action-not-a-literal"],
)
def test_the_parser_refuses_what_it_cannot_read(tmp_path: pathlib.Path, old: str, new: str) -> None:
    assert old in SAMPLE_SCHEMA_RS
    path = tmp_path / "schema.rs"
    path.write_text(SAMPLE_SCHEMA_RS.replace(old, new))
    with pytest.raises(AssertionError):
        keys_schema.load(path)


def test_the_table_is_retained_backed_up_and_encrypted(template: dict[str, Any]) -> None:
    table = evaluated(template, AuthMode="KEYS").resource("KeysTable")
    assert (table.get("DeletionPolicy"), table.get("UpdateReplacePolicy")) == ("Retain", "Retain")
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # The AWS managed key aws/dynamodb: no key of the stack that could go while the table stays.
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert props["DeletionProtectionEnabled"] is True


def test_every_function_gets_the_table_name(template: dict[str, Any]) -> None:
    ev = evaluated(template, AuthMode="KEYS", **ALL_TRIGGERS)
    for function_id in FUNCTIONS:
        assert ev.resource(function_id)["Properties"]["Environment"]["Variables"]["KEYS_TABLE"] == "<Ref KeysTable>"
    outputs = ev.value(ev.template["Outputs"])
    assert outputs["KeysTableName"]["Value"] == "<Ref KeysTable>"


def test_each_function_may_only_get_and_update_items_of_the_table(template: dict[str, Any], schema: keys_schema.KeysSchema) -> None:
    ev = evaluated(template, AuthMode="KEYS", **ALL_TRIGGERS, CreateApiGatewayLoggingRole="true")
    for function_id in FUNCTIONS:
        statements = [s for s in role_statements(ev, function_role(ev, function_id)) if "dynamodb" in json.dumps(s).lower()]
        assert statements == [
            {"Sid": "KeysTableItems", "Effect": "Allow", "Action": list(schema.function_actions), "Resource": TABLE_ARN}
        ], f"{function_id}: {statements}"
    # Nothing else in the stack touches DynamoDB: one statement, in the one policy, attached to
    # the five function roles and no other.
    assert [(logical_id, s["Resource"]) for logical_id, s in dynamodb_statements(ev)] == [("KeysTablePolicy", TABLE_ARN)]
    attached = {
        logical_id
        for logical_id, role in ev.resources("AWS::IAM::Role").items()
        if "<Ref KeysTablePolicy>" in role["Properties"].get("ManagedPolicyArns", [])
    }
    assert attached == {function_role(ev, f) for f in FUNCTIONS}
    assert set(ev.resources("AWS::DynamoDB::Table")) == {"KeysTable"}


@pytest.mark.parametrize("mode", OTHER_MODES)
def test_other_modes_have_no_table_no_variable_and_no_dynamodb_permission(template: dict[str, Any], mode: str) -> None:
    ev = evaluated(template, AuthMode=mode, **ALL_TRIGGERS, CreateApiGatewayLoggingRole="true")
    assert not ev.exists("KeysTable") and not ev.exists("KeysTablePolicy")
    for function_id in FUNCTIONS:
        assert "KEYS_TABLE" not in ev.resource(function_id)["Properties"]["Environment"]["Variables"]
    assert dynamodb_statements(ev) == []
    created = json.dumps(ev.resources()).lower()
    assert "dynamodb" not in created and "keystable" not in created
    assert not ev.condition(ev.template["Outputs"]["KeysTableName"]["Condition"])


def test_keys_mode_routes_have_no_gateway_auth_but_keep_the_stage_throttling(template: dict[str, Any]) -> None:
    ev = evaluated(template, AuthMode="KEYS", ThrottlingBurstLimit="7", ThrottlingRateLimit="3")
    body = ev.resource("Api")["Properties"]["Body"]
    operations = [operation for item in body["paths"].values() for operation in item.values()]
    # Every route the gateway serves (the template test checks the route table itself).
    assert len(operations) == len(ROUTES)
    for operation in operations:
        assert operation.get("security", []) == [], operation["security"]
        assert "x-amazon-apigateway-auth" not in operation
    assert not ev.resources("AWS::ApiGateway::Authorizer")
    assert not any(ev.exists(r) for r in ("ApiKey", "UsagePlan", "UsagePlanKey"))
    (stage,) = ev.resources("AWS::ApiGateway::Stage").values()
    (setting,) = stage["Properties"]["MethodSettings"]
    assert (setting["ResourcePath"], setting["HttpMethod"]) == ("/*", "*")
    assert (setting["ThrottlingBurstLimit"], setting["ThrottlingRateLimit"]) == ("7", "3")


def test_triggers_and_the_function_url_stay_iam_authenticated(template: dict[str, Any]) -> None:
    # Queue messages and events never pass API Gateway: who may send them is IAM's decision
    # (sqs:SendMessage, events:PutEvents), exactly as in the other modes.
    keys = evaluated(template, AuthMode="KEYS", **ALL_TRIGGERS)
    iam = evaluated(template, AuthMode="AWS_IAM", **ALL_TRIGGERS)
    triggers = (
        "ToolsQueue",
        "ToolsDeadLetterQueue",
        "ToolsQueueMapping",
        "ToolsEventRule",
        "ToolsEventPermission",
        "ToolsEventInvokeConfig",
        "ToolsDeadLetterQueuePolicy",
        "StreamFunctionUrl",
        "BatchEventRule",
        "BatchEventPermission",
        "BatchEventInvokeConfig",
        "BatchEventsDeadLetterQueuePolicy",
    )
    for logical_id in triggers:
        assert keys.resource(logical_id) == iam.resource(logical_id), logical_id
    assert keys.resource("StreamFunctionUrl")["Properties"]["AuthType"] == "AWS_IAM"
    assert not keys.resources("AWS::SQS::QueuePolicy").keys() - {"ToolsDeadLetterQueuePolicy", "BatchEventsDeadLetterQueuePolicy"}
