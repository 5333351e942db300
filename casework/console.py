"""The ``casework`` console script: a Flask command group around ``create_app()``."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup

from casework import create_app


def _create_app(*_args, **_kwargs):
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """Casework: the shared desk for the joint disposal of course-brushing services."""
