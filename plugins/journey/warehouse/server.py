"""The embedded PostgreSQL server: the binaries shipped by the `pgserver` wheel, run with pg_ctl.

The data directory is `settings.pg_dir` and the server log `pg_dir/postgres.log`. The server
listens only on a Unix socket in the data directory (or in a short private folder under the
temp dir when that path is too long for a socket), and it outlives the process that started
it: pg_ctl puts the postmaster in its own session, so the CLI, Airflow tasks and tests all
reuse one server until `stop_server`.

We do not use `pgserver.get_server()`: it gives every role password-free (trust) access,
kills a slow start after 10 s, opens up every parent folder, and keeps a per-process handle
count. When we run as root (PostgreSQL refuses to), initdb, pg_ctl and the server run as the
unprivileged system user `pgserver`, created if needed, the same user pgserver itself uses.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from journey.config import Settings
from journey.warehouse.errors import WarehouseError, redact

log = logging.getLogger(__name__)

SUPERUSER = "postgres"
DATABASE = "postgres"
PORT = 5432
SERVER_USER = "pgserver"  # the system user the server runs as when we are root
LOG_NAME = "postgres.log"
SOCKET_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux
START_TIMEOUT_S = 120
LOCK_TIMEOUT_S = 300
PG_HBA = f"""\
# Written by journey.warehouse. The socket folder is private to the server's system user
# (and root), so the superuser connects without a password; every other role needs one.
local   all   {SUPERUSER}                  trust
local   all   all                       scram-sha-256
host    all   all   127.0.0.1/32        scram-sha-256
host    all   all   ::1/128             scram-sha-256
"""


@dataclass(frozen=True)
class Postmaster:
    """What postmaster.pid says about a server."""

    pid: int
    port: int
    socket_dir: str
    host: str
    status: str

    @property
    def url(self) -> str:
        """libpq URL of the superuser on this server."""
        if self.socket_dir:
            return f"postgresql://{SUPERUSER}@/{DATABASE}?host={quote(self.socket_dir, safe='/')}&port={self.port}"
        host = "127.0.0.1" if self.host in ("*", "0.0.0.0", "") else self.host.split(",")[0].strip()
        return f"postgresql://{SUPERUSER}@{host}:{self.port}/{DATABASE}"


def bin_dir() -> Path:
    """Folder of the PostgreSQL binaries shipped in the pgserver wheel (found without importing it)."""
    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError("the embedded PostgreSQL needs the 'pgserver' package (pip install pgserver), "
                             "or set JOURNEY_DB_URL to use an existing server")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def log_path(settings: Settings) -> Path:
    """The embedded server's log file."""
    return settings.pg_dir / LOG_NAME


def read_postmaster(pg_dir: Path) -> Postmaster | None:
    """The server running on this data directory, or None (no pid file, stale pid file)."""
    try:
        lines = (pg_dir / "postmaster.pid").read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 4 or not lines[0].strip().isdigit() or not _is_postgres(int(lines[0])):
        return None
    fields = [line.strip() for line in lines] + [""] * 8  # pid, data, start, port, socket, host, shm, status
    return Postmaster(int(fields[0]), int(fields[3] or PORT), fields[4], fields[5], fields[7])


def _is_postgres(pid: int) -> bool:
    """True when pid is a live postgres process (not a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, owned by another user
    comm = Path(f"/proc/{pid}/comm")
    return not comm.exists() or comm.read_text().strip().startswith("postgres")


@contextlib.contextmanager
def _locked(pg_dir: Path) -> Iterator[None]:
    """Hold an exclusive flock on the data directory: one process starts or stops it at a time."""
    fd = os.open(pg_dir, os.O_RDONLY)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WarehouseError(f"another process has held the lock on {pg_dir} for "
                                         f"{LOCK_TIMEOUT_S}s (a stuck `journey db start`?)") from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)  # releases the lock


def _server_user(pg_dir: Path) -> pwd.struct_passwd | None:
    """System user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    owner = pg_dir.stat().st_uid if pg_dir.exists() else 0
    if owner != 0:
        return pwd.getpwuid(owner)
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    log.info("running as root: creating system user %r for PostgreSQL", SERVER_USER)
    done = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", SERVER_USER],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise WarehouseError(f"PostgreSQL cannot run as root and creating the system user {SERVER_USER!r} failed: "
                             f"{done.stderr.strip() or done.returncode}; run as a normal user or set JOURNEY_DB_URL")
    return pwd.getpwnam(SERVER_USER)


def _open_path_for(path: Path, user: pwd.struct_passwd | None) -> None:
    """Let the server's user reach `path`: add o+x (traverse only) to parent folders that lack it."""
    if user is None:
        return
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if parent.stat().st_uid != user.pw_uid and not mode & stat.S_IXOTH:
            log.info("allowing %s to traverse %s (chmod o+x)", user.pw_name, parent)
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


def _make_private_dir(path: Path, user: pwd.struct_passwd | None) -> None:
    """Create a 0700 folder owned by the server's user (or check the one that is there)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    uid = os.geteuid() if user is None else user.pw_uid
    if user is not None and info.st_uid == 0 and stat.S_ISDIR(info.st_mode):
        os.chown(path, user.pw_uid, user.pw_gid)
    elif not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
        raise WarehouseError(f"{path} must be a folder owned by uid {uid}; remove it and retry")
    path.chmod(0o700)


def _run(args: list[str], user: pwd.struct_passwd | None, cwd: Path, timeout: float) -> None:
    """Run a PostgreSQL tool (as the server's user when we are root); errors become WarehouseError."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(LC_ALL="C", LANG="C")
    as_user = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with tempfile.TemporaryFile("w+") as out:  # a file, not a pipe: the postmaster may inherit it
        try:
            done = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  cwd=cwd, timeout=timeout, start_new_session=True, check=False, **as_user)
        except subprocess.TimeoutExpired as exc:
            raise WarehouseError(f"{Path(args[0]).name} did not finish within {timeout:.0f}s") from exc
        out.seek(0)
        output = out.read()
    if done.returncode != 0:
        lines = [line for line in output.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise WarehouseError(f"{Path(args[0]).name} failed: {reason.strip()}")


def _initdb(pg_dir: Path, user: pwd.struct_passwd | None) -> None:
    """Create the database cluster (UTF-8, C locale) and its authentication rules."""
    log.info("creating the embedded PostgreSQL cluster in %s", pg_dir)
    _run([str(bin_dir() / "initdb"), "-D", str(pg_dir), "-U", SUPERUSER, "--encoding=UTF8", "--no-locale",
          "--auth-local=trust", "--auth-host=scram-sha-256", "--no-instructions"], user, pg_dir, timeout=300)
    (pg_dir / "pg_hba.conf").write_text(PG_HBA)


def _socket_dir(pg_dir: Path, user: pwd.struct_passwd | None) -> Path:
    """The data directory, or a short private folder when its socket path would be too long."""
    if len(str(pg_dir / f".s.PGSQL.{PORT}").encode()) <= SOCKET_PATH_MAX:
        return pg_dir
    digest = hashlib.sha256(str(pg_dir).encode()).hexdigest()[:12]
    short = Path("/tmp") / f"journey-pg-{digest}"
    log.info("socket path under %s is too long for Unix sockets; using %s", pg_dir, short)
    _make_private_dir(short, user)
    return short


def _start(pg_dir: Path, user: pwd.struct_passwd | None) -> None:
    """pg_ctl start: socket only, log to pg_dir/postgres.log, wait until it accepts connections."""
    sock = _socket_dir(pg_dir, user)
    options = f"-c listen_addresses='' -k {shlex.quote(str(sock))} -p {PORT}"
    try:
        _run([str(bin_dir() / "pg_ctl"), "-D", str(pg_dir), "-l", str(pg_dir / LOG_NAME), "-w",
              "-t", str(START_TIMEOUT_S), "-o", options, "start"], user, pg_dir, timeout=START_TIMEOUT_S + 30)
    except WarehouseError as exc:
        raise WarehouseError(f"could not start PostgreSQL in {pg_dir}: {exc} (last log line: "
                             f"{_last_log_line(pg_dir)})") from exc


def _last_log_line(pg_dir: Path) -> str:
    """Last line of the server log, for error messages."""
    try:
        lines = [line for line in (pg_dir / LOG_NAME).read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return f"no log at {pg_dir / LOG_NAME}"
    return lines[-1].strip() if lines else "empty log"


def _wait_ready(pg_dir: Path, timeout: float = START_TIMEOUT_S) -> Postmaster | None:
    """Wait for a server that is starting (started elsewhere) to be ready; None when none runs."""
    deadline = time.monotonic() + timeout
    while True:
        info = read_postmaster(pg_dir)
        if info is None or info.status == "ready" or time.monotonic() > deadline:
            return info
        time.sleep(0.2)


def start_server(settings: Settings) -> str:
    """Start the embedded server (or reuse the one running on pg_dir) and return its libpq URL."""
    pg_dir = settings.pg_dir
    running = read_postmaster(pg_dir)
    if running is not None and running.status == "ready":
        return running.url
    pg_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    user = _server_user(pg_dir)
    with _locked(pg_dir):
        running = _wait_ready(pg_dir)
        if running is None:
            _make_private_dir(pg_dir, user)
            _open_path_for(pg_dir, user)
            if not (pg_dir / "PG_VERSION").exists():
                _initdb(pg_dir, user)
            _start(pg_dir, user)
            running = _wait_ready(pg_dir)
        if running is None or running.status != "ready":
            raise WarehouseError(f"PostgreSQL in {pg_dir} did not become ready (last log line: "
                                 f"{_last_log_line(pg_dir)})")
        log.info("embedded PostgreSQL running (pid %s) on %s", running.pid, pg_dir)
        return running.url


def stop_server(settings: Settings) -> bool:
    """Stop the embedded server (fast shutdown); False when none was running."""
    pg_dir = settings.pg_dir
    if not pg_dir.exists():
        return False
    with _locked(pg_dir):
        running = read_postmaster(pg_dir)
        if running is None:
            return False
        _run([str(bin_dir() / "pg_ctl"), "-D", str(pg_dir), "-w", "-t", "60", "-m", "fast", "stop"],
             _server_user(pg_dir), pg_dir, timeout=90)
        if running.socket_dir and Path(running.socket_dir) != pg_dir:
            with contextlib.suppress(OSError):
                Path(running.socket_dir).rmdir()  # the short socket folder, empty once the server is down
        return True


def server_status(settings: Settings) -> str:
    """One line: running or stopped, the URL and the data directory."""
    pg_dir = settings.pg_dir
    running = read_postmaster(pg_dir)
    where = f"data {pg_dir}, log {pg_dir / LOG_NAME}"
    if settings.db_url:
        state = f"running (pid {running.pid})" if running else "stopped"
        return f"external: {redact(settings.db_url)} (JOURNEY_DB_URL); embedded server {state}, {where}"
    if running is None:
        made = "" if (pg_dir / "PG_VERSION").exists() else ", not created yet"
        return f"stopped: {where}{made}"
    return f"running: {running.url} (pid {running.pid}, {where}, {running.status})"


def database_url(settings: Settings) -> str:
    """JOURNEY_DB_URL when set, else the embedded server's URL (started when needed)."""
    return settings.db_url or start_server(settings)
