"""WSGI entry point for gunicorn: ``gunicorn 'casework.wsgi:app'`` (production).

Production refuses to start, with one line, without a public https address for the notices'
verification links (``CASEWORK_PUBLIC_URL``); the demo (``casework serve``) and the tests do not come here.
"""
import os
import sys

from casework import create_app
from casework.cli_support import check_database
from casework.config import public_url_problem

WORKER_BOOT_ERROR = 3  # gunicorn's code for "worker failed to boot": the master stops instead of retrying

_problem = public_url_problem(os.environ.get("CASEWORK_PUBLIC_URL"))
if _problem:
    print(f"casework: {_problem}", file=sys.stderr, flush=True)
    raise SystemExit(WORKER_BOOT_ERROR)
app = create_app({"TRUST_PROXY": True})
try:
    check_database(app)
except SystemExit as stop:
    raise SystemExit(WORKER_BOOT_ERROR) from stop
