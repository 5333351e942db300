"""Fonts for notices: the family chain, a pre-subset common-character font, glyph coverage.

WeasyPrint subsets every embedded font on every render; a full CJK font (65,000 glyphs) makes
that the slowest step. We cut Noto Serif CJK SC once, with HarfBuzz-subset, down to the
characters in common use (GB 2312 + ASCII + punctuation), cache the result in the instance
folder, and put it in the chain before the full fonts, which stay as the fallback for rare
characters in names and companies.
"""
from __future__ import annotations

import ctypes
import hashlib
import io
import logging
import os
import subprocess
import threading
from functools import lru_cache
from pathlib import Path

log = logging.getLogger("casework.notices")

COMMON_FAMILY = "Casework Serif Common"
# GB/T 9704: title 方正小标宋简体, body 仿宋_GB2312, first-level headings 黑体 (licensed fonts, first when installed).
LICENSED_TITLE = ['"方正小标宋简体"', '"FZXiaoBiaoSong-B05S"']
LICENSED_BODY = ['"仿宋_GB2312"', '"FangSong_GB2312"', '"FangSong"', '"STFangsong"']
LICENSED_HEADING = ['"黑体"', '"SimHei"']
# Free FangSong-style faces (Debian texlive-lang-chinese: FandolFang): when present they win for the body over
# the Song-style common font, which stays the fast path for everything else.
FREE_FANGSONG = ['"FandolFang"']
FREE_FALLBACKS = ['"Noto Serif CJK SC"', '"Noto Sans CJK SC"', '"Noto Sans CJK TC"', '"DejaVu Serif"', "serif"]
CHAIN_NAMES = ["方正小标宋简体", "FZXiaoBiaoSong-B05S", "仿宋_GB2312", "FangSong_GB2312", "FangSong", "STFangsong",
               "黑体", "SimHei", "FandolFang", "Noto Serif CJK SC", "Noto Sans CJK SC", "Noto Sans CJK TC"]
SOURCES = {400: "Noto Serif CJK SC:style=Regular", 700: "Noto Serif CJK SC:style=Bold"}

_lock = threading.Lock()


def title_chain() -> str:
    return ", ".join(LICENSED_TITLE + [f'"{COMMON_FAMILY}"'] + FREE_FALLBACKS)


def body_chain() -> str:
    """仿宋_GB2312, then a free FangSong face when installed, then the common font and the full fonts."""
    return ", ".join(LICENSED_BODY + FREE_FANGSONG + [f'"{COMMON_FAMILY}"'] + FREE_FALLBACKS)


def heading_chain() -> str:
    """黑体 for first-level headings (一、二、…), else a sans-serif CJK face."""
    return ", ".join(LICENSED_HEADING + ['"Noto Sans CJK SC"', f'"{COMMON_FAMILY}"'] + FREE_FALLBACKS)


def common_characters() -> list[int]:
    """ASCII, CJK and full-width punctuation, and every character of GB 2312, sorted."""
    chars = set(range(0x20, 0x7F)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFF60))
    chars |= {0xA0, 0xB7, 0xD7, 0x2014, 0x2015, 0x2018, 0x2019, 0x201C, 0x201D, 0x2026, 0x2116}
    chars |= set(range(0x2460, 0x2474))
    for first in range(0xA1, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([first, second]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return sorted(chars)


@lru_cache(maxsize=64)
def fc_match_file(pattern: str) -> tuple[str, int] | None:
    """The file and face index fontconfig finds for ``pattern`` (None when nothing fits)."""
    try:
        out = subprocess.run(["fc-match", "--format=%{file}|%{index}|%{family}", pattern],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, index, family = (out.split("|") + ["", "", ""])[:3]
    wanted = pattern.split(":")[0]
    if not path or wanted.lower() not in family.lower():
        return None
    return path, int(index or 0)


@lru_cache(maxsize=1)
def installed_families() -> tuple[str, ...]:
    """Every family name fontconfig lists, lower-cased (one ``fc-list`` call)."""
    try:
        out = subprocess.run(["fc-list", "--format=%{family}\n"], capture_output=True, text=True, timeout=10,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(name.strip().lower() for line in out.splitlines() for name in line.split(","))


def installed_chain_files() -> list[tuple[str, int]]:
    """Font files of the chain's families that are installed, in chain order, without duplicates
    (``fc-match`` asked only for the families ``fc-list`` shows: the licensed ones are often absent)."""
    found = []
    families = installed_families()
    for name in CHAIN_NAMES:
        if not any(name.lower() in family for family in families):
            continue
        match = fc_match_file(name)
        if match and match not in found:
            found.append(match)
    return found


def _hb():
    from cffi import FFI  # cffi and its C parser load only when a font is subset, not at start-up

    ffi = FFI()
    ffi.cdef("""
        typedef struct hb_blob_t hb_blob_t; typedef struct hb_face_t hb_face_t;
        typedef struct hb_set_t hb_set_t; typedef struct hb_subset_input_t hb_subset_input_t;
        typedef uint32_t hb_codepoint_t;
        hb_blob_t *hb_blob_create_from_file_or_fail(const char *file_name);
        void hb_blob_destroy(hb_blob_t *blob);
        const char *hb_blob_get_data(hb_blob_t *blob, unsigned int *length);
        hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
        void hb_face_destroy(hb_face_t *face);
        hb_blob_t *hb_face_reference_blob(hb_face_t *face);
        void hb_set_add(hb_set_t *set, hb_codepoint_t codepoint);
        hb_subset_input_t *hb_subset_input_create_or_fail(void);
        void hb_subset_input_destroy(hb_subset_input_t *input);
        hb_set_t *hb_subset_input_unicode_set(hb_subset_input_t *input);
        hb_face_t *hb_subset_or_fail(hb_face_t *source, const hb_subset_input_t *input);
    """)
    return ffi, ffi.dlopen("libharfbuzz.so.0"), ffi.dlopen("libharfbuzz-subset.so.0")


def harfbuzz_subset_available() -> bool:
    """Whether HarfBuzz and HarfBuzz-subset load (with ctypes: the C declarations of ``_hb`` take
    cffi's parser a tenth of a second, paid only when a font is subset)."""
    try:
        ctypes.CDLL("libharfbuzz.so.0")
        return hasattr(ctypes.CDLL("libharfbuzz-subset.so.0"), "hb_subset_or_fail")
    except OSError:
        return False


def subset_with_harfbuzz(path: str, index: int, codepoints: list[int]) -> bytes:
    ffi, hb, hbs = _hb()
    blob = hb.hb_blob_create_from_file_or_fail(path.encode())
    if blob == ffi.NULL:
        raise OSError(f"cannot read font {path}")
    face = hb.hb_face_create(blob, index)
    subset_input = hbs.hb_subset_input_create_or_fail()
    try:
        unicodes = hbs.hb_subset_input_unicode_set(subset_input)
        for codepoint in codepoints:
            hb.hb_set_add(unicodes, codepoint)
        result = hbs.hb_subset_or_fail(face, subset_input)
        if result == ffi.NULL:
            raise OSError(f"HarfBuzz could not subset {path}")
        out_blob = hb.hb_face_reference_blob(result)
        length = ffi.new("unsigned int *")
        data = bytes(ffi.buffer(hb.hb_blob_get_data(out_blob, length), length[0]))
        hb.hb_blob_destroy(out_blob)
        hb.hb_face_destroy(result)
        return data
    finally:
        hbs.hb_subset_input_destroy(subset_input)
        hb.hb_face_destroy(face)
        hb.hb_blob_destroy(blob)


def _rename(font_bytes: bytes, family: str, weight: int) -> bytes:
    from fontTools.ttLib import TTFont  # fontTools loads only when the common font is built

    font = TTFont(io.BytesIO(font_bytes), lazy=True)
    style = "Bold" if weight >= 700 else "Regular"
    names = {1: family, 2: style, 4: f"{family} {style}", 6: f"CaseworkSerifCommon-{style}",
             16: family, 17: style}
    table = font["name"]
    table.names = [r for r in table.names if r.nameID not in names]
    for name_id, value in names.items():
        table.setName(value, name_id, 3, 1, 0x409)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


_built: dict[Path, dict[int, Path]] = {}


def common_font_files(cache_dir: Path) -> dict[int, Path]:
    """{weight: path} of the cached common-character fonts; built on first use (about a second).

    When they cannot be built (no HarfBuzz-subset, no Noto Serif CJK, folder not writable) the
    chain falls back to the full fonts: slower, but every character still prints."""
    with _lock:
        if cache_dir in _built and all(path.exists() for path in _built[cache_dir].values()):
            return _built[cache_dir]
        found = {}
        for weight, pattern in SOURCES.items():
            source = fc_match_file(pattern)
            if source is None or not harfbuzz_subset_available():
                continue
            try:
                found[weight] = _cached_subset(cache_dir, source, weight)
            except OSError as exc:
                log.warning("notices: cannot build the common-character font in %s (%s); "
                            "using the full CJK fonts", cache_dir, exc)
        _built[cache_dir] = found
        return found


def _cached_subset(cache_dir: Path, source: tuple[str, int], weight: int) -> Path:
    stat = Path(source[0]).stat()
    key = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}|v1".encode()).hexdigest()[:16]
    target = cache_dir / f"casework-common-{weight}-{key}.otf"
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        data = _rename(subset_with_harfbuzz(source[0], source[1], common_characters()), COMMON_FAMILY, weight)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)
        log.info("built notice font %s (%d bytes)", target.name, len(data))
    return target


@lru_cache(maxsize=1)
def covered_codepoints() -> frozenset[int]:
    """Every character some installed font of the chain can draw."""
    from fontTools.ttLib import TTFont  # fontTools loads only when a notice's characters are checked

    covered: set[int] = set()
    for path, index in installed_chain_files():
        try:
            font = TTFont(path, fontNumber=index, lazy=True)
            covered |= set(font.getBestCmap() or {})
        except Exception as exc:  # an unreadable font only shrinks coverage
            log.warning("cannot read the character map of %s: %s", path, exc)
    return frozenset(covered)


def missing_characters(text: str) -> list[str]:
    """Characters of ``text`` that no installed CJK font of the chain can draw."""
    covered = covered_codepoints()
    return sorted({ch for ch in text if ord(ch) > 0x7F and not ch.isspace() and ord(ch) not in covered})
