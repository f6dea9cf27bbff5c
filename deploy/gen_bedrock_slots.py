#!/usr/bin/env python3
"""Writes the generated blocks of template.yaml that turn the model-ID parameters into IAM ARNs.

CloudFormation cannot map over a list parameter without the AWS::LanguageExtensions transform
(Fn::ForEach), which the offline SAM translator does not run, and Fn::Join's delimiter must be a
literal, so "prefix every ID with arn:${AWS::Partition}:bedrock:${AWS::Region}::..." cannot be
written as one Join. The template therefore gives each list a fixed number of slots: the list is
padded with empty items (Join, append commas, Split), slot i is `Fn::Select i` of the padded list,
a condition per slot says whether it holds an ID, and the ARN of slot i is
`Fn::If [HasX<i>, Fn::Sub "...${Id}", AWS::NoValue]`, so empty slots vanish from the policy. One
more slot than the limit is checked by an overflow condition that makes the deploy fail.

The expansion is mechanical and appears in three places (conditions and two policies), so it is
generated rather than copied by hand. Run `python3 deploy/gen_bedrock_slots.py` after changing a
slot count; `--check` exits 1 when template.yaml is out of date (deploy/check runs it).
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


def conditions() -> str:
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
    return "\n".join(out) + "\n"


def if_sub(indent: str, cond: str, template: str, variables: dict[str, str]) -> str:
    """One list item: the ARN when the slot is used, nothing otherwise."""
    names = ", ".join(f"{name}: {value}" for name, value in variables.items())
    return f'{indent}- !If [{cond}, !Sub ["{template}", {{{names}}}], !Ref AWS::NoValue]'


def profile_arns(indent: str) -> list[str]:
    return [
        if_sub(indent, f"HasProfileId{p}", PROFILE_ARN, {"Id": PROFILE(p)}) for p in range(PROFILE_SLOTS)
    ]


def statements(action: str) -> str:
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
    return "\n".join(out) + "\n"


BLOCKS = {
    "conditions": conditions,
    "invoke-model-statements": lambda: statements("bedrock:InvokeModel"),
    "invoke-model-with-response-stream-statements": lambda: statements(
        "bedrock:InvokeModelWithResponseStream"
    ),
}

MARKER = re.compile(
    r"(?P<open>^[ \t]*# >>> generated by deploy/gen_bedrock_slots\.py: (?P<name>[a-z-]+)\n)"
    r"(?P<body>.*?)"
    r"(?P<close>^[ \t]*# <<< end of generated block\n)",
    re.M | re.S,
)


def render(text: str) -> str:
    seen = set()

    def fill(m: re.Match[str]) -> str:
        name = m["name"]
        if name not in BLOCKS:
            raise SystemExit(f"template.yaml: unknown generated block {name!r}")
        seen.add(name)
        return m["open"] + BLOCKS[name]() + m["close"]

    out = MARKER.sub(fill, text)
    missing = set(BLOCKS) - seen
    if missing:
        raise SystemExit(f"template.yaml: generated block(s) missing: {sorted(missing)}")
    return out


def main() -> int:
    check = "--check" in sys.argv[1:]
    text = TEMPLATE.read_text()
    new = render(text)
    if new == text:
        print("template.yaml: generated blocks are up to date")
        return 0
    if check:
        print("template.yaml: generated blocks are stale; run python3 deploy/gen_bedrock_slots.py")
        return 1
    TEMPLATE.write_text(new)
    print("template.yaml: generated blocks rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
