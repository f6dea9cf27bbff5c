"""The keys table as the Rust code declares it, read from shared/src/keys/schema.rs with regular
expressions, so the template tests compare template.yaml with the code itself (the table that
`gateway-admin init` creates and the DynamoDB actions the functions call), not with a copy.

Each declaration must be found exactly once; if one changes shape (a constant moves, a literal
becomes an expression), the parse fails and names it, rather than letting a check go quiet.
"""

from __future__ import annotations

import dataclasses
import pathlib
import re

from cfn import ROOT

SCHEMA_RS = ROOT / "shared" / "src" / "keys" / "schema.rs"

_STRING = r'"((?:[^"\\]|\\.)*)"'


@dataclasses.dataclass(frozen=True)
class KeysSchema:
    partition_key: str
    sort_key: str
    key_type: str
    billing_mode: str
    ttl_attribute: str
    function_actions: tuple[str, ...]


def _name(path: pathlib.Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _code(path: pathlib.Path) -> str:
    """The source without its comment lines (`//`, `///`, `//!`), whose prose may quote code."""
    return "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("//"))


def _one(pattern: str, text: str, what: str, path: pathlib.Path) -> re.Match[str]:
    found = list(re.finditer(pattern, text, re.DOTALL))
    assert len(found) == 1, (
        f"{_name(path)}: expected exactly one {what}, found {len(found)}; "
        "if the declaration changed shape, update deploy/tests/keys_schema.py"
    )
    return found[0]


def _str_const(name: str, text: str, path: pathlib.Path) -> str:
    pattern = rf"\bpub\s+const\s+{name}\s*:\s*&\s*(?:'static\s+)?str\s*=\s*{_STRING}\s*;"
    return _one(pattern, text, f'`pub const {name}: &str = "...";`', path).group(1)


def _schema_field(block: str, field: str, consts: dict[str, str], path: pathlib.Path) -> str:
    """A field of the TABLE_SCHEMA literal: a string literal, or one of the string constants."""
    value = _one(rf"\b{field}\s*:\s*({_STRING}|[A-Z_][A-Z0-9_]*)\s*,", block, f"`{field}:` in TABLE_SCHEMA", path)
    if value.group(2) is not None:
        return value.group(2)
    name = value.group(1)
    assert name in consts, f"{_name(path)}: TABLE_SCHEMA.{field} is {name}, not one of {sorted(consts)}"
    return consts[name]


def load(path: pathlib.Path = SCHEMA_RS) -> KeysSchema:
    text = _code(path)
    consts = {name: _str_const(name, text, path) for name in ("PARTITION_KEY", "SORT_KEY", "TTL_ATTRIBUTE")}
    block = _one(r"\bpub\s+const\s+TABLE_SCHEMA\s*:\s*TableSchema\s*=\s*TableSchema\s*\{(.*?)\}\s*;", text, "TABLE_SCHEMA", path).group(1)
    fields = {f: _schema_field(block, f, consts, path) for f in ("partition_key", "sort_key", "key_type", "billing_mode", "ttl_attribute")}
    # TABLE_SCHEMA is what `gateway-admin init` creates from; it must say what the constants say.
    for field, const in (("partition_key", "PARTITION_KEY"), ("sort_key", "SORT_KEY"), ("ttl_attribute", "TTL_ATTRIBUTE")):
        assert fields[field] == consts[const], f"TABLE_SCHEMA.{field} is {fields[field]!r} but {const} is {consts[const]!r}"

    actions = _one(r"\bpub\s+const\s+FUNCTION_ACTIONS\s*:\s*&\s*\[\s*&\s*(?:'static\s+)?str\s*\]\s*=\s*&\s*\[(.*?)\]\s*;", text, "FUNCTION_ACTIONS", path).group(1)
    # Only string literals, so a constant named in the list cannot be skipped without notice.
    assert re.fullmatch(rf"\s*(?:{_STRING}\s*,\s*)*(?:{_STRING}\s*,?\s*)?", actions), f"FUNCTION_ACTIONS is not a list of string literals: [{actions}]"
    return KeysSchema(function_actions=tuple(re.findall(_STRING, actions)), **fields)
