"""Offline CloudFormation for the template tests: load the YAML, run the SAM transform, and
evaluate intrinsic functions for one set of parameter values.

The evaluator covers what template.yaml uses (Ref, Condition, Fn::If/Equals/Not/And/Or,
Fn::Sub/Join/Split/Select, Fn::GetAtt, Fn::FindInMap, Fn::Contains for Rules) and enforces
CloudFormation's own restrictions where they shape the template (literal Join and Split
delimiters, Select in range), so a construction that passes here but that CloudFormation would
reject is caught too. References to resources stay symbolic: `<Ref X>` and `<GetAtt X.Attr>`.
"""

from __future__ import annotations

import copy
import pathlib
import re
from typing import Any

import boto3
import yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

ROOT = pathlib.Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

REGION = "us-east-1"
ACCOUNT = "123456789012"
PARTITION = "aws"
STACK = "mistral-api"

# The translator asks for this map only when a function lists AWS managed policies by name in
# SAM `Policies`; the template uses explicit roles, so a small fake map is enough.
FAKE_MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AmazonBedrockFullAccess": "arn:aws:iam::aws:policy/AmazonBedrockFullAccess",
}


class NoValue:
    """AWS::NoValue: dropped from the list or mapping that holds it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = NoValue()


class _Loader(yaml.SafeLoader):
    pass


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


_Loader.add_multi_constructor("!", _tag)


def load_template(path: pathlib.Path = TEMPLATE) -> dict[str, Any]:
    with open(path) as f:
        return yaml.load(f, Loader=_Loader)  # noqa: S506 - SafeLoader subclass


def transform(sam_template: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CloudFormation that the SAM transform makes of `sam_template`, as `sam deploy` would
    (CodeUri replaced by an S3 location, as `sam package` does)."""
    template = copy.deepcopy(sam_template)
    template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://artifacts/code.zip"
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in resource.get("Properties", {}):
            resource["Properties"]["CodeUri"] = "s3://artifacts/code.zip"
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name=REGION))
    return translator.translate(
        template,
        parameter_values=dict(params or {}),
        get_managed_policy_map=lambda: FAKE_MANAGED_POLICIES,
    )


class Evaluator:
    """Resolves intrinsic functions of a (transformed) template for given parameter values."""

    def __init__(
        self,
        template: dict[str, Any],
        params: dict[str, Any] | None = None,
        region: str = REGION,
        account: str = ACCOUNT,
        partition: str = PARTITION,
    ) -> None:
        self.template = template
        params = dict(params or {})
        self.params: dict[str, Any] = {}
        for name, spec in template.get("Parameters", {}).items():
            raw = params.pop(name, spec.get("Default"))
            if raw is None:
                raise KeyError(f"parameter {name} has no value and no default")
            kind = spec.get("Type", "String")
            if kind == "CommaDelimitedList" or kind.startswith("List<"):
                raw = raw if isinstance(raw, list) else str(raw).split(",")
                self._check_pattern(name, spec, raw)
            else:
                raw = str(raw)
                self._check_pattern(name, spec, [raw])
                if "AllowedValues" in spec and raw not in [str(v) for v in spec["AllowedValues"]]:
                    raise ValueError(f"parameter {name}: {raw!r} is not an allowed value")
            self.params[name] = raw
        if params:
            raise KeyError(f"unknown parameters: {sorted(params)}")
        self.pseudo: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": partition,
            "AWS::StackName": STACK,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        self._conditions: dict[str, bool] = {}

    @staticmethod
    def _check_pattern(name: str, spec: dict[str, Any], items: list[str]) -> None:
        pattern = spec.get("AllowedPattern")
        if pattern is None:
            return
        for value in items:
            if not re.fullmatch(pattern, value):
                raise ValueError(f"parameter {name}: {value!r} does not match {pattern}")

    # ------------------------------------------------------------------ conditions, resources

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            result = self.value(self.template["Conditions"][name])
            assert isinstance(result, bool), f"condition {name} is not a boolean: {result!r}"
            self._conditions[name] = result
        return self._conditions[name]

    def exists(self, logical_id: str) -> bool:
        resource = self.template["Resources"][logical_id]
        return "Condition" not in resource or self.condition(resource["Condition"])

    def resources(self, kind: str | None = None) -> dict[str, dict[str, Any]]:
        """The resources this parameter set creates (optionally of one type), evaluated."""
        return {
            logical_id: self.resource(logical_id)
            for logical_id, resource in self.template["Resources"].items()
            if (kind is None or resource["Type"] == kind) and self.exists(logical_id)
        }

    def resource(self, logical_id: str) -> dict[str, Any]:
        resource = self.template["Resources"][logical_id]
        assert self.exists(logical_id), f"{logical_id} is not created with these parameters"
        out = dict(resource)
        out["Properties"] = self.value(resource.get("Properties", {}))
        return out

    def rules(self) -> dict[str, bool]:
        """Each rule's verdict: False when one of its assertions fails for these parameters."""
        verdicts = {}
        for name, rule in self.template.get("Rules", {}).items():
            applies = self.value(rule["RuleCondition"]) if "RuleCondition" in rule else True
            verdicts[name] = (not applies) or all(self.value(a["Assert"]) for a in rule["Assertions"])
        return verdicts

    # ------------------------------------------------------------------ values

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not NO_VALUE]
        if isinstance(node, dict):
            if len(node) == 1:
                ((key, arg),) = node.items()
                if key == "Ref":
                    return self.ref(arg)
                if key == "Condition" and isinstance(arg, str):
                    return self.condition(arg)
                if key.startswith("Fn::"):
                    handler = getattr(self, "fn_" + key[4:].lower(), None)
                    if handler is None:
                        raise NotImplementedError(f"{key} is not supported by the test evaluator")
                    return handler(arg)
            return {k: v for k, v in ((k, self.value(v)) for k, v in node.items()) if v is not NO_VALUE}
        return node

    def ref(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        if name in self.pseudo:
            return self.pseudo[name]
        resource = self.template.get("Resources", {}).get(name)
        if resource is not None:
            if resource["Type"] == "AWS::ApiGateway::Stage":
                return self.value(resource["Properties"]["StageName"])
            return f"<Ref {name}>"
        raise KeyError(f"Ref to unknown name {name}")

    def fn_if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        return self.value(when_true if self.condition(name) else when_false)

    def fn_equals(self, arg: list[Any]) -> bool:
        left, right = (self.value(a) for a in arg)
        return str(left) == str(right) if not isinstance(left, list) else left == right

    def fn_not(self, arg: list[Any]) -> bool:
        (inner,) = arg
        return not self.value(inner)

    def fn_and(self, arg: list[Any]) -> bool:
        assert 2 <= len(arg) <= 10, "Fn::And takes 2 to 10 conditions"
        return all(self.value(a) for a in arg)

    def fn_or(self, arg: list[Any]) -> bool:
        assert 2 <= len(arg) <= 10, "Fn::Or takes 2 to 10 conditions"
        return any(self.value(a) for a in arg)

    def fn_contains(self, arg: list[Any]) -> bool:
        haystack, needle = (self.value(a) for a in arg)
        return needle in haystack

    def fn_getatt(self, arg: Any) -> str:
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        assert logical_id in self.template["Resources"], f"GetAtt of unknown resource {logical_id}"
        return f"<GetAtt {logical_id}.{attribute}>"

    def fn_join(self, arg: list[Any]) -> str:
        delimiter, items = arg
        assert isinstance(delimiter, str), "Fn::Join's delimiter must be a literal string"
        items = self.value(items)
        assert isinstance(items, list), f"Fn::Join needs a list, got {items!r}"
        assert all(isinstance(i, str) for i in items), f"Fn::Join of non-strings: {items!r}"
        return delimiter.join(items)

    def fn_split(self, arg: list[Any]) -> list[str]:
        delimiter, source = arg
        assert isinstance(delimiter, str), "Fn::Split's delimiter must be a literal string"
        source = self.value(source)
        assert isinstance(source, str), f"Fn::Split of a non-string: {source!r}"
        return source.split(delimiter)

    def fn_select(self, arg: list[Any]) -> Any:
        index, items = arg
        index = int(self.value(index))
        items = self.value(items)
        assert 0 <= index < len(items), f"Fn::Select index {index} out of range for {items!r}"
        return items[index]

    def fn_findinmap(self, arg: list[Any]) -> Any:
        name, first, second = (self.value(a) for a in arg)
        return self.template["Mappings"][name][first][second]

    def fn_sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, raw_variables = arg
            assert isinstance(text, str), "Fn::Sub's template must be a literal string"
            variables = {k: self.value(v) for k, v in raw_variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                value = variables[name]
            elif "." in name and not name.startswith("AWS::"):
                value = self.fn_getatt(name)
            else:
                value = self.ref(name)
            assert isinstance(value, str), f"Fn::Sub variable {name} is not a string: {value!r}"
            return value

        return re.sub(r"\$\{([^}]+)\}", replace, text)
