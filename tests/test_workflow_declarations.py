"""The declarations are validated at load; diagrams come from them; the CLI drives the engine."""
from __future__ import annotations

import shutil

import pytest

import workflows
from casework.workflow.diagrams import mermaid, svg, svg_for
from casework.workflow.engine import machines
from tests.factories import (  # noqa: F401
    act, agencies_form, assignment_of, find_user, new_referral, notices_switch, routed_referral,
)
from workflows import DeclarationError, declarations


def test_every_lifecycle_and_kind_is_declared():
    found = declarations()
    assert set(found.lifecycles) == {"referral", "assignment", "assignment.cyberspace", "assignment.telecom",
                                     "assignment.police", "assignment.market"}
    police = found.lifecycle("assignment.police")
    assert "accepted" not in police.states and {"file_case", "decline_filing"} <= set(police.triggers())
    assert police.states["declined"].label.zh == "不予立案"
    market = found.lifecycle("assignment.market")
    assert {"open_case", "decide_no_penalty"} <= set(market.triggers())
    assert found.dispositions["telecom"]["revoke_icp_filing"].zh == "注销备案"
    assert found.clocks["filing_decision"].unit == "calendar_days"
    assert found.clocks["receipt"].unit == "working_days" and found.clocks["feedback"].amount == 30


@pytest.fixture
def declaration_copy(tmp_path, monkeypatch):
    for path in workflows.HERE.glob("*.toml"):
        shutil.copy(path, tmp_path / path.name)
    monkeypatch.setattr(workflows, "HERE", tmp_path)
    return tmp_path


@pytest.mark.parametrize("old, new, message", [
    ('to = "received"', 'to = "recieved"', "unknown state 'recieved'"),
    ('roles = ["case_officer"]\nstops = ["receipt"]', 'roles = ["clerk"]\nstops = ["receipt"]', "unknown roles"),
    ('guards = ["not_proposer"]', 'guards = ["is_friday"]', "unknown guard 'is_friday'"),
    ('starts = ["acceptance"]', 'starts = ["lunch_break"]', "unknown clock rule 'lunch_break'"),
    ('notice = "receipt"', 'notice = "postcard"', "unknown notice kind 'postcard'"),
    ('type = "integer"', 'type = "slider"', "unknown field type 'slider'"),
])
def test_inconsistent_declarations_are_refused_at_load(declaration_copy, old, new, message):
    path = declaration_copy / "assignment.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(DeclarationError, match=message):
        machines(workflows.load())  # the declarations check themselves; the engine checks guard names


def test_an_unknown_clock_unit_is_refused(declaration_copy):
    path = declaration_copy / "clocks.toml"
    path.write_text(path.read_text().replace('unit = "hours"', 'unit = "fortnights"', 1))
    with pytest.raises(DeclarationError, match="unknown unit 'fortnights'"):
        workflows.load()


def test_mermaid_and_svg_highlight_the_current_state():
    lc = declarations().lifecycle("assignment.police")
    text = mermaid(lc, current="declined")
    assert text.startswith("stateDiagram-v2")
    assert "received --> filing_refusal_proposed: 提请不予立案" in text
    assert "filing_refusal_proposed --> declined: 批准不予立案" in text
    assert "class declined current" in text
    assert "class " not in mermaid(lc)
    picture = svg(declarations().lifecycle("referral"), current="routed", locale="en")
    assert picture.startswith("<svg") and 'data-state="routed"' in picture
    assert picture.count('class="state current"') == 1 and "Routed" in picture


def test_diagrams_for_an_object_mark_its_state(db_session):
    referral = new_referral()
    assert 'class="state current" data-state="draft"' in svg_for(referral)


def test_cli_diagram_and_fire(app, db_session):
    runner = app.test_cli_runner()
    diagram = runner.invoke(args=["workflow", "diagram", "referral", "--current", "draft", "--lang", "en"])
    assert diagram.exit_code == 0 and "class draft current" in diagram.output
    unknown = runner.invoke(args=["workflow", "diagram", "nothing"])
    assert unknown.exit_code == 1 and "unknown lifecycle" in unknown.output

    referral = new_referral()
    fired = runner.invoke(args=["workflow", "fire", "referral", str(referral.id), "submit",
                                "--as", "edu-44.intake_officer"])
    assert fired.exit_code == 0, fired.output
    assert "-> submitted" in fired.output
    refused = runner.invoke(args=["workflow", "fire", "referral", str(referral.id), "route",
                                  "--as", "edu-44.assessor", "--set", "agencies=1"])
    assert refused.exit_code == 1 and "is no longer possible" in refused.output
    listed = runner.invoke(args=["workflow", "triggers", "referral", str(referral.id), "--as", "edu-44.assessor"])
    assert "start_assessment" in listed.output


def test_cli_fire_takes_repeated_keys(app, db_session):
    from tests.factories import approved_referral, find_agency

    referral = approved_referral("44", "cac-44")
    cac, psb = find_agency("cac-44").id, find_agency("psb-44").id
    result = app.test_cli_runner().invoke(args=[
        "workflow", "fire", "referral", str(referral.id), "route", "--as", "edu-44.assessor",
        "--set", f"agencies={cac}", "--set", f"agencies={psb}", "--set", f"reason_{cac}=网信主管",
        "--set", f"reason_{psb}=涉嫌犯罪"])
    assert result.exit_code == 0, result.output
    assert sorted(a.agency.code for a in referral.assignments) == ["cac-44", "psb-44"]


def test_set_clock_overrides_a_rule(app, db_session):
    from casework.workflow.clocks import effective_rule

    runner = app.test_cli_runner()
    result = runner.invoke(args=["workflow", "set-clock", "feedback", "20", "--unit", "working_days"])
    assert result.exit_code == 0, result.output
    assert (effective_rule("feedback").unit, effective_rule("feedback").amount) == ("working_days", 20)
    assert runner.invoke(args=["workflow", "set-clock", "nap", "1"]).exit_code == 1


@pytest.mark.parametrize("lifecycle, trigger, state", [
    ("referral", "submit", "draft"),
    ("referral", "withdraw", "draft"),
    ("assignment", "record_execution", "disposition_approved"),
    ("assignment", "decline", "received"),
    ("assignment", "reverse_refusal", "reconsideration_requested"),
    ("assignment.police", "reverse_refusal", "reconsideration_requested"),
])
def test_irreversible_steps_ask_for_confirmation(lifecycle, trigger, state):
    transition = declarations().lifecycle(lifecycle).transition(trigger, state)
    assert transition is not None and transition.confirm


@pytest.mark.parametrize("agency_kind, target_kind, offered, not_offered", [
    ("cyberspace", "website", "take_down_website", "remove_app"),
    ("cyberspace", "app", "remove_app", "take_down_website"),
    ("cyberspace", "shop", "close_account", "remove_app"),
    ("telecom", "website", "stop_resolution", "remove_app"),
    ("telecom", "app", "remove_app", "stop_resolution"),
    ("police", "group", "criminal_measures", None),
])
def test_disposal_actions_follow_the_target_kind(agency_kind, target_kind, offered, not_offered):
    actions = declarations().disposal_actions(agency_kind, target_kind)
    assert offered in actions and (not_offered is None or not_offered not in actions)
    assert set(actions) <= set(declarations().disposal_actions(agency_kind))


@pytest.mark.parametrize("agency_kind", ["cyberspace", "telecom", "police", "market"])
def test_every_agency_has_an_action_for_every_target_kind(agency_kind):
    assert all(declarations().disposal_actions(agency_kind, kind) for kind in declarations().target_kinds)
