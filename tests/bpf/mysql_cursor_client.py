"""A MySQL/MariaDB client speaking the wire protocol itself, for what the
Python drivers do not do: COM_STMT_EXECUTE with a read-only cursor, whose
rows the client then asks for with COM_STMT_FETCH (JDBC's useCursorFetch,
Connector/C's STMT_ATTR_CURSOR_TYPE).

    mysql_cursor_client.py HOST PORT USER PASSWORD DATABASE [--deprecate-eof]

Logs in over TCP (mysql_native_password), prepares a SELECT of 25 rows,
executes it with a cursor and fetches 10 rows at a time until the server
says the last row was sent (3 fetches, 25 rows); executes it again and
closes the statement after one fetch of 10 rows; then executes a second
statement with a cursor that is empty. With --deprecate-eof it negotiates
CLIENT_DEPRECATE_EOF (no EOF packets; result sets end with an OK packet).
Prints one line per step and exits non-zero if the server answers
otherwise."""
import hashlib
import socket
import struct
import sys

CLIENT_LONG_PASSWORD = 0x1
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
CLIENT_DEPRECATE_EOF = 0x1000000

COM_QUIT = 0x01
COM_STMT_PREPARE = 0x16
COM_STMT_EXECUTE = 0x17
COM_STMT_CLOSE = 0x19
COM_STMT_FETCH = 0x1C
CURSOR_TYPE_READ_ONLY = 0x1
MYSQL_TYPE_LONGLONG = 0x08

SERVER_STATUS_CURSOR_EXISTS = 0x40
SERVER_STATUS_LAST_ROW_SENT = 0x80


def fail(what):
    raise SystemExit(f"mysql_cursor_client: {what}")


def native_password(password, scramble):
    stage1 = hashlib.sha1(password.encode()).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(scramble + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix))


def cstr(text):
    return text.encode() + b"\0"


class Conn:
    def __init__(self, host, port, deprecate_eof):
        self.sock = socket.create_connection((host, port))
        self.buf = b""
        self.deprecate_eof = deprecate_eof

    def packet(self):
        """The next packet's payload (packets of 16 MiB - 1 are not joined:
        nothing here is that large)."""
        while len(self.buf) < 4 or len(self.buf) < 4 + int.from_bytes(self.buf[:3], "little"):
            chunk = self.sock.recv(65536)
            if not chunk:
                fail("server closed the connection")
            self.buf += chunk
        n = int.from_bytes(self.buf[:3], "little")
        payload, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
        if payload[:1] == b"\xff":
            code = struct.unpack("<H", payload[1:3])[0]
            fail(f"server error {code}: {payload[9:].decode(errors='replace')}")
        return payload

    def send(self, payload, seq=0):
        self.sock.sendall(len(payload).to_bytes(3, "little") + bytes([seq]) + payload)

    def login(self, user, password, database):
        hello = self.packet()
        if hello[0] != 10:
            fail("not a v10 handshake")
        at = hello.index(b"\0", 1) + 1 + 4  # server version, connection id
        scramble = hello[at:at + 8]
        at += 8 + 1 + 2 + 1 + 2 + 2  # filler, caps, charset, status, caps
        auth_len = hello[at]
        at += 1 + 10
        scramble += hello[at:at + max(13, auth_len - 8) - 1]
        caps = (CLIENT_LONG_PASSWORD | CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41
                | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH)
        if self.deprecate_eof:
            caps |= CLIENT_DEPRECATE_EOF
        token = native_password(password, scramble)
        self.send(struct.pack("<IIB", caps, 1 << 24, 45) + bytes(23) + cstr(user)
                  + bytes([len(token)]) + token + cstr(database) + cstr("mysql_native_password"),
                  seq=1)
        reply = self.packet()
        if reply[:1] == b"\xfe":  # auth switch: answer the new plugin's scramble
            plugin, _, data = reply[1:].partition(b"\0")
            if plugin != b"mysql_native_password":
                fail(f"unexpected auth plugin {plugin!r}")
            self.send(native_password(password, data.rstrip(b"\0")), seq=3)
            reply = self.packet()
        if reply[:1] != b"\x00":
            fail(f"login not accepted: {reply[:1]!r}")

    def end_of_rows(self, p):
        """The packet ending a result set's rows (EOF, or OK under
        DEPRECATE_EOF): its status flags, else None (a row)."""
        if p[:1] == b"\xfe" and len(p) < 0xFFFFFF:
            if len(p) == 5:
                return struct.unpack("<H", p[3:5])[0]
            return lenenc_skip_status(p)
        return None

    def skip_eof(self):
        if not self.deprecate_eof:
            p = self.packet()
            if p[:1] != b"\xfe":
                fail("expected an EOF packet")
            return struct.unpack("<H", p[3:5])[0]
        return None

    def prepare(self, sql):
        self.send(bytes([COM_STMT_PREPARE]) + sql.encode())
        ok = self.packet()
        stmt_id, columns, params = struct.unpack("<IHH", ok[1:9])
        for _ in range(params):
            self.packet()
        if params:
            self.skip_eof()
        for _ in range(columns):
            self.packet()
        if columns:
            self.skip_eof()
        return stmt_id, params

    def execute_cursor(self, stmt_id, values):
        """COM_STMT_EXECUTE with a read-only cursor; returns the status of
        the response that ends the metadata."""
        body = struct.pack("<BIBI", COM_STMT_EXECUTE, stmt_id, CURSOR_TYPE_READ_ONLY, 1)
        if values:
            body += bytes((len(values) + 7) // 8) + b"\x01"
            body += struct.pack("<H", MYSQL_TYPE_LONGLONG) * len(values)
            body += b"".join(struct.pack("<q", v) for v in values)
        self.send(body)
        head = self.packet()
        if head[:1] == b"\x00":  # OK: no result set (and no cursor)
            return lenenc_skip_status(head)
        columns = head[0]
        for _ in range(columns):
            self.packet()
        if self.deprecate_eof:
            # No EOF after the definitions: the server says "cursor opened"
            # with an OK-like packet (0xFE header) instead.
            status = self.end_of_rows(self.packet())
            if status is None:
                fail("expected the end of the metadata")
            return status
        return self.skip_eof()

    def fetch(self, stmt_id, n):
        """COM_STMT_FETCH of up to n rows: (rows, status)."""
        self.send(struct.pack("<BII", COM_STMT_FETCH, stmt_id, n))
        rows = 0
        while True:
            p = self.packet()
            status = self.end_of_rows(p)
            if status is not None:
                return rows, status
            rows += 1

    def close_statement(self, stmt_id):
        self.send(struct.pack("<BI", COM_STMT_CLOSE, stmt_id))  # no response


def lenenc_skip_status(p):
    """Status flags of an OK packet (header 0x00 or 0xFE)."""
    at = 1
    for _ in range(2):  # affected rows, last insert id
        first = p[at]
        at += 1 + {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first, 0)
    return struct.unpack("<H", p[at:at + 2])[0]


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 5:
        fail(__doc__)
    host, port, user, password, database = args
    conn = Conn(host, int(port), "--deprecate-eof" in sys.argv)
    conn.login(user, password, database)

    stmt, params = conn.prepare("SELECT seq FROM seq_1_to_25 WHERE seq > ?")
    status = conn.execute_cursor(stmt, [0] * params)
    if not status & SERVER_STATUS_CURSOR_EXISTS:
        fail(f"no cursor opened (status {status:#x})")
    fetched = []
    while True:
        rows, status = conn.fetch(stmt, 10)
        fetched.append(rows)
        if status & SERVER_STATUS_LAST_ROW_SENT:
            break
    print(f"cursor run 1: fetches {fetched}, {sum(fetched)} rows")
    if sum(fetched) != 25:
        fail("expected 25 rows")

    status = conn.execute_cursor(stmt, [0] * params)
    rows, status = conn.fetch(stmt, 10)
    print(f"cursor run 2: {rows} rows, then closed")
    if rows != 10 or status & SERVER_STATUS_LAST_ROW_SENT:
        fail("expected 10 rows and more to come")
    conn.close_statement(stmt)

    stmt, params = conn.prepare("SELECT seq FROM seq_1_to_25 WHERE seq > ? + 100")
    status = conn.execute_cursor(stmt, [0] * params)
    print(f"empty cursor: status {status:#x}")
    if status & SERVER_STATUS_CURSOR_EXISTS:
        rows, status = conn.fetch(stmt, 10)
        print(f"empty cursor: fetched {rows} rows")
    conn.send(bytes([COM_QUIT]))


if __name__ == "__main__":
    main()
