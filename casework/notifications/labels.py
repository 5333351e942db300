"""What a notification says, in the reader's language."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from casework.referrals.labels import trigger_label

KIND_LABELS = {
    "to_receive": _l("New work to receive"),
    "to_act": _l("Awaiting your action"),
    "to_approve": _l("Approval needed"),
    "due_soon": _l("Due within one working day"),
    "overdue": _l("Overdue: reminder"),
    "mention": _l("You were mentioned"),
    "comment": _l("New comment on a case you own"),
    "owner": _l("Assigned to you"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def step_label(notification) -> str:
    """The step that caused the notification, named in its object's lifecycle."""
    if not notification.trigger:
        return ""
    return trigger_label(notification.trigger, notification.subject_type, notification.agency_kind)
