"""Officers' journeys for the load and fault drill (``bench/load/drill.py`` runs this headless).

Each simulated officer logs in with an account of its own (a login ends the account's other
sessions; a created account's first login asks for a new password, which the officer then keeps; an
account with a ``totp`` secret answers the code step with pyotp), then loops: inbox, open a referral from it, fire the step the page offers among
receive / accept / start_investigation / add_note through its form (CSRF token and version from
the page), download a notice, search, now and then export a dossier. Nodes are given by
``DRILL_HOSTS`` (comma separated); an officer whose node refuses the connection moves to the next
one, as a load balancer would. Every request is appended to ``DRILL_LOG`` (JSON lines: time, page,
status, milliseconds, error kind), every acknowledged step (a 302 answer to its form) with the
unique text it carried to ``DRILL_ACKS`` (acknowledged: the page it led to says "done"; a step
refused because a colleague did it first also leads back to the page, with an error instead).
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import time
import uuid

import pyotp
from locust import HttpUser, between, events, task

HOSTS = [h for h in os.environ.get("DRILL_HOSTS", "http://127.0.0.1:8000").split(",") if h]
ACCOUNTS = json.loads(open(os.environ["DRILL_ACCOUNTS"], encoding="utf-8").read())
_next_account = itertools.count()
_write_lock = threading.Lock()
_log = open(os.environ.get("DRILL_LOG", "/tmp/casework-drill-requests.jsonl"), "a", encoding="utf-8")
_acks = open(os.environ.get("DRILL_ACKS", "/tmp/casework-drill-acks.jsonl"), "a", encoding="utf-8")

STEPS = ("receive", "accept", "start_investigation", "add_note")
FORM = re.compile(r'<form method="post" action="(/assignments/(\d+)/fire/(\w+))".*?</form>', re.S)
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
REFERRAL_LINK = re.compile(r'href="/referrals/(\d+)"')
NOTICE_LINK = re.compile(r'href="/notices/(\d+)\.pdf"')
DONE = 'class="flash flash-success"'  # the page the step redirects to says it was done
SEARCH_TERMS = ("代刷", "网课", "替考", "刷课", "XSN2026")


def _refused(error) -> bool:
    """The node did not take the connection (so the request never reached it)."""
    return error is not None and "refused" in repr(error).lower()


def _append(stream, record: dict) -> None:
    with _write_lock:
        stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        stream.flush()


@events.request.add_listener
def log_request(request_type, name, response_time, response_length, response=None, exception=None, **_kw):
    status = getattr(response, "status_code", None) if response is not None else None
    kind = None
    if exception is not None:
        kind = "refused" if _refused(exception) else type(exception).__name__
    _append(_log, {"t": time.time(), "page": name, "method": request_type, "status": status,
                   "ms": round(response_time, 1), "error": kind})


class Officer(HttpUser):
    wait_time = between(3, 8)  # an officer reads a page before the next click
    host = HOSTS[0]

    def on_start(self):
        self.account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
        self.node = random.randrange(len(HOSTS))
        self.client.base_url = HOSTS[self.node]
        self.referrals: list[str] = []
        self.login()

    def request(self, method: str, path: str, name: str, **kwargs):
        """One request; a refused connection moves the officer to the next node, which gets the same
        request (never one that reached a node: a reset POST may have been done)."""
        answer = None
        for _attempt in range(len(HOSTS)):
            answer = self.client.request(method, path, name=name, **kwargs)
            if answer.status_code or not _refused(getattr(answer, "error", None)):
                return answer
            self.node = (self.node + 1) % len(HOSTS)
            self.client.base_url = HOSTS[self.node]
        return answer

    def login(self):
        page = self.request("GET", "/login", "login form")
        token = CSRF.search(page.text) if page is not None else None
        if token is None:
            return
        answer = self.request("POST", "/login", "login", allow_redirects=False,
                              data={"csrf_token": token.group(1), "username": self.account["username"],
                                    "password": self.account["password"]})
        for _step in range(3):  # the steps after the password: code, forced change, then logged in
            location = answer.headers.get("Location", "") if answer is not None else ""
            if answer is None or answer.status_code != 302 or "/login/" not in location:
                return
            if "/login/password" in location:
                answer = self.change_password(location)
            elif "/login/code" in location and self.account.get("totp"):
                answer = self.second_factor(location)
            else:
                return

    def login_step(self, location: str, name: str, data: dict):
        """GET a login step's form, then POST it with its CSRF token."""
        form = self.request("GET", location, f"{name} form", allow_redirects=False)
        token = CSRF.search(form.text) if form is not None and form.status_code == 200 else None
        if token is None:
            return None
        return self.request("POST", location, name, allow_redirects=False,
                            data={"csrf_token": token.group(1), **data})

    def change_password(self, location: str):
        """The first login of a created account asks for a new password: the account keeps it."""
        new = f"{self.account['password'].split('~')[0]}~{uuid.uuid4().hex[:8]}"
        answer = self.login_step(location, "login new password", {"new_password": new, "confirm": new})
        if answer is not None and answer.status_code == 302:
            self.account["password"] = new
        return answer

    def second_factor(self, location: str):
        return self.login_step(location, "login code", {"code": pyotp.TOTP(self.account["totp"]).now()})

    def page(self, path: str, name: str):
        answer = self.request("GET", path, name, allow_redirects=False)
        if answer is not None and answer.status_code == 302 and "/login" in answer.headers.get("Location", ""):
            self.login()
            return None
        return answer

    @task(3)
    def inbox(self):
        answer = self.page("/", "inbox")
        if answer is not None and answer.status_code == 200:
            self.referrals = REFERRAL_LINK.findall(answer.text) or self.referrals

    @task(6)
    def work_a_referral(self):
        if not self.referrals:
            return self.inbox()
        referral_id = random.choice(self.referrals)
        answer = self.page(f"/referrals/{referral_id}", "referral")
        if answer is None or answer.status_code != 200:
            return None
        forms = [m for m in FORM.finditer(answer.text) if m.group(3) in STEPS]
        if forms:
            self.fire(random.choice(forms))
        notices = NOTICE_LINK.findall(answer.text)
        if notices:
            self.page(f"/notices/{random.choice(notices)}.pdf", "notice")
        if random.random() < 0.05:
            self.page(f"/referrals/{referral_id}/dossier.{random.choice(('pdf', 'zip'))}", "dossier")
        return None

    def fire(self, form):
        path, object_id, trigger = form.group(1), form.group(2), form.group(3)
        csrf, version = CSRF.search(form.group(0)), VERSION.search(form.group(0))
        if csrf is None or version is None:
            return
        token = f"drill {uuid.uuid4()}"
        data = {"csrf_token": csrf.group(1), "version": version.group(1)}
        if trigger == "accept":
            data["reason"] = token
        elif trigger == "add_note":
            data["body"] = token
        answer = self.request("POST", path, f"fire {trigger}", data=data)
        if answer is not None and answer.status_code == 200 and DONE in answer.text:
            _append(_acks, {"t": time.time(), "object_id": int(object_id), "trigger": trigger,
                            "version": int(version.group(1)), "token": token if "reason" in data or "body" in data
                            else None})

    @task(2)
    def search(self):
        self.page(f"/search?q={random.choice(SEARCH_TERMS)}", "search")
