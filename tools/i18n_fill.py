"""Developer tool: merge a {English: Chinese} JSON table into the zh catalogue.

    pybabel extract -F babel.cfg -k _l -k lazy_gettext -o casework/translations/messages.pot .
    pybabel update -i casework/translations/messages.pot -d casework/translations
    python tools/i18n_fill.py tools/zh.json
"""
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "casework/translations/zh/LC_MESSAGES/messages.po"


def main(table_path: str) -> int:
    table = json.loads(Path(table_path).read_text(encoding="utf-8"))
    with PO.open("rb") as fh:
        catalogue = read_po(fh, locale="zh")
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in table:
            message.string = table[key]
            message.flags.discard("fuzzy")
        elif not message.string:
            missing.append(key)
    with PO.open("wb") as fh:
        write_po(fh, catalogue, width=100)
    for key in missing:
        print(f"untranslated: {key}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
