"""WSGI entry point for gunicorn: ``gunicorn 'casework.wsgi:app'``."""
from casework import create_app
from casework.cli import check_database

WORKER_BOOT_ERROR = 3  # gunicorn's code for "worker failed to boot": the master stops instead of retrying

app = create_app({"TRUST_PROXY": True})
try:
    check_database(app)
except SystemExit as stop:
    raise SystemExit(WORKER_BOOT_ERROR) from stop
