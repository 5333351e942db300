"""Evidence sizes and kinds as people read them."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from casework.evidence.display import file_kind, file_size


@pytest.mark.parametrize("size, text", [(None, "—"), (0, "0 B"), (25, "25 B"), (1023, "1023 B"), (1024, "1.0 KB"),
                                        (3_500, "3.4 KB"), (12 * 1048576, "12.0 MB")])
def test_sizes(size, text):
    assert file_size(size) == text


@pytest.mark.parametrize("content_type, text", [
    ("text/plain; charset=utf-8", "文本 (plain)"), ("image/png", "图片 (png)"), ("application/pdf", "PDF"), ("application/har+json", "HAR"),
    ("application/vnd.ms-excel", "application/vnd.ms-excel"), (None, "—"),
])
def test_kinds_in_chinese(app, content_type, text):
    with app.test_request_context(), force_locale("zh"):
        assert str(file_kind(content_type)) == text
