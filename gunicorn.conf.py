"""Gunicorn settings for Casework: ``gunicorn -c gunicorn.conf.py`` (behind a TLS reverse proxy).

Sync workers, because their timeout really stops a stuck request: a sync worker reports to the
master only between requests, so one busy past ``timeout`` seconds is stopped (SIGABRT: the request
is rolled back and answered 503 with Retry-After; SIGKILL if it does not end) and replaced. A gthread worker's heartbeat comes from its main thread, which keeps beating while a
request thread hangs, so its timeout never fires for a busy request. Heavy work refuses itself
earlier (the dossier's time budget, 20 s by default, ``casework/notices/dossier.py``), so the timeout
is the last resort. Slow clients are the reverse proxy's job (it buffers requests and responses).

Environment: ``CASEWORK_BIND`` (default 127.0.0.1:8000), ``CASEWORK_WORKERS`` (default 2 × cores + 1),
``CASEWORK_REQUEST_TIMEOUT`` (seconds, default 30).
"""
import multiprocessing
import os
import sys

from gunicorn.workers.sync import SyncWorker

from casework.extensions import db

RETRY_AFTER_SECONDS = 3
TIMED_OUT_BODY = ("处理时间过长，请求已停止，本次操作未保存。请稍后重试。\n"
                  "The request took too long and was stopped; nothing was saved. Try again later.\n").encode()


class StoppingSyncWorker(SyncWorker):
    """A sync worker whose request stopped by the timeout is answered 503 with Retry-After (gunicorn's
    own answer is a 500). The transaction was rolled back: the stop raised inside the unit of work."""

    def handle_error(self, req, client, addr, exc):
        if not (isinstance(exc, SystemExit) and not self.alive):
            return super().handle_error(req, client, addr, exc)
        head = (f"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: {RETRY_AFTER_SECONDS}\r\n"
                f"Content-Type: text/plain; charset=utf-8\r\nContent-Length: {len(TIMED_OUT_BODY)}\r\n\r\n")
        try:
            client.sendall(head.encode() + TIMED_OUT_BODY)
        except OSError:
            pass
        return None

wsgi_app = "casework.wsgi:app"
bind = os.environ.get("CASEWORK_BIND", "127.0.0.1:8000")
worker_class = StoppingSyncWorker
workers = int(os.environ.get("CASEWORK_WORKERS", 2 * multiprocessing.cpu_count() + 1))
timeout = int(os.environ.get("CASEWORK_REQUEST_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 2
# Recycle workers now and then (memory held by PDF rendering), not all at once.
max_requests = 2000
max_requests_jitter = 200
# The app is loaded once in the master: a database that cannot be reached stops the start with one
# line (``casework/wsgi.py``) instead of one per worker. Each worker drops the connections inherited
# from the master (``post_fork``) and opens its own.
preload_app = True
# Two instances on one host (the load drill's two nodes) would share the default control socket path.
control_socket_disable = True
accesslog = os.environ.get("CASEWORK_ACCESS_LOG", "-")
access_log_format = '%(t)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def worker_abort(worker):
    """Log which worker the timeout stopped (the master then starts a new one)."""
    worker.log.error("worker %s stopped: a request ran past the %ss timeout", worker.pid, timeout)


def post_fork(_server, _worker):
    """Forget the pooled connections the master opened (they stay open for the master)."""
    wsgi = sys.modules.get("casework.wsgi")  # loaded in the master when the app served is Casework
    if wsgi is not None:
        with wsgi.app.app_context():
            db.engine.dispose(close=False)
