"""Security headers on every answer; nothing of a logged-in page, the API or an export is cached."""
from __future__ import annotations

from flask import Flask, request, session

from casework.accounts.login_steps import PENDING_LOGIN

CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                           "script-src 'self'; frame-ancestors 'none'")
PERMISSIONS_POLICY = ("camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), "
                      "bluetooth=(), magnetometer=(), gyroscope=(), accelerometer=(), interest-cohort=()")
HSTS = "max-age=31536000; includeSubDomains"


def _private(response) -> bool:
    """Logged-in pages, the API and downloads (exports, evidence, notices) must not be stored."""
    if request.endpoint == "static":
        return False
    return (request.path.startswith("/api/") or "_user_id" in session or PENDING_LOGIN in session
            or response.headers.get("Content-Disposition", "").startswith("attachment"))


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Strict-Transport-Security", HSTS)
        if _private(response) and "no-store" not in headers.get("Cache-Control", ""):
            headers["Cache-Control"] = "no-store"
        return response
