from __future__ import annotations

import ast
import pathlib

from swingflow_common import subjects


def test_dotted_symbol_becomes_underscore_in_subject() -> None:
    assert subjects.bars("brk.b") == "md.bars.BRK_B"
    assert subjects.confirmed("AAPL") == "signals.confirmed.AAPL"
    assert subjects.dlq("scanner") == "dlq.scanner"


def test_every_per_symbol_subject_is_covered_by_a_stream() -> None:
    def covered(subject: str) -> bool:
        for spec in subjects.STREAMS:
            for pattern in spec.subjects:
                head = pattern.removesuffix(">")
                if pattern.endswith(">") and subject.startswith(head):
                    return True
                if pattern == subject:
                    return True
        return False

    for subject in (
        subjects.bars("A"),
        subjects.ticks("A"),
        subjects.candidates("A"),
        subjects.confirmed("A"),
        subjects.ALLOCATIONS,
        subjects.FILLS,
        subjects.SCAN_JOBS,
        subjects.dlq("feed"),
    ):
        assert covered(subject), subject


def test_no_module_outside_subjects_spells_a_subject_literal() -> None:
    root = pathlib.Path(__file__).resolve().parents[3]
    prefixes = (
        "md.",
        "signals.",
        "portfolio.",
        "ml.predict",
        "ml.models",
        "config.weights",
        "scan.jobs",
        "dlq.",
    )
    offenders = []
    for path in [
        *root.glob("libs/common/src/**/*.py"),
        *root.glob("services/*/src/**/*.py"),
        *root.glob("src/**/*.py"),
    ]:
        if path.name == "subjects.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.startswith(prefixes)
                and " " not in node.value
            ):
                offenders.append(f"{path.relative_to(root)}:{node.lineno} {node.value!r}")
    assert offenders == []
