"""Form input: the intake form (a referral with any number of targets and evidence files),
the workflow forms built from FieldSpecs, and the value lists the forms offer."""
from __future__ import annotations

import os
import re

from flask import current_app
from flask_babel import lazy_gettext as _l

from casework.referrals.models import REFERRAL_SOURCES
from casework.referrals.services import TARGET_FIELDS, referral_errors
from casework.targets.models import TARGET_KINDS
from casework.targets.normalize import APP_STORES, PLATFORMS
from casework.text import language
from casework.workflow.fields import catalogue_for

SOURCE_LABELS = {
    "university_report": _l("University report"),
    "platform_report": _l("Platform report"),
    "monitoring_lead": _l("Monitoring-platform lead"),
    "public_tip": _l("Public tip"),
}
KIND_LABELS = {
    "website": _l("Website"),
    "app": _l("App"),
    "account": _l("Account on a platform"),
    "shop": _l("Online shop"),
    "group": _l("Chat group"),
    "other": _l("Other"),
}
PLATFORM_LABELS = {
    "wechat_official": _l("WeChat official account"), "wechat": _l("WeChat"), "wechat_group": _l("WeChat group"),
    "qq": "QQ", "qq_group": _l("QQ group"), "douyin": _l("Douyin"), "kuaishou": _l("Kuaishou"),
    "bilibili": "Bilibili", "weibo": _l("Weibo"), "xiaohongshu": _l("Xiaohongshu"), "taobao": _l("Taobao"),
    "xianyu": _l("Xianyu"), "pinduoduo": _l("Pinduoduo"), "jd": _l("JD.com"), "telegram": "Telegram",
    "other": _l("Other"),
}
STORE_LABELS = {
    "app_store": "App Store", "google_play": "Google Play", "huawei": _l("Huawei AppGallery"),
    "xiaomi": _l("Xiaomi App Store"), "oppo": _l("OPPO App Market"), "vivo": _l("vivo App Store"),
    "honor": _l("Honor App Market"), "tencent_myapp": _l("Tencent MyApp"), "baidu": _l("Baidu Mobile Assistant"),
    "360": _l("360 Mobile Assistant"), "wandoujia": _l("Wandoujia"), "apk_download": _l("APK download"),
    "other": _l("Other"),
}
EVIDENCE_MAX_FILES = 10
DEFAULT_EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
TARGET_ROW = re.compile(r"^targets-(\d{1,4})-([a-z_]+)$")
MAX_TARGET_ROWS = 50  # a draft's targets shown per page of the edit form; the others are kept as they are


def evidence_max_bytes() -> int:
    return int(current_app.config.get("EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES))


def _target_rows(form) -> list[dict]:
    rows: dict[int, dict] = {}
    for key in form:
        match = TARGET_ROW.match(key)
        if match and match.group(2) in TARGET_FIELDS:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = form.get(key, "")
    ordered = [rows[i] for i in sorted(rows)]
    return [row for row in ordered if any((v or "").strip() for k, v in row.items() if k != "kind")]


def _ids(raw: list[str]) -> list[int]:
    return [int(v) for v in raw if v.isascii() and v.isdigit() and len(v) <= 18]


def _file_size(storage) -> int:
    stream = storage.stream
    position = stream.tell()
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(position)
    return size


class IntakeInput:
    """The intake form's values as the services take them, plus field errors."""

    def __init__(self, form, files=None, *, submitting: bool = False):
        self.data = {
            "title": form.get("title", ""),
            "source": form.get("source", ""),
            "summary": form.get("summary", ""),
            "region_code": form.get("region_code", ""),
            "targets": _target_rows(form),
            "shown_target_ids": _ids(form.getlist("shown_targets")),
            "targets_from": next(iter(_ids([form.get("targets_from", "")])), 0),
        }
        self.data["kept_targets"] = max(next(iter(_ids([form.get("targets_total", "")])), 0)
                                        - len(self.data["shown_target_ids"]), 0)
        self.uploads: list[tuple] = []
        self.errors: dict[str, str] = referral_errors(self.data, submitting=submitting)
        self._read_files(form, files)

    def _read_files(self, form, files) -> None:
        if files is None:
            return
        chosen = [f for f in files.getlist("evidence") if f and f.filename]
        if len(chosen) > EVIDENCE_MAX_FILES:
            self.errors["evidence"] = str(_l("At most %(n)d files at once.", n=EVIDENCE_MAX_FILES))
            return
        limit = evidence_max_bytes()
        too_big = [f.filename for f in chosen if _file_size(f) > limit]
        if too_big:
            self.errors["evidence"] = str(_l("%(names)s: larger than the limit of %(mb)d MB.",
                                             names=", ".join(too_big), mb=limit // (1024 * 1024)))
            return
        description = (form.get("evidence_description") or "").strip()
        if len(description) > 500:
            self.errors["evidence_description"] = str(_l("At most %(n)d characters.", n=500))
            return
        self.uploads = [(f, {"description": description}) for f in chosen]

    @property
    def valid(self) -> bool:
        return not self.errors


def referral_form_values(referral, targets_from: int = 0) -> dict:
    """The intake form's values for an existing referral (editing a draft): its fields and one page
    of ``MAX_TARGET_ROWS`` targets from ``targets_from``; saving leaves the targets of other pages alone."""
    links = referral.target_links
    first = max(min(targets_from, len(links) - 1), 0) // MAX_TARGET_ROWS * MAX_TARGET_ROWS
    shown = links[first:first + MAX_TARGET_ROWS]
    targets = []
    for link in shown:
        t = link.target
        targets.append({name: getattr(t, name, None) or "" for name in TARGET_FIELDS if name != "note"}
                       | {"note": link.note or ""})
    return {"title": referral.title, "source": referral.source, "summary": referral.summary,
            "region_code": referral.region_code or "", "targets": targets,
            "shown_target_ids": [link.target_id for link in shown], "targets_from": first}


def target_pages(referral, values: dict) -> dict:
    """Paging of the edit form's targets: the first index shown, how many targets the draft has and the
    first index of every page (empty when one page holds them all)."""
    total = len(referral.target_links) if referral is not None else 0
    starts = list(range(0, total, MAX_TARGET_ROWS)) if total > MAX_TARGET_ROWS else []
    return {"first": values.get("targets_from", 0), "total": total, "starts": starts,
            "shown": values.get("shown_target_ids", [])}


def source_choices():
    return [(s, SOURCE_LABELS.get(s, s)) for s in REFERRAL_SOURCES]


def kind_choices():
    return [(k, KIND_LABELS.get(k, k)) for k in TARGET_KINDS]


def platform_choices():
    return [(p, PLATFORM_LABELS.get(p, p)) for p in PLATFORMS]


def store_choices():
    return [(s, STORE_LABELS.get(s, s)) for s in APP_STORES]


# --- workflow forms: options shown for each FieldSpec, and the posted values shown back ---
# Form encoding of the composite types (casework/workflow/fields.py): ``agencies=<id>`` repeated
# plus ``reason_<id>``; ``action_<target_id>``; ``outcome_<action_id>``, ``executed_at_<action_id>``,
# ``note_<action_id>``. The posted form goes to the engine as it is.

def field_options(obj, spec, recommended: dict[str, str]) -> dict:
    """What the form offers for one field: its choices, the targets or actions it is about, defaults.
    ``recommended``: {agency id: reason} proposed for a routing field without a declared default
    (``casework.referrals.routing_recommendation``)."""
    options: dict = {"choices": list(spec.choices), "default": spec.default}
    referral = getattr(obj, "referral", None) or obj
    if spec.type == "agencies":
        if spec.default:
            options["default"] = {str(agency_id): reason for agency_id, reason in spec.default}
        else:
            options["default"] = recommended
    elif spec.type == "target_actions":
        options["targets"] = [(link.target.id, link.target.name) for link in referral.target_links]
        options["target_choices"] = {
            link.target.id: [(code, label.pick(language())) for code, label in
                             catalogue_for(obj, link.target).items()] for link in referral.target_links}
    elif spec.type == "target_outcomes":
        disposition = getattr(obj, "disposition", None)
        options["actions"] = [(a.id, a.target.name, a.action) for a in (disposition.actions if disposition else [])]
    return options


def shown_value(spec, form):
    """The posted value of a field as the form shows it again after a refusal."""
    name = spec.name
    if spec.type == "multichoice":
        return form.getlist(name)
    if spec.type == "agencies":
        return {agency_id: form.get(f"reason_{agency_id}", "") for agency_id in form.getlist(name)}
    if spec.type in ("target_actions", "target_outcomes"):
        return {key: form.get(key, "") for key in form
                if key.startswith(("action_", "outcome_", "executed_at_", "note_"))}
    return form.get(name, "")
