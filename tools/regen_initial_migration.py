"""Developer tool, for use until the first release: rebuild migrations/versions/0001 from the models.

Nothing is deployed yet, so the schema is one revision. Run this after changing a model:
    python tools/regen_initial_migration.py
After the first release, add ordinary Alembic revisions instead.
"""
import re
import tempfile
from pathlib import Path

from alembic import command

ROOT = Path(__file__).resolve().parent.parent
REVISION = ROOT / "migrations/versions/0001_initial_schema.py"


def main() -> None:
    from casework import create_app
    from casework.migrate import alembic_config

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/empty.sqlite",
                          "SECRET_KEY": "regen"})
        with app.app_context():
            REVISION.unlink(missing_ok=True)
            command.revision(alembic_config(app), message="initial schema", autogenerate=True,
                             rev_id="0001")
    text = REVISION.read_text()
    text = text.replace("import casework.db_types\n",
                        "import casework.db_types\nfrom casework.audit.ddl import install_append_only\n", 1)
    text = re.sub(r"(def upgrade\(\) -> None:\n(?:.*\n)*?)(\n\ndef downgrade)",
                  lambda m: m.group(1) + "    install_append_only(op.get_bind())\n" + m.group(2),
                  text, count=1)
    REVISION.write_text(text)
    print(f"rewrote {REVISION.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
