"""Notifications: in the browser (the bell) and by e-mail through ``casework worker``."""
