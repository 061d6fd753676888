"""Documents to text the way Docker Compose v2 writes them.

YAML as Go's yaml.v3 encoder with indent 2 writes it: block style, lists
indented under their key, strings that would read back as another type in
double quotes, no line folding. JSON as Go's ``json.MarshalIndent`` with two
spaces. Standard library and PyYAML only.
"""
from __future__ import annotations

import json

import yaml

from .yamlsrc import resolve_plain

class _Dumper(yaml.SafeDumper):
    # The pure-Python emitter: libyaml's cannot indent lists under their key.
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _str(dumper, value: str):
    style = None
    if value == "" or resolve_plain(value) != value or value != value.strip() or (
            value[:1] in "!&*-?:,[]{}#|>@`\"'%" or ": " in value or " #" in value):
        style = '"'
    if "\n" in value:
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(document) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=1 << 30, indent=2)


def to_json(document) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
