"""The administrators' changes: agencies, accounts, roles, seal images, audit chain checks.

Each service validates, changes, and writes its audit event in the same transaction (flushes,
never commits). Separation of duties: the system administrator grants case roles and the system
administrator role only; accounts of security and audit administrators are managed from the
command line (``casework create-user``) and are read-only here.
"""
from __future__ import annotations

import hashlib
import io
import re
import warnings

from sqlalchemy import select

from casework.accounts.models import User, UserRole
from casework.accounts.roles import Role, check_role_combination
from casework.accounts.services import create_user
from casework.accounts.sessions import end_all_sessions
from casework.agencies.models import Agency, AgencyLevel
from casework.agencies.seals import AgencySeal, seal_record
from casework.audit.services import record_event, verify_chain
from casework.db_types import database_id, utcnow
from casework.errors import NotAllowed, ValidationFailed
from casework.extensions import db
from casework.text import _
from workflows import ROLES_BY_PARTY, declarations

EDUCATION = "education"
SYSTEM_GRANTABLE = frozenset({Role.INTAKE_OFFICER.value, Role.ASSESSOR.value, Role.CASE_OFFICER.value,
                              Role.APPROVER.value, Role.SYSTEM_ADMIN.value})
SEPARATE_ADMINS = frozenset({Role.SECURITY_ADMIN.value, Role.AUDIT_ADMIN.value})
AGENCY_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
REGION_CODE = re.compile(r"^[0-9]{6}$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SEAL_MAX_BYTES = 512 * 1024
SEAL_MIN_SIDE, SEAL_MAX_SIDE = 64, 2048


def unprintable(text: str) -> bool:
    """Control characters (NUL and the like) have no place in a name; the database may refuse them."""
    return any(not ch.isprintable() for ch in text)


def printable(text) -> str:
    """``text`` without control characters (for filters and free remarks)."""
    return "".join(ch for ch in str(text or "") if ch.isprintable() or ch in "\n\t")


def agency_kinds() -> tuple[str, ...]:
    """The referring kind and the disposing kinds declared in workflows/kinds.toml."""
    return tuple(declarations().agency_kinds)


# Agencies ----------------------------------------------------------------------------------------

def _agency_fields(data: dict, agency: Agency | None) -> tuple[dict, dict]:
    errors: dict[str, str] = {}
    name = " ".join(str(data.get("name") or "").split())
    if not 0 < len(name) <= 100:
        errors["name"] = _("A name of 1 to 100 characters is required.")
    name_en = " ".join(str(data.get("name_en") or "").split())
    if len(name_en) > 160:
        errors["name_en"] = _("At most %(n)d characters.", n=160)
    prefix = str(data.get("number_prefix") or "").strip()
    if len(prefix) > 20:
        errors["number_prefix"] = _("At most %(n)d characters.", n=20)
    for field, value in (("name", name), ("name_en", name_en), ("number_prefix", prefix)):
        if unprintable(value):
            errors[field] = _("Control characters are not allowed here.")
    region = str(data.get("region_code") or "").strip()
    if region and not REGION_CODE.match(region):
        errors["region_code"] = _("A region code has six digits, e.g. 440000.")
    parent = None
    if data.get("parent_id"):
        parent = _agency(data["parent_id"])
        if parent is None:
            errors["parent_id"] = _("Choose an existing agency.")
        elif agency is not None and (parent.id == agency.id or agency.is_above(parent)):
            errors["parent_id"] = _("An agency cannot be placed under itself or an agency below it.")
    return {"name": name, "name_en": name_en or None, "number_prefix": prefix or None,
            "region_code": region or None, "parent": parent}, errors


def create_agency(data: dict, actor: User) -> Agency:
    """A new agency. ``data``: code, kind, level, name, name_en, number_prefix, parent_id, region_code."""
    fields, errors = _agency_fields(data, None)
    code = str(data.get("code") or "").strip()
    if not AGENCY_CODE.match(code):
        errors["code"] = _("2 to 40 lower-case letters, digits or hyphens, e.g. psb-45.")
    elif db.session.scalar(select(Agency.id).where(Agency.code == code)):
        errors["code"] = _("An agency with this code exists already.")
    if data.get("kind") not in agency_kinds():
        errors["kind"] = _("Choose the kind of agency.")
    if data.get("level") not in {level.value for level in AgencyLevel}:
        errors["level"] = _("Choose national or provincial.")
    if errors:
        raise ValidationFailed(errors)
    agency = Agency(code=code, kind=data["kind"], level=data["level"], **fields)
    db.session.add(agency)
    db.session.flush()
    record_event("agency.create", actor, agency, payload={
        "code": code, "kind": agency.kind, "level": agency.level, "name": agency.name,
        "parent": fields["parent"].code if fields["parent"] else None, "region_code": agency.region_code})
    return agency


def update_agency(agency: Agency, data: dict, actor: User) -> Agency:
    """Change an agency's names, number prefix, parent and region (its code and kind stay)."""
    fields, errors = _agency_fields(data, agency)
    if errors:
        raise ValidationFailed(errors)
    before = _agency_snapshot(agency)
    for name, value in fields.items():
        setattr(agency, name, value)
    db.session.flush()
    after = _agency_snapshot(agency)
    changed = {key: {"from": before[key], "to": after[key]} for key in after if before[key] != after[key]}
    if changed:
        record_event("agency.update", actor, agency, payload={"code": agency.code, "changed": changed})
    return agency


def _agency(ident) -> Agency | None:
    agency_id = database_id(str(ident or ""))
    return db.session.get(Agency, agency_id) if agency_id is not None else None


def _agency_snapshot(agency: Agency) -> dict:
    return {"name": agency.name, "name_en": agency.name_en, "number_prefix": agency.number_prefix,
            "parent": agency.parent.code if agency.parent else None, "region_code": agency.region_code}


# Seal images -------------------------------------------------------------------------------------

def upload_seal(agency: Agency, data: dict, actor: User) -> AgencySeal:
    """Store ``data["image"]`` (PNG bytes) as the agency's seal, replacing the previous one.

    A real PNG (signature and decoder agree), at most ``SEAL_MAX_BYTES``, each side between
    ``SEAL_MIN_SIDE`` and ``SEAL_MAX_SIDE`` pixels; stored with its SHA-256."""
    image = data.get("image") or b""
    width, height = _check_png(image)
    digest = hashlib.sha256(image).hexdigest()
    seal = seal_record(agency)
    previous = seal.sha256 if seal else None
    if seal is None:
        seal = AgencySeal(agency_id=agency.id)
        db.session.add(seal)
    seal.image, seal.sha256, seal.width, seal.height, seal.byte_size = image, digest, width, height, len(image)
    seal.uploaded_by_id, seal.uploaded_at = actor.id, utcnow()
    db.session.flush()
    record_event("agency.seal_upload", actor, seal, payload={
        "agency": agency.code, "sha256": digest, "previous_sha256": previous, "width": width, "height": height,
        "bytes": len(image)})
    return seal


def _check_png(image: bytes) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError  # PIL loads only when a seal is uploaded, not at start-up

    def refuse(message: str):
        raise ValidationFailed({"image": message})

    if not image:
        refuse(_("Choose a PNG image."))
    if len(image) > SEAL_MAX_BYTES:
        refuse(_("The image is larger than %(n)d KB.", n=SEAL_MAX_BYTES // 1024))
    if not image.startswith(PNG_SIGNATURE):
        refuse(_("The file is not a PNG image."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(image)) as probe:
                if probe.format != "PNG":
                    refuse(_("The file is not a PNG image."))
                width, height = probe.size
                if not (SEAL_MIN_SIDE <= width <= SEAL_MAX_SIDE and SEAL_MIN_SIDE <= height <= SEAL_MAX_SIDE):
                    refuse(_("Each side of the seal must be %(low)d to %(high)d pixels; this one is %(w)d × %(h)d.",
                             low=SEAL_MIN_SIDE, high=SEAL_MAX_SIDE, w=width, h=height))
                probe.verify()
            with Image.open(io.BytesIO(image)) as full:
                full.load()
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        refuse(_("The PNG image is damaged or cannot be read."))
    return width, height


# Accounts ----------------------------------------------------------------------------------------

def may_manage_account(actor: User, user: User) -> bool:
    """The system administrator manages every account except those of the security and audit
    administrators (separation of duties)."""
    return actor.has_role(Role.SYSTEM_ADMIN) and not (user.roles & SEPARATE_ADMINS)


def role_fits_agency(role: str, agency: Agency) -> bool:
    """Case roles follow the workflow's parties: education departments refer and assess, the other
    kinds handle assignments; approvers exist on both sides, administrators anywhere."""
    party = "origin" if agency.kind == EDUCATION else "agency"
    return role not in ROLES_BY_PARTY["origin"] | ROLES_BY_PARTY["agency"] or role in ROLES_BY_PARTY[party]


def _role_errors(roles: set[str], agency: Agency | None) -> str | None:
    if not roles:
        return _("Choose at least one role.")
    if roles - SYSTEM_GRANTABLE:
        return _("Security and audit administrators are created from the command line, not here.")
    if problem := check_role_combination(roles):
        return _(problem)
    if agency is not None and (unfit := sorted(r for r in roles if not role_fits_agency(r, agency))):
        return _("These roles do not work in an agency of this kind: %(roles)s", roles=", ".join(unfit))
    return None


def create_account(data: dict, actor: User) -> User:
    """A new account with case roles or the system administrator role; ``data`` as ``create_user``
    takes it, with ``agency_id`` instead of the code."""
    agency = _agency(data.get("agency_id"))
    roles = set(data.get("roles") or [])
    errors = {}
    if agency is None:
        errors["agency_id"] = _("Choose the user's agency.")
    if problem := _role_errors(roles, agency):
        errors["roles"] = problem
    if data.get("password") != data.get("password_again"):
        errors["password_again"] = _("The two passwords differ.")
    for field in ("username", "display_name", "password"):
        if unprintable(str(data.get(field) or "")):
            errors[field] = _("Control characters are not allowed here.")
    if errors:
        raise ValidationFailed(errors)
    return create_user({**data, "agency_code": agency.code, "roles": sorted(roles)}, actor)


def _check_manageable(user: User, actor: User, event: str) -> None:
    if not may_manage_account(actor, user):
        raise NotAllowed(_("Accounts of security and audit administrators are managed from the command line."),
                         audit={"event": event, "actor": actor, "obj": user})


def change_roles(user: User, data: dict, actor: User) -> User:
    """Replace the user's roles with ``data["roles"]``."""
    _check_manageable(user, actor, "user.roles")
    roles = set(data.get("roles") or [])
    if problem := _role_errors(roles, user.agency):
        raise ValidationFailed({"roles": problem})
    if user.id == actor.id and Role.SYSTEM_ADMIN.value not in roles:
        raise ValidationFailed({"roles": _("You cannot take the system administrator role from yourself.")})
    before = sorted(user.roles)
    if set(before) == roles:
        return user
    kept = [row for row in user.role_rows if row.role in roles]
    user.role_rows = kept + [UserRole(role=r) for r in sorted(roles - user.roles)]
    db.session.flush()
    end_all_sessions(user, "roles changed", actor)  # the new roles apply from the next sign-in
    record_event("user.roles", actor, user, payload={"username": user.username, "from": before,
                                                     "to": sorted(roles)})
    return user


def deactivate_user(user: User, data: dict, actor: User) -> User:
    """Disable the account and end its sessions; the row stays (cases and events point at it)."""
    _check_manageable(user, actor, "user.deactivate")
    if user.id == actor.id:
        raise ValidationFailed({"user": _("You cannot deactivate your own account.")},
                               _("You cannot deactivate your own account."))
    if not user.active:
        return user
    user.active = False
    db.session.flush()
    end_all_sessions(user, "deactivated", actor)
    record_event("user.deactivate", actor, user, payload={"username": user.username,
                                                          "reason": printable(data.get("reason"))[:200]})
    return user


def reactivate_user(user: User, data: dict, actor: User) -> User:
    """Enable a deactivated account again (its password is unchanged)."""
    _check_manageable(user, actor, "user.reactivate")
    if user.active:
        return user
    user.active = True
    db.session.flush()
    record_event("user.reactivate", actor, user, payload={"username": user.username})
    return user


# Audit administration ----------------------------------------------------------------------------

def verify_audit_chain(data: dict, actor: User):
    """Recheck every hash of the audit chain; the check and its result are recorded."""
    report = verify_chain()
    record_event("audit.verify", actor, outcome="ok" if report.ok else "failed", payload={
        "ok": report.ok, "checked": report.checked, "reason": report.reason,
        "broken_seq": report.broken_seq, "broken_event_id": report.broken_event_id})
    return report


def record_trail_export(filters, data: dict, actor: User) -> None:
    """Record an export of the trail: who, which filters, how many rows, which format."""
    record_event("audit.export", actor, payload={"filters": filters.as_args(), **data})
