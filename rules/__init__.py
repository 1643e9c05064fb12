"""The rule language: YAML rule files, checked, compiled onto durable-rules, hot-reloadable.

It matches plain event mappings and imports nothing else of ours.
"""

from ._durations import parse_duration
from ._errors import RuleError
from ._expr import Field, parse_condition, parse_field
from ._loader import PACKS_DIR, InForce, RuleBook, load_rules, rule_files
from ._matcher import Hit, Matcher, Trigger
from ._model import (
    SEVERITIES,
    Absence,
    Escalation,
    Example,
    ExplainedBy,
    Raise,
    Rule,
    RuleSet,
    Window,
)
from ._yaml_lines import yaml_line, yaml_mapping, yaml_plain

__all__ = [
    "PACKS_DIR",
    "SEVERITIES",
    "Absence",
    "Escalation",
    "Example",
    "ExplainedBy",
    "Field",
    "Hit",
    "InForce",
    "Matcher",
    "Raise",
    "Rule",
    "RuleBook",
    "RuleError",
    "RuleSet",
    "Trigger",
    "Window",
    "load_rules",
    "parse_condition",
    "parse_duration",
    "parse_field",
    "rule_files",
    "yaml_line",
    "yaml_mapping",
    "yaml_plain",
]
