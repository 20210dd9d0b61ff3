#!/usr/bin/python3
"""A minimal OTLP/HTTP (binary protobuf) and Pyroscope /ingest receiver for tests.

It decodes request bodies with python3-protobuf and classes that `protoc
--python_out` generated from the vendored official opentelemetry-proto files
(third_party/opentelemetry-proto), so our C++ encoder is checked by an
independent runtime. Every request is appended as one JSON line to --out:
  {"path", "query", "headers", "received_unix_ns", "body_bytes", "request"}
  request = MessageToDict of the body, received_unix_ns = arrival time (to
  tell when late data was delivered), body_bytes = size on the wire; over
  HTTPS also "tls": {"version", "client_cn"}
(for /ingest: "profile_bytes" and "profile_gzip" instead of "request").

Usage: receiver.py --gen-dir DIR --out FILE --port-file FILE [--port N]
                   [--tls-cert FILE --tls-key FILE [--client-ca FILE]]
The listening port is written to --port-file once the socket is bound.
With --tls-cert/--tls-key it serves HTTPS; --client-ca then also requires a
client certificate that this PEM file (a CA, or the self-signed client
certificate itself) verifies. A failed TLS handshake is appended as
  {"path": null, "tls_error": "<ssl module's message>"}
so a test can tell the server refused a client from one that never came.
"""
import argparse
import gzip
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def load_classes(gen_dir):
    sys.path.insert(0, gen_dir)
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    return {
        "/v1/metrics": (metrics_service_pb2.ExportMetricsServiceRequest,
                        metrics_service_pb2.ExportMetricsServiceResponse),
        "/v1/logs": (logs_service_pb2.ExportLogsServiceRequest,
                     logs_service_pb2.ExportLogsServiceResponse),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gen-dir", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--client-ca")
    args = parser.parse_args()
    if bool(args.tls_cert) != bool(args.tls_key) or (args.client_ca and not args.tls_cert):
        parser.error("--tls-cert and --tls-key go together; --client-ca needs them")
    from google.protobuf import json_format
    classes = load_classes(args.gen_dir)
    out = open(args.out, "a", encoding="utf-8")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *unused):
            pass

        def reply(self, status, body=b"", content_type="application/x-protobuf"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received_unix_ns = time.time_ns()
            body_bytes = len(body)
            if self.headers.get("Content-Encoding", "") == "gzip":
                body = gzip.decompress(body)
            record = {
                "path": url.path,
                "query": dict(urllib.parse.parse_qsl(url.query)),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "received_unix_ns": received_unix_ns,
                "body_bytes": body_bytes,
            }
            if isinstance(self.connection, ssl.SSLSocket):
                peer = self.connection.getpeercert() or {}
                record["tls"] = {
                    "version": self.connection.version(),
                    # commonName of a verified client certificate, or None
                    "client_cn": next((v for rdn in peer.get("subject", ()) for k, v in rdn
                                       if k == "commonName"), None),
                }
            if url.path in classes:
                request_class, response_class = classes[url.path]
                message = request_class()
                try:
                    message.ParseFromString(body)
                except Exception as error:  # a body our decoder refuses is a test failure
                    record["decode_error"] = str(error)
                    self.write(record)
                    self.reply(400, content_type="text/plain")
                    return
                record["request"] = json_format.MessageToDict(message)
                self.write(record)
                self.reply(200, response_class().SerializeToString())
            elif url.path == "/ingest":
                record["profile_bytes"] = len(body)
                record["profile_gzip"] = body[:2] == b"\x1f\x8b"
                self.write(record)
                self.reply(200, b"", "text/plain")
            else:
                self.reply(404, b"", "text/plain")

        def write(self, record):
            write_record(record)

    write_lock = threading.Lock()  # handler threads and TLS handshake failures share --out

    def write_record(record):
        with write_lock:
            out.write(json.dumps(record) + "\n")
            out.flush()

    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(args.client_ca)

    class Server(ThreadingHTTPServer):
        allow_reuse_address = True

        def finish_request(self, request, client_address):
            if context is None:
                super().finish_request(request, client_address)
                return
            # The handshake runs here, on the connection's own thread, so a
            # client that stalls or fails it never blocks accept().
            try:
                tls = context.wrap_socket(request, server_side=True)
            except OSError as error:  # ssl.SSLError included
                write_record({"path": None, "tls_error": str(error)})
                return
            with tls:  # wrap_socket detached `request`; closing it is up to us
                super().finish_request(tls, client_address)

    server = Server(("127.0.0.1", args.port), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
