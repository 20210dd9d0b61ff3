"""A PostgreSQL client speaking the wire protocol itself, for what libpq
does not do: Execute with a row limit (JDBC's fetch size, asyncpg's
cursors), answered by PortalSuspended until the portal's last rows.

    pg_portal_client.py SOCKET_PATH DATABASE

Connects over the server's UNIX socket as `postgres` (trust auth) and runs
a portal of 25 rows fetched 10 at a time with one Sync each inside a
transaction, then one of 25 rows fetched in three pipelined Executes of one
Sync group. Exits non-zero if the server answers otherwise."""
import socket
import struct
import sys


def msg(kind, body=b""):
    return kind + struct.pack("!I", len(body) + 4) + body


def cstr(text):
    return text.encode() + b"\0"


class Conn:
    def __init__(self, path, database):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.buf = b""
        body = (struct.pack("!I", 196608) + cstr("user") + cstr("postgres") + cstr("database")
                + cstr(database) + b"\0")
        self.sock.sendall(struct.pack("!I", len(body) + 4) + body)
        self.until_ready()

    def until_ready(self):
        """The message types up to ReadyForQuery; raises on an error."""
        kinds = []
        while True:
            while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack("!I", self.buf[1:5])[0]:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise SystemExit("server closed the connection")
                self.buf += chunk
            n = struct.unpack("!I", self.buf[1:5])[0]
            kind, self.buf = self.buf[:1], self.buf[1 + n:]
            if kind == b"E":
                raise SystemExit("server error")
            kinds.append(kind)
            if kind == b"Z":
                return kinds

    def send(self, *messages):
        self.sock.sendall(b"".join(messages))


def parse_bind(portal, sql):
    return (msg(b"P", cstr("") + cstr(sql) + struct.pack("!H", 0))
            + msg(b"B", cstr(portal) + cstr("") + struct.pack("!HHH", 0, 0, 0)))


def execute(portal, max_rows):
    return msg(b"E", cstr(portal) + struct.pack("!I", max_rows))


def main():
    c = Conn(sys.argv[1], sys.argv[2])
    c.send(msg(b"Q", cstr("BEGIN")))
    c.until_ready()
    c.send(parse_bind("c1", "SELECT g FROM generate_series(1, 25) g"), execute("c1", 10),
           msg(b"S"))
    got = [c.until_ready()]
    for _ in range(2):
        c.send(execute("c1", 10), msg(b"S"))
        got.append(c.until_ready())
    assert [k.count(b"D") for k in got] == [10, 10, 5], got
    assert b"s" in got[0] and b"s" in got[1] and b"C" in got[2], got
    c.send(msg(b"Q", cstr("COMMIT")))
    c.until_ready()
    c.send(parse_bind("", "SELECT g + 1 FROM generate_series(1, 25) g"),
           execute("", 10), execute("", 10), execute("", 10), msg(b"S"))
    kinds = c.until_ready()
    assert kinds.count(b"D") == 25 and kinds.count(b"s") == 2, kinds
    c.send(msg(b"X"))


if __name__ == "__main__":
    main()
