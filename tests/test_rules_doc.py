"""docs/rules.md is generated from the rule declarations, and every rule has a test."""

from __future__ import annotations

from pathlib import Path

from ocppscope.proxy.core.rulesdoc import load_all_rules, render

ROOT = Path(__file__).resolve().parents[1]


def test_rules_doc_is_current() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == render(), "run `make rules-doc`"


def test_every_rule_is_named_in_a_test() -> None:
    here = Path(__file__).resolve()
    tests = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py") if p != here)
    untested = sorted(rule_id for rule_id in load_all_rules() if f'"{rule_id}"' not in tests)
    assert untested == []


def test_rule_declarations_are_complete() -> None:
    for declared in load_all_rules().values():
        assert declared.title and declared.explanation and declared.example, declared.id
        assert "." in declared.id and declared.id == declared.id.lower(), declared.id
