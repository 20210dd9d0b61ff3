#!/usr/bin/python3
"""A tiny SMTP server that accepts every message and keeps nothing.

It stands in for a slow mail relay: after the DATA terminator it waits
--delay-ms (default 100 ms) before answering 250, the way a relay that scans
and forwards synchronously does. One thread per connection (socketserver),
so concurrent senders each pay the delay, not a queue of them.

    smtp_sink.py [--host 127.0.0.1] [--port 0] [--delay-ms 100] [--ready-file F]

With --port 0 it picks a free port; the ready file (written once it listens)
holds {"pid", "port"}. On SIGTERM/SIGINT it stops and prints
{"messages", "connections"} as JSON on stdout.

Speaks the subset smtplib uses: HELO/EHLO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT. Stdlib only; run with /usr/bin/python3.
"""

import argparse
import json
import os
import signal
import socketserver
import sys
import threading
import time


class Counters:
    def __init__(self):
        self._lock = threading.Lock()
        self.messages = 0
        self.connections = 0

    def add(self, messages=0, connections=0):
        with self._lock:
            self.messages += messages
            self.connections += connections


class SmtpHandler(socketserver.StreamRequestHandler):
    timeout = 30  # an idle client is dropped, not kept forever

    def reply(self, line):
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self):
        server = self.server
        server.counters.add(connections=1)
        self.reply("220 sink.waitscope.test ESMTP ready")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-sink.waitscope.test\r\n250 8BITMIME\r\n")
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 OK")
            elif verb == b"DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                while True:
                    body = self.rfile.readline(65536)
                    if not body:
                        return
                    if body in (b".\r\n", b".\n"):
                        break
                time.sleep(server.delay_s)  # the slow relay
                server.counters.add(messages=1)
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 command not implemented")


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, delay_s):
        super().__init__(address, SmtpHandler)
        self.delay_s = delay_s
        self.counters = Counters()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay-ms", type=float, default=100.0)
    ap.add_argument("--ready-file")
    args = ap.parse_args()

    sink = SmtpSink((args.host, args.port), args.delay_ms / 1000.0)
    port = sink.server_address[1]

    def stop(_signo, _frame):
        # shutdown() waits for serve_forever to return: call it off the main thread.
        threading.Thread(target=sink.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"pid": os.getpid(), "port": port}, f)
        os.replace(tmp, args.ready_file)
    sink.serve_forever(poll_interval=0.2)
    sink.server_close()
    json.dump({"messages": sink.counters.messages, "connections": sink.counters.connections},
              sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
