"""The ``casework`` console script: a Flask command group around ``create_app()``."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup

from casework import create_app
from casework.audit.keys import AuditKeyError
from casework.cli_support import fail


def _create_app(*_args, **_kwargs):
    try:
        return create_app()
    except AuditKeyError as error:  # a missing or malformed audit key ring: one line, not a traceback
        fail(str(error))


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Casework: the shared desk for the joint disposal of course-brushing services."""
