"""The fuzzer (issue 14, item 5): every route of ``app.url_map`` with generated bad input — query
arguments, form fields, JSON bodies, multipart parts and files, raw bodies, odd paths and ids — as a
user of each role and without a session. Any 5xx (or an exception, which the test client raises)
fails; so does a failing ``audit verify``, ``desk recount --check`` or ``evidence verify`` afterwards.

Bounded: ``CASEWORK_FUZZ_EXAMPLES`` requests (default 2,000) after one sweep of every route as every
user; derandomized unless ``CASEWORK_FUZZ_RANDOM=1``. Runs on SQLite and on PostgreSQL
(``CASEWORK_DATABASE_URL``) like the rest of the suite.
"""
from __future__ import annotations

import io
import json
import os
import re
from dataclasses import dataclass
from urllib.parse import quote

import flask
import pytest
from flask_wtf.csrf import generate_csrf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from casework.accounts.models import User, UserRole
from casework.assignments.models import Assignment
from casework.evidence.models import Evidence
from casework.evidence.services import attach_evidence
from casework.extensions import db
from casework.notices.models import Notice
from casework.referrals.models import Referral
from casework.targets.models import Target
from tests.conftest import PASSWORD, login
from tests.factories import (  # noqa: F401
    act, assignment_of, find_agency, new_referral, notices_switch, routed_referral,
)

EXAMPLES = int(os.environ.get("CASEWORK_FUZZ_EXAMPLES", "2000"))
RANDOM = os.environ.get("CASEWORK_FUZZ_RANDOM") == "1"
USERS = ("edu-44.intake_officer", "edu-44.assessor", "edu-44.approver", "cac-44.case_officer",
         "cac-44.approver", "psb-44.case_officer", "psb-11.case_officer", "moe.assessor",
         "fuzz.audit_admin", "fuzz.system_admin", "fuzz.security_admin", None)
ADMIN_ROLES = ("audit_admin", "system_admin", "security_admin")
CSRF_RAW_TOKEN = "fuzz-raw-csrf-token"
# Ending the session would log the other fuzzing clients of that user out: /logout takes no input.
SKIPPED_ENDPOINTS = {"static", "accounts.logout"}
NASTY = ["", " ", "\x00", "a\x00b", "\x01\x1f", "\x7f", "\u202e", "\ufeff", "😀" * 30, "x" * 5000, "0", "-1", "1.5",
         "99999999999999999999", "9" * 400, "1e308", "NaN", "Infinity", "-Infinity", "true", "null", "[]", "{}",
         "<script>alert(1)</script>", "' OR 1=1 --", "../../etc/passwd", "%00", "%s%n", "\r\n", "２０２６",
         "2026-13-45", "2026-11-26", "0000-00-00", "https://", "http://例子.中国/", "com.example.app",
         "edu-44.intake_officer", "draft", "routed", "submit", "accept", "website", "app", "other", "csv", "xlsx"]
FIELDS = ["title", "source", "summary", "region_code", "targets-0-kind", "targets-0-name", "targets-0-url",
          "targets-0-package_name", "targets-0-platform", "targets-0-account_id", "targets-1-kind",
          "targets-99999-name", "targets-0-store", "action", "version", "reason", "agencies", "agency", "conclusion",
          "severity", "behaviours", "opinion", "legal_basis", "summary", "status", "detail", "referral_id",
          "description", "target_id", "username", "password", "next", "code", "number", "target", "state",
          "overdue", "since", "until", "event", "actor", "object_type", "object_id", "outcome", "before", "page",
          "tab", "days", "kind", "url", "package_name", "platform", "account_id", "correction_note", "amount",
          "evidence_description", "shown_targets", "targets_from", "targets_total", "data", "csrf_token"]


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str
    arguments: tuple[tuple[str, str, tuple[str, ...]], ...]  # (name, converter, choices of any())


def routes(app) -> list[Route]:
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        arguments = [(name, converter, choices) for converter, choices, name in _placeholders(rule.rule)]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append(Route(rule.rule, rule.endpoint, method, tuple(arguments)))
    return found


def _placeholders(rule: str):
    for match in re.finditer(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>", rule):
        converter, args, name = match.group(1) or "default", match.group(2) or "", match.group(3)
        choices = tuple(a.strip().strip("'\"") for a in args.split(",") if a.strip()) if converter == "any" else ()
        yield converter, choices, name


@dataclass
class World:
    ids: dict[str, list[int]]
    triggers: list[str]


def make_world() -> World:
    """Objects for the ids in the paths: a draft, a routed referral with notices, evidence, targets."""
    routed = routed_referral("44", "cac-44", "psb-44")
    draft = new_referral("44", targets=2)
    act(assignment_of(routed, "cac-44"), "receive", "cac-44.case_officer")
    attach_evidence(draft, FileStorage(io.BytesIO(b"plain evidence"), "e.txt"), {}, _user("edu-44.intake_officer"))
    for role in ADMIN_ROLES:
        db.session.add(User(username=f"fuzz.{role}", display_name=role, agency=find_agency("moe"),
                            password_hash=_user("edu-44.intake_officer").password_hash,
                            role_rows=[UserRole(role=role)]))
    db.session.commit()
    ids = {
        "referral": list(db.session.scalars(select(Referral.id))),
        "assignment": list(db.session.scalars(select(Assignment.id))),
        "target": list(db.session.scalars(select(Target.id))),
        "evidence": list(db.session.scalars(select(Evidence.id))),
        "notice": list(db.session.scalars(select(Notice.id))),
        "user": list(db.session.scalars(select(User.id).limit(5))),
    }
    triggers = ["submit", "withdraw", "receive", "accept", "decline", "transfer", "return", "route", "assess",
                "start_assessment", "approve_assessment", "propose_disposition", "send_feedback", "extend", "close"]
    return World(ids, triggers)


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


# --- strategies ---

nasty_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=30))
field_names = st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=12),
                        st.integers(0, 50).map(lambda n: f"reason_{n}"),
                        st.integers(0, 50).map(lambda n: f"action_{n}"),
                        st.integers(0, 50).map(lambda n: f"outcome_{n}"))
pairs = st.lists(st.tuples(field_names, nasty_text), max_size=8)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                         st.floats(allow_nan=True, allow_infinity=True), nasty_text,
                         st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=2))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), inner,
                                             max_size=5), max_leaves=12)
json_bodies = st.one_of(
    st.fixed_dictionaries({"data": st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)},
                          optional={"version": json_scalars}),
    json_values)
files = st.lists(st.tuples(st.sampled_from(["file", "evidence", ""]), st.sampled_from(
    ["a.txt", "a.csv", "a.xlsx", "a.png", "a.pdf", "../../x.txt", "无.txt", "", "a\x01.txt", "a" * 300 + ".csv"]),
    st.one_of(st.sampled_from([b"", b"kind,name\r\nother,x\r\n", b"\x89PNG\r\n\x1a\n", b"%PDF-1.4",
                               b"PK\x03\x04broken", b"{" * 2000, "kind,name\r\n坏,\x00\r\n".encode("gbk")]),
              st.binary(max_size=200))), max_size=2)


def _segment(draw, converter: str, choices: tuple[str, ...], name: str, world: World) -> str:
    if converter == "int":
        kind = next((k for k in world.ids if name.startswith(k) or name == "ident"), "referral")
        known = world.ids[kind] or [1]
        value = draw(st.one_of(st.sampled_from(known), st.integers(0, 2 ** 66),
                               st.sampled_from(["-1", "0x1", "١", "1.0", "", "%00", "2147483648"])))
        return str(value)
    if converter == "any":
        return draw(st.one_of(st.sampled_from(choices), nasty_text))
    known = {"trigger": world.triggers, "fmt": ["csv", "xlsx", "zip", "pdf"], "code": ["zh", "en", "xx"]}.get(
        name, ["abc"])
    return draw(st.one_of(st.sampled_from(known), nasty_text, st.text(min_size=60, max_size=90)))


@st.composite
def requests(draw, route_list: list[Route], world: World):
    route = draw(st.sampled_from(route_list))
    path = route.rule
    for name, converter, choices in route.arguments:
        segment = _segment(draw, converter, choices, name, world)
        path = re.sub(rf"<[^>]*\b{name}>", quote(segment, safe="") or "x", path, count=1)
    if draw(st.integers(0, 19)) == 0:  # now and then a path of no route, or a route's path bent
        path = draw(st.sampled_from(["/", path + "/", path + "//x", "/%00", "/..%2f..", ""])) + quote(
            draw(nasty_text), safe="/")
    query = draw(pairs)
    body_kind = draw(st.sampled_from(["none", "form", "multipart", "json", "raw", "nameless"]))
    kwargs: dict = {"query_string": [(k, v) for k, v in query]}
    if body_kind == "form":
        kwargs["data"] = _multi(draw(pairs))
    elif body_kind == "multipart":
        data = _multi(draw(pairs))
        for name, filename, content in draw(files):
            data.setdefault(name or "file", []).append((io.BytesIO(content), filename))
        kwargs["data"], kwargs["content_type"] = data, "multipart/form-data"
    elif body_kind == "json":
        kwargs["data"] = json.dumps(draw(json_bodies), allow_nan=True).encode("utf-8", "surrogatepass")
        kwargs["content_type"] = draw(st.sampled_from(["application/json", "application/json; charset=utf-8",
                                                      "text/json", "application/problem+json"]))
    elif body_kind == "raw":
        kwargs["data"] = draw(st.binary(max_size=300))
        kwargs["content_type"] = draw(st.sampled_from(["multipart/form-data", "multipart/form-data; boundary=x",
                                                      "application/x-www-form-urlencoded", "application/json",
                                                      "text/plain", "application/octet-stream", ""]))
    elif body_kind == "nameless":
        kwargs["data"] = (b'--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b\r\nContent-Disposition: '
                          b'form-data; name="title"\r\n\r\n\x00\r\n--b--\r\n')
        kwargs["content_type"] = "multipart/form-data; boundary=b"
    user = draw(st.sampled_from(USERS))
    kwargs["with_token"] = draw(st.integers(0, 9)) > 0
    return route, path, kwargs, user


def _multi(items) -> dict:
    data: dict = {}
    for key, value in items:
        data.setdefault(key, []).append(value)
    return data


def _check(response, route: Route, path: str, user) -> None:
    assert response.status_code < 500, (route.method, path, user, response.status_code,
                                        response.get_data(as_text=True)[:500])


def _clients(app) -> dict:
    """A client per user, logged in, whose session holds a known CSRF token; and that token signed."""
    clients = {}
    for username in USERS:
        client = app.test_client()
        if username is not None:
            assert login(client, username, PASSWORD).status_code == 302, username
        with client.session_transaction() as session:
            session["csrf_token"] = CSRF_RAW_TOKEN
        clients[username] = client
    with app.test_request_context():
        flask.session["csrf_token"] = CSRF_RAW_TOKEN
        return clients, generate_csrf()


@pytest.fixture
def csrf_on(app):
    """CSRF protection as in production, so the fuzzer reaches it (the suite turns it off elsewhere)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


def _checks_pass(app) -> None:
    runner = app.test_cli_runner()
    for command in (["audit", "verify"], ["desk", "recount", "--check"], ["evidence", "verify"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 0, (command, result.output)


def test_every_route_answers_generated_bad_input_without_a_server_error(app, db_session, csrf_on):
    app.config["WTF_CSRF_ENABLED"] = False
    world = make_world()
    clients, token = _clients(app)
    app.config["WTF_CSRF_ENABLED"] = True
    route_list = routes(app)
    assert len({r.endpoint for r in route_list}) > 25
    for route in route_list:  # one sweep: every route as every user, with a NUL in the query and body
        for username, client in clients.items():
            path = route.rule
            for name, converter, _choices in route.arguments:
                value = str(world.ids["referral"][0]) if converter == "int" else "x\x00"
                path = re.sub(rf"<[^>]*\b{name}>", quote(value, safe=""), path, count=1)
            response = client.open(path, method=route.method, query_string={"q": "a\x00"},
                                   data={"title": "\x00"} if route.method == "POST" else None,
                                   headers={"X-CSRFToken": token})
            _check(response, route, path, username)

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=not RANDOM,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def fuzz(data):
        route, path, kwargs, user = data.draw(requests(route_list, world))
        headers = {"X-CSRFToken": token} if kwargs.pop("with_token") else {}
        response = clients[user].open(path, method=route.method, headers=headers, **kwargs)
        statuses[response.status_code // 100] = statuses.get(response.status_code // 100, 0) + 1
        endpoints.add(route.endpoint)
        _check(response, route, path, user)

    statuses: dict[int, int] = {}
    endpoints: set[str] = set()
    fuzz()
    print(f"fuzzed {sum(statuses.values())} requests over {len(endpoints)} endpoints: "
          + ", ".join(f"{k}xx {v}" for k, v in sorted(statuses.items())))
    assert statuses.get(2, 0) + statuses.get(3, 0) > 0
    _checks_pass(app)
