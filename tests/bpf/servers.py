"""Real database servers for the wire-traffic BPF tests (tests/bpf/test_wire.py).

Each server runs as a plain child process (no systemd, no init scripts) in its
own temporary directory, listens on 127.0.0.1 on a free port, and is ready
when start() returns: start() polls until the server answers a real request
(with a timeout), it never sleeps a fixed time. stop() shuts it down and
removes the directory.

    PostgresServer  Debian postgresql-15 (initdb/postgres as user postgres),
                    pg_stat_statements preloaded with track=all, SCRAM password
                    auth over TCP, unix socket (trust) in the temp dir for setup.
    MariadbServer   Debian mariadb-server (mariadb-install-db + mariadbd as user
                    mysql), performance_schema=ON, TCP on 127.0.0.1, socket in
                    the temp dir; a user with a password, so auth is real.
    RedisServer     Debian redis-server, --save '' --appendonly no.

A server whose Debian package is missing raises ServerMissing (the tests turn
that into a loud skip); any other problem (initdb fails, the server does not
come up in time) raises ServerError, which is a test failure.

Stdlib only; run with /usr/bin/python3.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time

START_TIMEOUT_S = 60  # initdb / mariadb-install-db + first accepted request


class ServerMissing(Exception):
    """A server's Debian package is not installed (a reason to skip)."""


class ServerError(Exception):
    """A server could not be set up or started (a test failure)."""


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _user_ids(name):
    try:
        pw = pwd.getpwnam(name)
    except KeyError as e:
        raise ServerMissing(f"no system user {name!r} (is its server package installed?)") from e
    return pw.pw_uid, pw.pw_gid


def _as_user(name):
    """subprocess keyword arguments that run a command as the system user
    `name` (its own group, no supplementary groups: root's are dropped)."""
    uid, gid = _user_ids(name)
    return {"user": uid, "group": gid, "extra_groups": []}


def _need(path, package):
    if not os.access(path, os.X_OK):
        raise ServerMissing(f"{path} not found: install the Debian package {package}")
    return path


def _tail(path, lines=30):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"({path}: {e})"


def _run(cmd, what, **kwargs):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=START_TIMEOUT_S, **kwargs)
    if r.returncode != 0:
        raise ServerError(f"{what} failed (exit {r.returncode}): {' '.join(cmd)}\n"
                          f"{r.stdout}{r.stderr}")
    return r


def _wait_until(check, proc, what, log_path, timeout=START_TIMEOUT_S):
    """Polls check() (True when ready) every 20 ms until it succeeds; fails
    early if `proc` died, or after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        if proc.poll() is not None:
            raise ServerError(f"{what} exited with status {proc.returncode} while starting; "
                              f"log:\n{_tail(log_path)}")
        try:
            if check():
                return
        except Exception as e:  # noqa: BLE001 - any error means "not ready yet"
            last_error = e
        if time.monotonic() > deadline:
            raise ServerError(f"{what} did not accept requests within {timeout} s "
                              f"(last error: {last_error}); log:\n{_tail(log_path)}")
        time.sleep(0.02)


def _stop_process(proc, sig, timeout=30):
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class _Server:
    """Common lifecycle: a temp dir, a child process, stop() and a context
    manager."""

    name = "server"

    def __init__(self):
        self.dir = None
        self.proc = None
        self.port = None
        self.log_path = None

    @property
    def pid(self):
        return self.proc.pid

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def _make_dir(self, owner=None):
        self.dir = tempfile.mkdtemp(prefix=f"waitscope-{self.name}-", dir="/var/tmp")
        os.chmod(self.dir, 0o755)
        if owner:
            uid, gid = _user_ids(owner)
            os.chown(self.dir, uid, gid)

    def _stop_signal(self):
        return signal.SIGTERM

    def stop(self):
        try:
            _stop_process(self.proc, self._stop_signal())
        finally:
            if self.dir:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---- PostgreSQL ---------------------------------------------------------------------


def _pg_bindir():
    """The newest Debian PostgreSQL server's bin directory (postgresql-15 on
    Debian 12)."""
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                  key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if not dirs:
        raise ServerMissing("no /usr/lib/postgresql/*/bin/postgres: install the Debian package "
                            "postgresql")
    return os.path.dirname(dirs[-1])


class PostgresServer(_Server):
    """A PostgreSQL cluster: superuser `postgres`, password auth (SCRAM) for
    TCP clients, trust on its unix socket; database `waitscope`."""

    name = "postgres"
    USER = "postgres"
    PASSWORD = "waitscope-pg"
    DATABASE = "waitscope"

    def __init__(self):
        super().__init__()
        self.bindir = _pg_bindir()
        for tool in ("initdb", "postgres"):
            _need(os.path.join(self.bindir, tool), "postgresql")
        contrib = glob.glob(os.path.join(os.path.dirname(self.bindir), "lib",
                                         "pg_stat_statements.so"))
        if not contrib:  # Debian 12 ships it (and pgbench) in postgresql-15
            raise ServerMissing("pg_stat_statements.so not found: install the Debian package "
                                "postgresql (postgresql-contrib on older releases)")
        self.psql_bin = _need(os.path.join(self.bindir, "psql"), "postgresql-client")
        self.pgbench_bin = _need(os.path.join(self.bindir, "pgbench"), "postgresql")

    def start(self):
        self._make_dir(owner="postgres")
        data = os.path.join(self.dir, "data")
        pwfile = os.path.join(self.dir, "pwfile")
        with open(pwfile, "w", encoding="utf-8") as f:
            f.write(self.PASSWORD + "\n")
        uid, gid = _user_ids("postgres")
        os.chown(pwfile, uid, gid)
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": self.dir}
        _run([os.path.join(self.bindir, "initdb"), "-D", data, "-U", self.USER, "-E", "UTF8",
              "--locale=C.UTF-8", "--no-sync", "--auth-local=trust",
              "--auth-host=scram-sha-256", f"--pwfile={pwfile}"],
             "initdb", env=env, cwd=self.dir, **_as_user("postgres"))
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "postgres.log")
        log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 - owned by the server
        os.chown(self.log_path, uid, gid)
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "postgres"), "-D", data,
             "-c", "listen_addresses=127.0.0.1", "-c", f"port={self.port}",
             "-c", f"unix_socket_directories={self.dir}",
             "-c", "shared_preload_libraries=pg_stat_statements",
             "-c", "pg_stat_statements.track=all",
             "-c", "pg_stat_statements.max=10000",
             # A throwaway cluster: no durability needed, less disk noise.
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=50", "-c", "logging_collector=off",
             *self._server_options()],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.dir,
            **_as_user("postgres"))
        log.close()
        try:
            _wait_until(lambda: self._ready(), self.proc, "postgres", self.log_path)
            self.admin("CREATE DATABASE waitscope", db="postgres")
            self.admin("CREATE EXTENSION pg_stat_statements")
        except BaseException:
            self.stop()
            raise
        return self

    def _server_options(self):
        """More `-c name=value` arguments for postgres (subclasses)."""
        return []

    def _ready(self):
        # A real SQL round trip over TCP with the password (not only a
        # listening socket: postgres listens before it accepts logins).
        r = subprocess.run([self.psql_bin, *self.tcp_args("postgres"), "-XAtqc", "SELECT 1"],
                           capture_output=True, text=True, timeout=10, env=self.env())
        if r.returncode != 0:
            raise ServerError(r.stderr.strip())
        return r.stdout.strip() == "1"

    def _stop_signal(self):
        return signal.SIGINT  # "fast" shutdown: disconnect clients, no waiting

    def env(self):
        """Environment for libpq clients (password, no ~/.psqlrc, C locale)."""
        return dict(os.environ, PGPASSWORD=self.PASSWORD, PGCONNECT_TIMEOUT="10",
                    PGAPPNAME="waitscope-test", LANG="C.UTF-8", PGSSLMODE="disable")

    def tcp_args(self, db=None):
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", self.USER,
                "-d", db or self.DATABASE]

    def admin(self, sql, db=None):
        """Runs SQL over the unix socket (a connection separate from the
        tested TCP traffic) and returns psql's unaligned output lines."""
        r = subprocess.run([self.psql_bin, "-h", self.dir, "-p", str(self.port), "-U", self.USER,
                            "-d", db or self.DATABASE, "-XAtq", "-F", "\t",
                            "-v", "ON_ERROR_STOP=1", "-c", sql],
                           capture_output=True, text=True, timeout=60, env=self.env())
        if r.returncode != 0:
            raise ServerError(f"psql {sql!r} failed: {r.stderr}")
        return [line for line in r.stdout.splitlines() if line]


# ---- MariaDB ------------------------------------------------------------------------


class MariadbServer(_Server):
    """A MariaDB server: root over its unix socket (unix_socket auth, for
    setup), and `waitscope`@`127.0.0.1` with a password (mysql_native_password)
    and all privileges on database `waitscope`, for the tested TCP traffic."""

    name = "mariadb"
    USER = "waitscope"
    PASSWORD = "waitscope-my"
    DATABASE = "waitscope"

    def __init__(self):
        super().__init__()
        self.mariadbd = _need("/usr/sbin/mariadbd", "mariadb-server")
        self.install_db = _need("/usr/bin/mariadb-install-db", "mariadb-server")
        self.client = _need("/usr/bin/mariadb", "mariadb-client")
        self.socket = None

    def start(self):
        self._make_dir(owner="mysql")
        data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysqld.sock")
        env = {"PATH": "/usr/bin:/usr/sbin:/bin", "LANG": "C.UTF-8", "HOME": self.dir}
        # --no-defaults: ignore /etc/mysql (the system server's config).
        _run([self.install_db, "--no-defaults", "--user=mysql", f"--datadir={data}",
              "--skip-test-db", "--auth-root-authentication-method=socket",
              "--skip-name-resolve"],
             "mariadb-install-db", env=env, cwd=self.dir)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "mariadbd.err")
        self.proc = subprocess.Popen(
            [self.mariadbd, "--no-defaults", "--user=mysql", f"--datadir={data}",
             f"--socket={self.socket}", f"--port={self.port}", "--bind-address=127.0.0.1",
             "--skip-networking=0", "--skip-name-resolve", "--performance-schema=ON",
             f"--pid-file={os.path.join(self.dir, 'mariadbd.pid')}",
             f"--log-error={self.log_path}", "--skip-log-bin",
             "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
             "--innodb-flush-log-at-trx-commit=0", "--max-connections=50",
             "--skip-ssl"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, cwd=self.dir)
        try:
            _wait_until(self._socket_ready, self.proc, "mariadbd", self.log_path)
            self.admin(f"CREATE DATABASE {self.DATABASE}; "
                       f"CREATE USER '{self.USER}'@'127.0.0.1' IDENTIFIED BY '{self.PASSWORD}'; "
                       f"GRANT ALL ON {self.DATABASE}.* TO '{self.USER}'@'127.0.0.1'")
            # The tested path: a password login over TCP.
            _wait_until(self._tcp_ready, self.proc, "mariadbd (TCP)", self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _socket_ready(self):
        r = subprocess.run([self.client, "--no-defaults", f"--socket={self.socket}", "-uroot",
                            "-BNe", "SELECT 1"], capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise ServerError(r.stderr.strip())
        return r.stdout.strip() == "1"

    def _tcp_ready(self):
        r = subprocess.run([self.client, *self.tcp_args(), "-BNe", "SELECT 1"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise ServerError(r.stderr.strip())
        return r.stdout.strip() == "1"

    def tcp_args(self):
        """mariadb client arguments for the tested TCP login (no TLS, so the
        wire is plain text)."""
        return ["--no-defaults", "--protocol=TCP", "-h", "127.0.0.1", "-P", str(self.port),
                "-u", self.USER, f"-p{self.PASSWORD}", "--ssl=0", self.DATABASE]

    def admin(self, sql):
        """Runs SQL as root over the unix socket (not the tested TCP path; no
        default database) and returns the rows as lists of strings."""
        r = subprocess.run([self.client, "--no-defaults", f"--socket={self.socket}", "-uroot",
                            "-BN", "-e", sql], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise ServerError(f"mariadb {sql!r} failed: {r.stderr}")
        return [line.split("\t") for line in r.stdout.splitlines() if line]


# ---- Redis --------------------------------------------------------------------------


class RedisServer(_Server):
    name = "redis"

    def __init__(self):
        super().__init__()
        self.server_bin = _need("/usr/bin/redis-server", "redis-server")
        self.cli_bin = _need("/usr/bin/redis-cli", "redis-tools")
        self.benchmark_bin = _need("/usr/bin/redis-benchmark", "redis-tools")

    def start(self):
        self._make_dir()
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "redis.log")
        self.proc = subprocess.Popen(
            [self.server_bin, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", self.dir, "--daemonize", "no",
             "--logfile", self.log_path, "--protected-mode", "yes"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            cwd=self.dir)
        try:
            _wait_until(lambda: self.cli("PING") == "PONG", self.proc, "redis-server",
                        self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def cli(self, *args):
        r = subprocess.run([self.cli_bin, "-h", "127.0.0.1", "-p", str(self.port), *args],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise ServerError(f"redis-cli {args} failed: {r.stderr}")
        return r.stdout.strip()

    def info(self, section):
        """INFO `section` as a dict of strings."""
        out = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, _, v = line.partition(":")
                out[k] = v.strip()
        return out


# ---- TLS (issue "TLS": tests/bpf/test_tls.py) ----------------------------------------


def make_self_signed_cert(directory, name="server", owner=None):
    """A self-signed P-256 certificate for 127.0.0.1 and localhost (one day)
    in `directory`; returns (cert_path, key_path). `owner`: a system user
    that must read the key (mode 0600, e.g. postgres refuses anything wider)."""
    openssl = _need("/usr/bin/openssl", "openssl")
    cert = os.path.join(directory, f"{name}.crt")
    key = os.path.join(directory, f"{name}.key")
    _run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", f"/CN={name}",
          "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], "openssl req")
    os.chmod(key, 0o600)
    os.chmod(cert, 0o644)
    if owner:
        uid, gid = _user_ids(owner)
        os.chown(key, uid, gid)
        os.chown(cert, uid, gid)
    return cert, key


class PostgresTlsServer(PostgresServer):
    """PostgresServer with ssl=on (a self-signed certificate made at start,
    TLS 1.2 and 1.3 allowed); non-SSL TCP logins still work, so the same
    cluster serves the cleartext and the TLS runs of a test."""

    name = "postgres-tls"

    def _make_dir(self, owner=None):
        super()._make_dir(owner)
        self.cert, self.key = make_self_signed_cert(self.dir, "postgres", owner="postgres")

    def _server_options(self):
        return ["-c", "ssl=on", "-c", f"ssl_cert_file={self.cert}",
                "-c", f"ssl_key_file={self.key}"]

    def tls_env(self, sslmode="require"):
        """env() for a libpq client that must use TLS (`require`: encrypt,
        no certificate check)."""
        return dict(self.env(), PGSSLMODE=sslmode)


class NginxServer(_Server):
    """Debian nginx (nginx-light is enough: it has the ssl module) serving,
    on 127.0.0.1, one TLS 1.2-only and one TLS 1.3-only listener with the
    same self-signed certificate: master + `workers` worker processes, not
    daemonized. Session cache and tickets on, so clients can resume.

    Every request is logged to access.log as ACCESS_FIELDS (the connection
    serial lets tests count handshakes, one per connection). Locations:
    /alpha and /beta answer 200 "ok", /big answers 200 with BIG_BYTES bytes,
    anything else 404. `cert`/`key`: serve these instead of a new pair.

    start(prefix) runs `PREFIX nginx ...` (e.g. `waitscope record -o D --`),
    so the proc may be a wrapper; master_pid is read from the pid file and
    stop() asks the master for a graceful shutdown (SIGQUIT)."""

    name = "nginx"
    ACCESS_FIELDS = ("connection", "requests", "protocol", "reused", "method", "uri", "status")
    # Below --capture-bytes (16384) even as a TLS record with its overhead:
    # ciphertext read before the agent stops copying it must not count as
    # truncated.
    BIG_BYTES = 8000

    def __init__(self, cert=None, key=None, workers=1, access_log=True):
        super().__init__()
        self.nginx = _need("/usr/sbin/nginx", "nginx-light")
        r = subprocess.run([self.nginx, "-V"], capture_output=True, text=True, timeout=30)
        if "--with-http_ssl_module" not in r.stderr + r.stdout:
            raise ServerMissing("this nginx has no http_ssl_module (nginx -V); install the "
                                "Debian package nginx-light")
        self.cert, self.key = cert, key
        self.workers = workers
        self.access_log_on = access_log
        self.ports = {}  # "TLSv1.2"/"TLSv1.3" -> port
        self.master_pid = None

    def config_text(self):
        d = self.dir
        access = (f"access_log {d}/access.log tls;" if self.access_log_on else "access_log off;")
        servers = []
        for version, port in self.ports.items():
            servers.append(f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_protocols {version};
        ssl_certificate {self.cert};
        ssl_certificate_key {self.key};
        ssl_session_cache shared:SSL{port}:1m;
        ssl_session_tickets on;
        keepalive_requests 100000;
        location = /alpha {{ return 200 "ok\\n"; }}
        location = /beta {{ return 200 "ok\\n"; }}
        location = /big {{ root {d}/www; try_files /big.bin =404; }}
        location / {{ return 404; }}
    }}""")
        return f"""daemon off;
master_process on;
worker_processes {self.workers};
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 1024; }}
http {{
    default_type text/plain;
    log_format tls '$connection $connection_requests $ssl_protocol $ssl_session_reused '
                   '$request_method $request_uri $status';
    {access}
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{''.join(servers)}
}}
"""

    def command(self):
        return [self.nginx, "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
                "-c", os.path.join(self.dir, "nginx.conf")]

    def start(self, prefix=()):
        self._make_dir()
        if not self.cert:
            self.cert, self.key = make_self_signed_cert(self.dir, "nginx")
        os.makedirs(os.path.join(self.dir, "www"))
        with open(os.path.join(self.dir, "www", "big.bin"), "wb") as f:
            f.write(b"x" * self.BIG_BYTES)
        self.ports = {"TLSv1.2": free_port(), "TLSv1.3": free_port()}
        self.port = self.ports["TLSv1.3"]
        with open(os.path.join(self.dir, "nginx.conf"), "w", encoding="utf-8") as f:
            f.write(self.config_text())
        _run([*self.command(), "-t", "-q"], "nginx -t")
        self.log_path = os.path.join(self.dir, "error.log")
        self.proc = subprocess.Popen([*prefix, *self.command()], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # nginx opens its listening sockets before it writes the pid file,
            # and a connection made then waits in the backlog for the worker.
            _wait_until(self._pid_file_ready, self.proc, "nginx", self.log_path)
            _wait_until(lambda: len(self.worker_pids()) == self.workers, self.proc,
                        "nginx workers", self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _pid_file_ready(self):
        with open(os.path.join(self.dir, "nginx.pid"), encoding="utf-8") as f:
            text = f.read().strip()
        if not text.isdigit():
            return False
        self.master_pid = int(text)
        return True

    def worker_pids(self):
        """The pids of the master's children (its workers)."""
        try:
            with open(f"/proc/{self.master_pid}/task/{self.master_pid}/children",
                      encoding="utf-8") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def url(self, version, path):
        return f"https://127.0.0.1:{self.ports[version]}{path}"

    def access_log(self):
        """The access log as a list of dicts (ACCESS_FIELDS)."""
        try:
            with open(os.path.join(self.dir, "access.log"), encoding="utf-8") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        return [dict(zip(self.ACCESS_FIELDS, line.split(" "))) for line in lines if line]

    def shutdown(self, timeout=30):
        """Graceful stop (SIGQUIT to the master: finish requests, close idle
        keep-alive connections), waiting for start()'s process, which may
        be a wrapper that ends with nginx; keeps the directory."""
        if self.master_pid and self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.master_pid, signal.SIGQUIT)
                self.proc.wait(timeout=timeout)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        _stop_process(self.proc, signal.SIGTERM)

    def stop(self):
        try:
            self.shutdown()
        finally:
            if self.dir:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None
