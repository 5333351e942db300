"""What the domain services and the engine share: the lifecycle an object follows and what a
service reports back. Imports no domain package, so services and engine both depend on it."""
from __future__ import annotations

from dataclasses import dataclass, field

from workflows import Lifecycle, declarations


@dataclass
class Outcome:
    """What a service reports back: objects a notice is issued for, new assignments, audit extras."""

    notice_subjects: list | None = None
    created: list = field(default_factory=list)
    payload: dict = field(default_factory=dict)


def lifecycle_for(obj) -> Lifecycle:
    """The declaration the object follows: the referral's, or its agency kind's assignment variant."""
    if obj.audit_type == "referral":
        return declarations().lifecycle("referral")
    return declarations().assignment_lifecycle(obj.agency.kind)


def assignment_ended(assignment) -> bool:
    return assignment.state in lifecycle_for(assignment).final_states()
