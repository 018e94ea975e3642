"""Findings, profiles and docs cite what a user can look up: the vendor document's title and section, the OCPP
spec clause; never the numbers of the files the project was built from."""

from __future__ import annotations

import importlib
import pkgutil
import re
import tomllib
from pathlib import Path

import ocppscope.proxy.core.checks
from ocppscope.proxy.core.findings import RULES

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "proxy" / "profiles" / "data"

INTERNAL = re.compile(r"(?i)\bseeds?\s*(?:no\.?\s*)?0\d\d\b|\bseeds?\s+\d{3}\b|\b\d{3}_[0-9a-f]{16}\b|shared/seeds")
"""An internal file number: 'seed 003', 'seeds 000/001', '002_ed13c5ba65a6c8a5.txt'."""

DOCUMENTS = {
    "ecotap-cpa": ["OCPP connection configuration, version 1.4 (15-07-2024)", "Configuration de la connexion OCPP"],
    "ecotap-ecclite": ["ECClite Ecotap Controller Configuration Lite Edition User Guide (2024-09-08)",
                       "OCPP connection configuration, version 1.4"],
    "ecotap-evc4": ["OCPP connection configuration, version 1.4", "ECClite Ecotap Controller Configuration Lite"],
    "ecotap-evc5": ["OCPP connection configuration, version 1.4", "ECClite Ecotap Controller Configuration Lite"],
    "ac-wallbox": ["AC EV WALLBOX OCPP 1.6 Implementation Overview, revision 1.09 (2022-12-09)"],
    "zaptec": ["Zaptec Cloud and OCPP Integration"],
}
"""The vendor documents each profile is built from, as their makers title them."""

SHORT_TITLES = ("Ecotap OCPP connection configuration v1.4", "ECClite User Guide ch. 11",
                "AC EV WALLBOX OCPP 1.6 Implementation Overview", "Zaptec Cloud and OCPP Integration", "OCPP 1.6",
                "OCPP-J 1.6", "Zaptec's")
"""How a key's ``source`` names its document."""


def _rules() -> dict[str, object]:
    for module in pkgutil.walk_packages(ocppscope.proxy.core.checks.__path__, "ocppscope.proxy.core.checks."):
        importlib.import_module(module.name)
    importlib.import_module("ocppscope.proxy.diff.kinds")
    return dict(RULES)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


def _sources(value: object) -> list[str]:
    """Every ``source`` field in a profile."""
    if isinstance(value, dict):
        own = [value["source"]] if isinstance(value.get("source"), str) else []
        return own + [text for item in value.values() for text in _sources(item)]
    if isinstance(value, list):
        return [text for item in value for text in _sources(item)]
    return []


def test_the_pattern_catches_internal_numbers() -> None:
    for text in ("(seed 003 §3.2.1)", "seeds 000/001 §A", "Seed 004 only says", "see 002_ed13c5ba65a6c8a5.txt",
                 "seed 000, OCPP Info"):
        assert INTERNAL.search(text), text
    for text in ("random seed 1", "--seed 42", "AC EV WALLBOX OCPP 1.6 Implementation Overview §3.2.1"):
        assert not INTERNAL.search(text), text


def test_no_profile_cites_an_internal_file_number() -> None:
    files = sorted(PROFILES.glob("*.toml"))
    assert len(files) >= 7
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not INTERNAL.search(line), f"{path.name}:{number}: {line}"


def test_profiles_name_their_vendor_documents_and_each_source_its_document() -> None:
    for profile_id, titles in DOCUMENTS.items():
        data = tomllib.loads((PROFILES / f"{profile_id}.toml").read_text(encoding="utf-8"))
        sources = " | ".join(data["sources"])
        for title in titles:
            assert title in sources, (profile_id, title)
        for source in _sources(data):
            if "(" in source and not source.startswith(SHORT_TITLES):
                source = source[source.index("(") + 1:]  # "com_OCPCPID: maximum length 25 (Ecotap …)"
            assert source.startswith(SHORT_TITLES) or "Zaptec" in source, (profile_id, source)


def test_no_rule_cites_an_internal_file_number() -> None:
    rules = _rules()
    assert len(rules) > 50
    for rule_id, declared in rules.items():
        for text in _strings({name: getattr(declared, name, "") for name in ("title", "explanation", "example")}):
            assert not INTERNAL.search(text), f"{rule_id}: {text}"


def test_rules_cite_the_spec_by_clause() -> None:
    # A rule that names a clause names the document too ("OCPP-J 1.6 §6.2.2", not "§6" alone).
    for rule_id, declared in _rules().items():
        text = getattr(declared, "explanation", "")
        for match in re.finditer(r"§\s*[\d.]+", text):
            before = text[max(0, match.start() - 40):match.start()]
            names_document = re.search(r"OCPP(-J)? \d\.\d(\.\d)?[^§]*$", before)
            assert names_document, f"{rule_id}: …{before}{match[0]}"


def test_no_doc_cites_an_internal_file_number() -> None:
    docs = [ROOT / "README.md", ROOT / "captures" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in docs:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not INTERNAL.search(line), f"{path.relative_to(ROOT)}:{number}: {line}"
