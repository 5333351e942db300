"""A newcomer's change (README, Architecture): a state added to the police lifecycle by editing one
TOML file in a copy of workflows/, with no Python changed, reaches the inbox tabs, the labels, the
available actions and the engine."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import workflows
from casework.referrals.labels import state_label, trigger_label
from casework.workflow.engine import available_triggers
from casework.workflow.lifecycles import lifecycle_for
from tests.factories import act, assignment_of, find_user, last_event, routed_referral
from workflows import declarations

NEW_STATE = 'prosecution_referred = { zh = "已移送审查起诉", en = "Referred for prosecution", desk = "action" }\n'
NEW_TRANSITION = """
[[transitions]]
trigger = "refer_for_prosecution"
from = ["investigating"]
to = "prosecution_referred"
roles = ["case_officer"]
style = "primary"
label = { zh = "移送审查起诉", en = "Refer for prosecution" }
"""


@pytest.fixture
def extended(tmp_path, monkeypatch):
    """workflows/ copied, assignment.police.toml given one state and one transition into it."""
    for path in workflows.HERE.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    police = tmp_path / "assignment.police.toml"
    anchor = 'investigating = { zh = "立案侦查中", en = "Case filed, under investigation" }\n'
    text = police.read_text(encoding="utf-8")
    assert anchor in text
    police.write_text(text.replace(anchor, anchor + NEW_STATE) + NEW_TRANSITION, encoding="utf-8")
    monkeypatch.setattr(workflows, "HERE", tmp_path)
    declarations.cache_clear()
    yield declarations()
    monkeypatch.undo()
    declarations.cache_clear()


def test_the_new_state_is_on_the_action_tab_and_named(extended):
    assert "prosecution_referred" in extended.desk_states("assignment", "action")
    assert "prosecution_referred" in extended.open_states("assignment")
    assert "prosecution_referred" not in extended.terminal_states("assignment")
    assert state_label("prosecution_referred", "police") == "已移送审查起诉"
    assert trigger_label("refer_for_prosecution", "assignment", "police") == "移送审查起诉"
    assert "refer_for_prosecution" not in extended.lifecycle("assignment.market").triggers()


def test_the_declarations_in_the_package_do_not_have_it(extended):
    original = workflows.load(Path(workflows.__file__).resolve().parent)
    assert "prosecution_referred" not in original.lifecycle("assignment.police").states
    assert "prosecution_referred" not in original.desk_states("assignment", "action")


def test_the_engine_fires_into_the_new_state(db_session, extended):
    referral = routed_referral("44", "psb-44")
    assignment = assignment_of(referral, "psb-44")
    act(assignment, "receive", "psb-44.case_officer")
    act(assignment, "file_case", "psb-44.case_officer", reason="涉嫌犯罪")
    assert lifecycle_for(assignment) is extended.lifecycle("assignment.police")
    officer = find_user("psb-44.case_officer")
    assert "refer_for_prosecution" in [t.name for t in available_triggers(assignment, officer)]
    assert "refer_for_prosecution" not in [t.name for t in available_triggers(assignment, find_user("psb-44.approver"))]
    act(assignment, "refer_for_prosecution", "psb-44.case_officer")
    assert assignment.state == "prosecution_referred"
    event = last_event(assignment)
    assert (event.trigger, event.from_state, event.to_state) == ("refer_for_prosecution", "investigating",
                                                                 "prosecution_referred")


def test_an_agency_kind_is_declared_in_kinds_dispositions_and_its_lifecycle_file(tmp_path):
    for path in Path(workflows.__file__).resolve().parent.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    kinds = tmp_path / "kinds.toml"
    kinds.write_text(kinds.read_text(encoding="utf-8").replace(
        'market = { zh = "市场监管", en = "Market regulation" }\n',
        'market = { zh = "市场监管", en = "Market regulation" }\npostal = { zh = "邮政", en = "Postal" }\n'),
        encoding="utf-8")
    with pytest.raises(workflows.DeclarationError, match="dispositions.toml must list exactly"):
        workflows.load(tmp_path)
    dispositions = tmp_path / "dispositions.toml"
    dispositions.write_text(dispositions.read_text(encoding="utf-8")
                            + '\n[postal]\nstop_delivery = { zh = "停止寄递", en = "Stop delivery" }\n',
                            encoding="utf-8")
    with pytest.raises(workflows.DeclarationError, match="missing assignment.postal.toml"):
        workflows.load(tmp_path)
    (tmp_path / "assignment.postal.toml").write_text(
        'name = "assignment.postal"\nextends = "assignment"\nkind = "postal"\n', encoding="utf-8")
    found = workflows.load(tmp_path)
    assert "postal" in found.disposing_kinds() and found.referring_kind() == "education"
    assert found.assignment_lifecycle("postal").initial == "sent"
    assert set(found.disposal_actions("postal")) == {"stop_delivery"}
