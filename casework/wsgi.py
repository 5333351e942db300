"""WSGI entry point for gunicorn: ``gunicorn 'casework.wsgi:app'``."""
from casework import create_app
from casework.cli import check_database

app = create_app({"TRUST_PROXY": True})
check_database(app)
