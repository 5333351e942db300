"""Target registry services."""
from __future__ import annotations

from sqlalchemy import select

from casework.audit.services import record_event
from casework.errors import ValidationFailed
from casework.extensions import db
from casework.targets.models import TARGET_KINDS, Target


def target_key(data: dict) -> str:
    kind = data.get("kind")
    if kind == "website":
        return (data.get("url") or "").strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if kind == "app":
        return (data.get("package_name") or "").strip().lower()
    if kind in ("account", "shop", "group"):
        return f"{(data.get('platform') or '').strip().lower()}:{(data.get('account_id') or '').strip()}"
    return (data.get("name") or "").strip()


def register_target(data: dict, actor) -> Target:
    """Find the registry entry for this target or create it."""
    kind = data.get("kind")
    if kind not in TARGET_KINDS:
        raise ValidationFailed({"kind": f"kind must be one of {', '.join(TARGET_KINDS)}"})
    key = target_key(data)
    if not key or key == ":":
        raise ValidationFailed({"key": "the target needs a URL, package name or account"})
    target = db.session.scalar(select(Target).where(Target.kind == kind, Target.key == key))
    if target is None:
        fields = {k: data.get(k) for k in ("url", "package_name", "store", "developer", "platform",
                                            "account_id", "icp_number", "operator_name")}
        target = Target(kind=kind, key=key, name=data.get("name") or key, **fields)
        db.session.add(target)
        db.session.flush()
        record_event("target.create", actor, target, payload={"kind": kind, "key": key})
    return target
