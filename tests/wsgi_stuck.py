"""A WSGI app with a request that never ends, served by gunicorn in tests/test_gunicorn_timeout.py."""
import os
import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/stuck":
        time.sleep(600)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]
