"""A real SMTP server in-process (aiosmtpd on 127.0.0.1) whose answers a test scripts."""
from __future__ import annotations

import email
import socket
from contextlib import contextmanager
from email.policy import default

from aiosmtpd.controller import Controller


class ScriptedHandler:
    """Accepts every message, unless ``answers`` (consumed one per message) says otherwise."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        if self.answers:
            answer = self.answers.pop(0)
            if not answer.startswith("250"):
                return answer
        self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_sink(answers=()):
    handler = ScriptedHandler(answers)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()
