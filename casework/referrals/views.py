"""Referral pages: the inbox list and the referral page, always through the scope."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import func, select

from casework.extensions import db
from casework.referrals.models import Referral
from casework.referrals.scoping import get_referral_or_404, scoped_referrals

bp = Blueprint("referrals", __name__)

PAGE_SIZE = 50


@bp.get("/")
@login_required
def inbox():
    page = max(request.args.get("page", 1, type=int), 1)
    query = scoped_referrals(current_user)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    referrals = db.session.scalars(
        query.order_by(Referral.created_at.desc(), Referral.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template("referrals/list.html", referrals=referrals, total=total, page=page,
                           page_size=PAGE_SIZE)


@bp.get("/referrals/<int:referral_id>")
@login_required
def show(referral_id: int):
    referral = get_referral_or_404(referral_id, current_user)
    return render_template("referrals/show.html", referral=referral)


@bp.get("/api/referrals")
@login_required
def api_list():
    referrals = db.session.scalars(
        scoped_referrals(current_user).order_by(Referral.id).limit(500)
    ).all()
    return jsonify([_summary(r) for r in referrals])


@bp.get("/api/referrals/<int:referral_id>")
@login_required
def api_show(referral_id: int):
    return jsonify(_summary(get_referral_or_404(referral_id, current_user)))


def _summary(referral: Referral) -> dict:
    return {
        "id": referral.id,
        "number": referral.number,
        "title": referral.title,
        "state": referral.state,
        "origin_agency": referral.origin_agency.code,
        "version": referral.version,
    }
