"""Who may see and do what, in one place.

- ``scope``: the agency scope as WHERE clauses (what a user may see at all);
- ``loaders``: objects loaded within that scope, 404 outside it;
- ``rules``: every "may this user do X to this object" rule as a named predicate, used alike by
  views, templates (through the page objects), services and the API.
"""
