#!/usr/bin/python3
"""A real SMTP server for the notification tests (Debian's python3-aiosmtpd).

Receives mail on 127.0.0.1:<port> and appends one JSON line per message to <out>, decoded
by Python's own email parser (an independent check of Ordo's MIME and RFC 2047 encoding):
envelope, headers, subject, the text and HTML parts. It can misbehave:
  --fail-first N     answer the first N messages "451 try again later"
  --reject PATTERN   answer "550 no such mailbox" for recipients containing PATTERN
Prints "ready <port>" on stdout when it listens (port 0: any free port).
"""
import argparse
import email
import email.policy
import json
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, fail_first, reject):
        self.out = out
        self.fail_left = fail_first
        self.reject = reject
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject in address:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.fail_left > 0:
                self.fail_left -= 1
                return "451 4.3.0 try again later"
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "message_id": str(msg["Message-ID"]),
            "date": str(msg["Date"]),
            "mime_version": str(msg["MIME-Version"]),
            "content_type": msg.get_content_type(),
            "content_language": str(msg.get("Content-Language", "")),
            "text_charset": text.get_content_charset() if text else None,
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
            "raw_ascii": all(b < 128 for b in envelope.content),
            "received": time.time(),
        }
        with self.lock:
            with open(self.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 2.0.0 queued"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--reject", default="")
    args = ap.parse_args()
    import socket
    port = args.port
    if port == 0:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    controller = Controller(Sink(args.out, args.fail_first, args.reject),
                            hostname="127.0.0.1", port=port, decode_data=False,
                            data_size_limit=10 * 1024 * 1024)
    controller.start()
    print("ready", port, flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or dies)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
