"""Start-up check: notices need a CJK font and HarfBuzz-subset, or they print boxes or crawl."""
from __future__ import annotations

import logging

from flask import Flask

from casework.notices import fonts

log = logging.getLogger("casework.notices")
INSTALL_HINT = "install the Debian packages libpango-1.0-0 libharfbuzz-subset0 fonts-noto-cjk"


def notice_environment_problems() -> list[str]:
    """What is missing for rendering notices quickly and completely (empty when all is well)."""
    problems = []
    if not fonts.installed_chain_files():
        problems.append("no CJK font of the notice font chain is installed (Chinese text would print as boxes)")
    if not fonts.harfbuzz_subset_available():
        problems.append("HarfBuzz-subset is missing (WeasyPrint falls back to fontTools: ~10 s per CJK page)")
    return problems


def check_notice_environment(app: Flask) -> list[str]:
    """Log one clear warning per problem at start-up; returns the problems."""
    problems = notice_environment_problems()
    for problem in problems:
        message = f"notices: {problem}; {INSTALL_HINT}"
        app.logger.warning(message)
        log.warning(message)
    app.extensions["casework_notice_problems"] = problems
    return problems
