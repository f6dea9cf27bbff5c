#!/usr/bin/env python3
"""Writes the one generated block of template.yaml: the Bedrock policies built from the ID-list
parameters, and the slot conditions they use.

Why slots and not Fn::ForEach (the evidence is in deploy/README.md): CloudFormation has no loop
over a list parameter except Fn::ForEach (AWS::LanguageExtensions), and Fn::ForEach emits map
entries, never list items, so it cannot write the ARN list of one IAM statement; it would need
one policy resource per model, profile and profile Region, which exceeds IAM's per-role quota at
the sizes this template supports. It also has no loop index, so it cannot pair two lists given
in the same order (an application inference profile with its model). Fn::Join's delimiter must
be a literal, so "prefix every ID with arn:${AWS::Partition}:bedrock:${AWS::Region}::..." cannot
be one Join either.

So each list has a fixed number of slots: the list is padded with empty items (Join, append
commas, Split), slot i is `Fn::Select i` of the padded list, a condition per slot says whether it
holds an ID, and the ARN of slot i is `Fn::If [HasX<i>, Fn::Sub "...${Id}", AWS::NoValue]`, so
empty slots vanish from the policy. One more slot than the limit is checked by an overflow
condition that makes the deploy fail rather than leave an ID without permission.

The block is one contiguous piece of template.yaml: it starts with the slot conditions at the end
of `Conditions:` and goes on with the `Resources:` key and the Bedrock policy resources, so the
hand-written template around it never mixes with generated lines. Run
`python3 deploy/gen_bedrock_slots.py` after changing a slot count or the statements below;
`--check` exits 1 when template.yaml is out of date (deploy/tests/test_template.py runs it).
`python3 deploy/show_iam.py` prints the policies as CloudFormation would create them.
"""

from __future__ import annotations

import pathlib
import re
import sys

TEMPLATE = pathlib.Path(__file__).resolve().parent.parent / "template.yaml"

MODEL_SLOTS = 8
PROFILE_SLOTS = 3
REGION_SLOTS = 6


def padded(param: str, slots: int) -> str:
    """The list parameter as a list that always has more than `slots` items."""
    commas = "," * slots
    return f'!Split [",", !Sub ["${{Ids}}{commas}", {{Ids: !Join [",", !Ref {param}]}}]]'


def item(param: str, slots: int, index: int) -> str:
    return f"!Select [{index}, {padded(param, slots)}]"


MODEL = lambda i: item("ModelIds", MODEL_SLOTS, i)  # noqa: E731
PROFILE = lambda p: item("InferenceProfileIds", PROFILE_SLOTS, p)  # noqa: E731
REGION = lambda r: item("InferenceProfileRegions", REGION_SLOTS, r)  # noqa: E731

FOUNDATION_MODEL_ARN = "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/${Id}"
PROFILE_ARN = "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/${Id}"
# A Mistral inference-profile ID is "<geo>.mistral.<model>"; its foundation model is
# "mistral.<model>". Appending ".mistral." before splitting keeps Select 1 defined even for an
# empty slot, so the expression never fails, whichever branch CloudFormation evaluates.
PROFILE_MODEL_ARN = "arn:${AWS::Partition}:bedrock:${Region}::foundation-model/mistral.${Model}"


def conditions() -> list[str]:
    out = []
    for i in range(MODEL_SLOTS):
        out.append(f'  HasModelId{i}: !Not [!Equals [{MODEL(i)}, ""]]')
    for p in range(PROFILE_SLOTS):
        out.append(f'  HasProfileId{p}: !Not [!Equals [{PROFILE(p)}, ""]]')
    for r in range(REGION_SLOTS):
        out.append(f'  HasProfileRegion{r}: !Not [!Equals [{REGION(r)}, ""]]')
    for p in range(PROFILE_SLOTS):
        for r in range(REGION_SLOTS):
            out.append(
                f"  HasProfileId{p}InRegion{r}: !And [!Condition HasProfileId{p}, "
                f"!Condition HasProfileRegion{r}]"
            )
    ids = ", ".join(f"!Condition HasProfileId{p}" for p in range(PROFILE_SLOTS))
    regions = ", ".join(f"!Condition HasProfileRegion{r}" for r in range(REGION_SLOTS))
    out.append(f"  HasAnyProfileId: !Or [{ids}]")
    out.append(f"  HasAnyProfileRegion: !Or [{regions}]")
    out.append("  HasProfileModels: !And [!Condition HasAnyProfileId, !Condition HasAnyProfileRegion]")
    out.append(f'  TooManyModelIds: !Not [!Equals [{MODEL(MODEL_SLOTS)}, ""]]')
    out.append(f'  TooManyProfileIds: !Not [!Equals [{PROFILE(PROFILE_SLOTS)}, ""]]')
    out.append(f'  TooManyProfileRegions: !Not [!Equals [{REGION(REGION_SLOTS)}, ""]]')
    out.append(
        "  IdSlotsOverflow: !Or [!Condition TooManyModelIds, !Condition TooManyProfileIds, "
        "!Condition TooManyProfileRegions]"
    )
    return out


def if_sub(indent: str, cond: str, template: str, variables: dict[str, str]) -> str:
    """One list item: the ARN when the slot is used, nothing otherwise."""
    names = ", ".join(f"{name}: {value}" for name, value in variables.items())
    return f'{indent}- !If [{cond}, !Sub ["{template}", {{{names}}}], !Ref AWS::NoValue]'


def profile_arns(indent: str) -> list[str]:
    return [
        if_sub(indent, f"HasProfileId{p}", PROFILE_ARN, {"Id": PROFILE(p)}) for p in range(PROFILE_SLOTS)
    ]


def statements(action: str) -> list[str]:
    """The Statement list of one Bedrock policy: `action` on every configured model."""
    ia = " " * 10
    ib = " " * 14
    out = [
        f"{ia}- Sid: ConfiguredModelsAndProfiles",
        f"{ia}  Effect: Allow",
        f"{ia}  Action: {action}",
        f"{ia}  Resource:",
    ]
    for i in range(MODEL_SLOTS):
        out.append(if_sub(ib, f"HasModelId{i}", FOUNDATION_MODEL_ARN, {"Id": MODEL(i)}))
    out.extend(profile_arns(ib))
    # The foundation models behind a profile, in each of its Regions, only when called through
    # one of the configured profiles.
    out += [
        f"{ia}- !If",
        f"{ia}  - HasProfileModels",
        f"{ia}  - Sid: ModelsBehindConfiguredProfiles",
        f"{ia}    Effect: Allow",
        f"{ia}    Action: {action}",
        f"{ia}    Resource:",
    ]
    ic = " " * 16
    for p in range(PROFILE_SLOTS):
        for r in range(REGION_SLOTS):
            profile_model = (
                f'!Select [1, !Split [".mistral.", !Sub ["${{P}}.mistral.", {{P: {PROFILE(p)}}}]]]'
            )
            out.append(
                if_sub(
                    ic,
                    f"HasProfileId{p}InRegion{r}",
                    PROFILE_MODEL_ARN,
                    {"Region": REGION(r), "Model": profile_model},
                )
            )
    out += [
        f"{ia}    Condition:",
        f"{ia}      StringEquals:",
        f"{ia}        bedrock:InferenceProfileArn:",
    ]
    id_ = " " * 20
    out.extend(profile_arns(id_))
    out.append(f"{ia}  - !Ref AWS::NoValue")
    return out


def policy(logical_id: str, description: str, action: str) -> list[str]:
    return [
        f"  {logical_id}:",
        "    Type: AWS::IAM::ManagedPolicy",
        "    Properties:",
        f"      Description: {description}",
        "      PolicyDocument:",
        '        Version: "2012-10-17"',
        "        Statement:",
        *statements(action),
        "",
    ]


def resources() -> list[str]:
    return [
        "Resources:",
        "  # One policy per action, attached to the roles that need it: InvokeModel (Converse) to all",
        "  # three functions, InvokeModelWithResponseStream (ConverseStream) to the stream function",
        "  # only. Each covers the foundation models of ModelIds in this Region, the inference",
        "  # profiles, and, only when called through one of those profiles, their foundation models",
        "  # in each profile Region.",
        "",
        *policy(
            "BedrockInvokeModelPolicy",
            "bedrock:InvokeModel (Converse) on the configured Mistral models and inference profiles",
            "bedrock:InvokeModel",
        ),
        *policy(
            "BedrockInvokeModelWithResponseStreamPolicy",
            "bedrock:InvokeModelWithResponseStream (ConverseStream) on the configured Mistral models and inference profiles",
            "bedrock:InvokeModelWithResponseStream",
        ),
        "  # Created only when an ID list is longer than its slots: a wait condition that nobody",
        "  # signals fails after a second, and its logical ID tells why the stack rolled back.",
        "  IdSlotsOverflowGuardHandle:",
        "    Type: AWS::CloudFormation::WaitConditionHandle",
        "    Condition: IdSlotsOverflow",
        "",
        "  IdSlotsOverflowGuard:",
        "    Type: AWS::CloudFormation::WaitCondition",
        "    Condition: IdSlotsOverflow",
        "    Properties:",
        "      Handle: !Ref IdSlotsOverflowGuardHandle",
        '      Timeout: "1"',
        "      Count: 1",
    ]


def block() -> str:
    return "\n".join([*conditions(), "", *resources()]) + "\n"


OPEN = "  # >>> generated by deploy/gen_bedrock_slots.py: do not edit by hand, run the script\n"
CLOSE = "  # <<< end of generated block\n"
MARKER = re.compile(re.escape(OPEN) + r"(?P<body>.*?)" + re.escape(CLOSE), re.S)


def render(text: str) -> str:
    found = MARKER.findall(text)
    if len(found) != 1:
        raise SystemExit(f"template.yaml: expected one generated block, found {len(found)}")
    return MARKER.sub(lambda _: OPEN + block() + CLOSE, text)


def main() -> int:
    check = "--check" in sys.argv[1:]
    text = TEMPLATE.read_text()
    new = render(text)
    if new == text:
        print("template.yaml: generated block is up to date")
        return 0
    if check:
        print("template.yaml: generated block is stale; run python3 deploy/gen_bedrock_slots.py")
        return 1
    TEMPLATE.write_text(new)
    print("template.yaml: generated block rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
