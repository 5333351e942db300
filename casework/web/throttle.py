"""Request limits per source address and per account (counters: ``casework.accounts.counters``).

The login steps are closed to an address after too many failed attempts from it (password
spraying across accounts); the API counts every request per address and per logged-in account.
Exceeding a limit answers 429 with a ``Retry-After`` header: a page in the user's language, or
JSON under /api/. API counts are committed at once, so that a refused or failed request counts.
"""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request, session

from casework.accounts.counters import Verdict, hit, login_address_key, peek
from casework.extensions import db

# Form posts of the login steps (password, code, enrolment, forced change).
LOGIN_ENDPOINTS = frozenset({"accounts.login", "accounts.login_code", "accounts.login_enrol",
                             "accounts.login_password", "accounts.confirm"})


def _session_user_id() -> str | None:
    """The account id in the signed session cookie (not loaded: counting needs no user row)."""
    ident = str(session.get("_user_id") or "").partition(":")[0]
    return ident if ident.isdigit() else None


def _verdict() -> Verdict | None:
    """The first limit this request exceeds, or None."""
    address = request.remote_addr or "unknown"
    if request.method == "POST" and request.endpoint in LOGIN_ENDPOINTS:
        verdict = peek(login_address_key(address), "login_per_address")
        return None if verdict.allowed else verdict
    if not request.path.startswith("/api/"):
        return None
    verdicts = [hit(f"api:ip:{address}", "api_per_address")]
    if user_id := _session_user_id():
        verdicts.append(hit(f"api:user:{user_id}", "api_per_account"))
    db.session.commit()
    return next((v for v in verdicts if not v.allowed), None)


def too_many_requests(retry_after: int):
    if request.path.startswith("/api/"):
        response = jsonify({"error": f"too many requests; try again in {retry_after} s",
                            "retry_after": retry_after})
    else:
        response = current_app.make_response(render_template("accounts/too_many_requests.html",
                                                             retry_after=retry_after))
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def register_throttle(app: Flask) -> None:
    @app.before_request
    def throttle():
        verdict = _verdict()
        return too_many_requests(verdict.retry_after) if verdict else None
