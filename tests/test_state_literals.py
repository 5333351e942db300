"""No state name of a lifecycle is written as a string literal in ``casework/``: which state is
initial, terminal, on which inbox tab or where a step leads is read from ``workflows.declarations()``.

A few words are also the state of something that is not a lifecycle (a disposition, an extension
request, a mail delivery) or a key that happens to spell a state; each such (file, word) is allowed
below with its reason. The inbox package gets no allowance: its tabs and terminal sets come from the
declarations alone.
"""
from __future__ import annotations

import ast
from pathlib import Path

from workflows import declarations

ROOT = Path(__file__).resolve().parents[1]

ALLOWED = {
    ("casework/assignments/services.py", "approved"):
        "a disposition's and an extension request's own decision (proposed/approved/rejected)",
    ("casework/workflow/clocks.py", "approved"): "an extension request's own state",
    ("casework/referrals/labels.py", "approved"): "the label of a disposition's own state",
    ("casework/notices/content.py", "approved"): "a disposition's own decision, printed in its notice",
    ("casework/notifications/delivery.py", "sent"): "a mail delivery's own state (pending/held/sent/failed)",
    ("casework/notices/content.py", "accepted"): "the decision word stored in a notice's facts",
    ("casework/notices/render.py", "executed"): "the column key of the disposal table (the execution date)",
}


def lifecycle_states() -> set[str]:
    return {state for lifecycle in declarations().lifecycles.values() for state in lifecycle.states}


def state_literals(states: set[str], root: Path = ROOT) -> list[tuple[str, int, str]]:
    """(file, line, word) of every string constant in ``casework/`` equal to a state name."""
    found = []
    for path in sorted((root / "casework").rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=relative)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in states:
                found.append((relative, node.lineno, node.value))
    return found


def test_no_state_name_is_a_literal_outside_the_declarations():
    offending = [f"{path}:{line}: {word!r}" for path, line, word in state_literals(lifecycle_states())
                 if (path, word) not in ALLOWED]
    assert not offending, "state names written in Python; read them from workflows.declarations():\n" + \
        "\n".join(offending)


def test_every_allowance_is_still_needed_and_names_a_state():
    used = {(path, word) for path, _line, word in state_literals(lifecycle_states())}
    assert set(ALLOWED) <= used, f"allowances that match nothing any more: {sorted(set(ALLOWED) - used)}"
    assert not [path for path, _word in ALLOWED if path.startswith("casework/inbox/")]


def test_a_hard_coded_inbox_tab_is_found(tmp_path):
    """The scan would catch a tab or terminal set written by hand again in the inbox package."""
    inbox = tmp_path / "casework" / "inbox"
    inbox.mkdir(parents=True)
    (inbox / "tabs.py").write_text('RECEIVE = frozenset({"sent", "transferred"})\nEND = ("closed",)\n',
                                   encoding="utf-8")
    found = state_literals(lifecycle_states(), tmp_path)
    assert sorted(found) == [("casework/inbox/tabs.py", 1, "sent"), ("casework/inbox/tabs.py", 1, "transferred"),
                             ("casework/inbox/tabs.py", 2, "closed")]
