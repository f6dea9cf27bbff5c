#!/usr/bin/env python3
"""Prints what each function's role may do, as CloudFormation would create it for the given
parameters: the template translated offline by the SAM translator and its intrinsics evaluated
(deploy/tests/cfn.py), every statement of every policy that reaches the role.

    .venv-deploy/bin/python deploy/show_iam.py                      # the defaults
    .venv-deploy/bin/python deploy/show_iam.py InferenceProfileIds=us.mistral.pixtral-large-2502-v1:0
    .venv-deploy/bin/python deploy/show_iam.py --region eu-west-3 ModelIds=mistral.mistral-large-2402-v1:0

The account is 123456789012 and the stack mistral-api; ARNs of the stack's own resources stay
symbolic (<GetAtt ConverseLogGroup.Arn>). Needs the tools of deploy/requirements.txt
(`bash deploy/check` installs them into .venv-deploy).
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "tests"))

from cfn import REGION, Evaluator, load_template, transform  # noqa: E402
from test_iam import function_role, role_statements  # noqa: E402


def main(argv: list[str]) -> int:
    region = REGION
    params: dict[str, str] = {}
    args = iter(argv)
    for arg in args:
        if arg == "--region":
            region = next(args)
        elif "=" in arg:
            name, value = arg.split("=", 1)
            params[name] = value
        else:
            print(__doc__)
            return 2
    ev = Evaluator(transform(load_template(), params), params, region=region)
    for function_id in sorted(ev.resources("AWS::Lambda::Function")):
        role = function_role(ev, function_id)
        print(f"== {function_id} (role {role})")
        for statement in role_statements(ev, role):
            print(json.dumps(statement, indent=2))
        env = ev.resource(function_id)["Properties"].get("Environment", {}).get("Variables", {})
        print("environment:", json.dumps(env, indent=2))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
