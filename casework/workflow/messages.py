"""Messages of the workflow engine (``casework.text._``: the user's language in a request)."""
from casework.text import _  # noqa: F401
