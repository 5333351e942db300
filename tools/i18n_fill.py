"""Developer tool: merge {English: Chinese} JSON tables into the zh catalogue.

    pybabel extract -F babel.cfg -k _l -k lazy_gettext -o casework/translations/messages.pot .
    pybabel update -i casework/translations/messages.pot -d casework/translations
    python tools/i18n_fill.py            # tools/zh.json plus every tools/zh-<area>.json

Later files do not override tools/zh.json (the UI catalogue is the reference); a msgid
translated differently in two files is reported. Exits 1 when a msgid stays untranslated.
"""
import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "casework/translations/zh/LC_MESSAGES/messages.po"


def table_paths(args: list[str]) -> list[Path]:
    if args:
        return [Path(a) for a in args]
    return [ROOT / "tools/zh.json", *sorted((ROOT / "tools").glob("zh-*.json"))]


def merged_table(paths: list[Path]) -> tuple[dict[str, str], list[str]]:
    table: dict[str, str] = {}
    clashes = []
    for path in paths:
        for key, value in json.loads(path.read_text(encoding="utf-8")).items():
            if key in table and table[key] != value:
                clashes.append(f"{path.name}: {key!r} is {value!r}, kept {table[key]!r}")
                continue
            table[key] = value
    return table, clashes


def main(args: list[str]) -> int:
    table, clashes = merged_table(table_paths(args))
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
        elif not message.string or "fuzzy" in message.flags:
            missing.append(key)  # a fuzzy guess of ``pybabel update`` is not shown to anyone
    with PO.open("wb") as fh:
        write_po(fh, catalogue, width=100, omit_header=False)
    for line in clashes:
        print(f"clash: {line}")
    for key in missing:
        print(f"untranslated: {key}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
