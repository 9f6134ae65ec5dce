#!/usr/bin/env python3
"""Start a throw-away PostgreSQL primary (and optional streaming replicas) on loopback: the real
database the PostgreSQL store's tests and the cluster script run against.

  postgres.py start [--dir D] [--port N] [--replicas K] [--timeout S]
      -> prints one JSON line {url, port, pid, dir, pids, replicas: [{url, port, pid, dir, log}], log}
         and leaves the servers running (each postmaster in its own session, pgid == pid; note
         that postgres puts each of its children in a session of its own too).
         url is postgres://postgres@127.0.0.1:PORT/encore (trust auth, database `encore`).
  postgres.py stop --dir D
      -> immediate shutdown (SIGQUIT) of every server recorded in D/state.json, SIGKILL of it
         and its children after a deadline, then removes D.
  postgres.py kill-replica --dir D N     immediate shutdown of replica N (1-based); its data stays
  postgres.py start-replica --dir D N    starts it again on the same port, waits until it caught up
  postgres.py pause-replay --dir D N     pg_wal_replay_pause() on replica N, waits until paused
  postgres.py resume-replay --dir D N    pg_wal_replay_resume(), waits until it caught up
                                         with the primary (unless --no-wait)

Layout of D: primary/ and replicaN/ (data directories), run/ (the unix sockets, so nothing goes to
/var/run), primary.log and replicaN.log (server stderr), state.json (ports and pids).

Runs Debian's binaries from the newest /usr/lib/postgresql/*/bin (postgresql-15 on Debian 12;
pg_trgm and unaccent ship inside it). As root, every server, initdb and pg_basebackup run as the
`postgres` user (initdb refuses root): D is chowned to postgres, so D's parent directories must be
traversable by postgres (a mkdtemp under /tmp is; one under /root is not). Settings are for test
speed, not durability: fsync, synchronous_commit and full_page_writes are off.
Stdlib only.
"""
import argparse, glob, json, os, pwd, re, shutil, signal, socket, subprocess, sys, tempfile, time

PSQL_FALLBACK = "/usr/bin/psql"
DB = "encore"
USER = "postgres"
# Given as -c options on the command line (they win over postgresql.conf and over the copy of it
# that pg_basebackup gives each replica); port and unix_socket_directories are added per server.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "wal_level": "replica",
    "max_wal_senders": "10",
    "max_replication_slots": "10",
    "hot_standby": "on",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",       # several clusters at once on a small machine
    "logging_collector": "off",     # stderr -> the log file we give it
    "log_line_prefix": "%m [%p] %q%u@%d ",
}
HBA = """# written by Tests/python/postgres.py: trust on loopback and the unix socket only
local   all             all                     trust
host    all             all     127.0.0.1/32    trust
local   replication     all                     trust
host    replication     all     127.0.0.1/32    trust
"""


# ---------------------------------------------------------------------------------------------
# helpers

def pg_bin():
    """The newest /usr/lib/postgresql/*/bin that has initdb."""
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if os.path.isfile(os.path.join(d, "initdb"))]
    if not dirs:
        sys.exit("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: "
                 "apt-get install postgresql (or run scripts/install-deps --test)")
    return max(dirs, key=lambda d: [int(x) for x in re.findall(r"\d+", d.split("/")[-2])] or [0])


def psql_path(bindir):
    for c in [os.path.join(bindir, "psql"), PSQL_FALLBACK, shutil.which("psql")]:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    sys.exit("psql not found")


def clean_env(home):
    """The caller's environment without PG* variables (PGDATA, PGPORT, PGOPTIONS... would steer
    initdb, psql or the server), with a HOME the postgres user can read."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["HOME"] = home
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    return env


def as_pg_user():
    """Popen kwargs that drop root to the postgres user (nothing when not root: run as ourselves)."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        sys.exit(f"running as root but there is no `{USER}` user to run PostgreSQL as "
                 "(the Debian postgresql package creates it)")
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def chown_pg(path):
    if os.geteuid() == 0:
        pw = pwd.getpwnam(USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as postgres binds
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def url(port):
    return f"postgres://{USER}@127.0.0.1:{port}/{DB}"


def tail(path, n=3000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return "(no log)"


class Ctx:
    """Paths and binaries for one launcher directory."""

    def __init__(self, d):
        self.dir = os.path.abspath(d)
        self.bin = pg_bin()
        self.psql = psql_path(self.bin)
        self.env = clean_env(self.dir)
        self.user = as_pg_user()
        self.run = os.path.join(self.dir, "run")
        self.state_path = os.path.join(self.dir, "state.json")

    def tool(self, name):
        return os.path.join(self.bin, name)

    def as_pg(self, cmd, log, timeout):
        """Run a PostgreSQL tool as the postgres user, output to log; raises on failure."""
        with open(log, "ab") as f:
            f.write(("$ " + " ".join(cmd) + "\n").encode())
            f.flush()
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               cwd=self.dir, env=self.env, timeout=timeout, **self.user)
        if r.returncode != 0:
            raise RuntimeError(f"{os.path.basename(cmd[0])} exited with {r.returncode}; log tail:\n{tail(log)}")

    def sql(self, port, query, db="postgres", timeout=5):
        """One query over TCP as postgres (trust); returns (ok, stripped output or error text)."""
        env = dict(self.env, PGCONNECT_TIMEOUT="2")
        try:
            r = subprocess.run([self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                                "-h", "127.0.0.1", "-p", str(port), "-U", USER, "-d", db, "-c", query],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL,
                               env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False, "psql timed out"
        return r.returncode == 0, (r.stdout if r.returncode == 0 else r.stderr).strip()

    def load(self):
        try:
            with open(self.state_path) as f:
                return json.load(f)
        except FileNotFoundError:
            sys.exit(f"no state file {self.state_path}: not a postgres.py directory (or already stopped)")

    def save(self, state):
        tmp = self.state_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=2)
        os.replace(tmp, self.state_path)


# ---------------------------------------------------------------------------------------------
# processes

def proc_alive(pid, datadir=None):
    """pid runs (not a zombie) and, if datadir is given, is a postgres on that data directory (so a
    recycled pid is never signalled)."""
    try:
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return False
        if datadir is not None:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if datadir.encode() not in f.read().split(b"\0"):
                    return False
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return True


def children(pid):
    """pids whose parent is pid."""
    out = []
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open(f"/proc/{e}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(e))
            except (OSError, IndexError, ValueError):
                pass
    return out


def stop_server(pid, datadir, deadline_s=10):
    """Immediate shutdown (SIGQUIT: no checkpoint, children told to quit, crash recovery on next
    start, which is fine for tests); SIGKILL if it is not gone in time. The postmaster only exits
    once its children have, so once it is gone so are they."""
    if not pid or not proc_alive(pid, datadir):
        return
    try:
        os.kill(pid, signal.SIGQUIT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + deadline_s
    while proc_alive(pid):
        if time.monotonic() > deadline:
            # Each postgres child calls setsid(), so killpg(postmaster) would miss them: kill the
            # children (found before the postmaster dies and they are re-parented), then it.
            for c in children(pid):
                try:
                    os.kill(c, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.killpg(pid, signal.SIGKILL)  # pgid == pid (own session)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 5
            while proc_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            break
        time.sleep(0.02)


def launch(ctx, datadir, port, log):
    """Start one postmaster in its own session; returns the Popen."""
    cmd = [ctx.tool("postgres"), "-D", datadir, "-c", f"port={port}",
           "-c", f"unix_socket_directories={ctx.run}"]
    for k, v in SETTINGS.items():
        cmd += ["-c", f"{k}={v}"]
    f = open(log, "ab")
    try:
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=ctx.dir, env=ctx.env, start_new_session=True, **ctx.user)
    finally:
        f.close()


def wait_ready(ctx, proc_or_pid, port, log, deadline, recovery=None):
    """Poll with psql until the server answers (and, if recovery is given, pg_is_in_recovery() says
    so). Returns None when ready, 'exited' if the postmaster died, raises on deadline."""
    pid = proc_or_pid if isinstance(proc_or_pid, int) else proc_or_pid.pid
    want = None if recovery is None else ("t" if recovery else "f")
    last = ""
    while True:
        if isinstance(proc_or_pid, int):
            if not proc_alive(pid):
                return "exited"
        elif proc_or_pid.poll() is not None:
            return "exited"
        ok, out = ctx.sql(port, "SELECT pg_is_in_recovery()")
        if ok and (want is None or out == want):
            return None
        last = out
        if time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} not ready before the deadline ({last}); log tail:\n{tail(log)}")
        time.sleep(0.05)


def start_with_port(ctx, datadir, port, log, deadline, recovery, fixed_port):
    """Start a postmaster and wait until it answers; on a lost race for a kernel-chosen port (another
    launcher took it between our probe and postgres's bind) try a new one. Returns (proc, port)."""
    for attempt in range(5):
        mark = os.path.getsize(log) if os.path.exists(log) else 0
        proc = launch(ctx, datadir, port, log)
        if wait_ready(ctx, proc, port, log, deadline, recovery) is None:
            return proc, port
        with open(log, errors="replace") as f:
            f.seek(mark)
            text = f.read()
        if fixed_port or not re.search(r"could not bind|Address already in use|could not create any TCP/IP", text):
            raise RuntimeError(f"postgres exited with {proc.returncode} on port {port}; log tail:\n{tail(log)}")
        port = free_port()
    raise RuntimeError("could not find a free port")


def wait_caught_up(ctx, primary_port, replica_port, log, deadline):
    """Wait until the replica replayed the primary's current WAL position."""
    ok, lsn = ctx.sql(primary_port, "SELECT pg_current_wal_lsn()")
    if not ok:
        raise RuntimeError(f"primary not answering: {lsn}")
    last = ""
    while True:
        ok, out = ctx.sql(replica_port, f"SELECT coalesce(pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn, false)")
        if ok and out == "t":
            return
        last = out
        if time.monotonic() > deadline:
            raise RuntimeError(f"replica on port {replica_port} did not replay {lsn} before the deadline "
                               f"({last}); log tail:\n{tail(log)}")
        time.sleep(0.05)


def check_reachable(ctx):
    """As root, D is handed to postgres; fail clearly if postgres cannot get there (a parent that is
    not traversable by others, as /root or a 0700 mkdtemp parent is)."""
    if not ctx.user:
        return
    r = subprocess.run(["test", "-w", ctx.dir, "-a", "-x", ctx.dir], cwd="/", env=ctx.env, **ctx.user)
    if r.returncode != 0:
        sys.exit(f"{ctx.dir} is not writable by the `{USER}` user: every parent directory must be "
                 "traversable by it (chmod o+x), e.g. use a directory under /tmp")


# ---------------------------------------------------------------------------------------------
# commands

def start(args):
    created = not args.dir
    d = tempfile.mkdtemp(prefix="encore-pg-") if created else os.path.abspath(args.dir)
    os.makedirs(d, exist_ok=True)
    ctx = Ctx(d)
    if os.path.exists(ctx.state_path):
        sys.exit(f"{ctx.state_path} exists: servers from an earlier start? (postgres.py stop --dir {d})")
    deadline = time.monotonic() + args.timeout
    chown_pg(d)
    os.chmod(d, 0o700)
    check_reachable(ctx)
    os.makedirs(ctx.run, exist_ok=True)
    chown_pg(ctx.run)
    primary_dir = os.path.join(d, "primary")
    primary_log = os.path.join(d, "primary.log")
    state = {"bin": ctx.bin, "primary": None, "replicas": []}
    try:
        ctx.as_pg([ctx.tool("initdb"), "-D", primary_dir, "-U", USER, "-A", "trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync", "--no-instructions"], primary_log,
                  max(1, deadline - time.monotonic()))
        with open(os.path.join(primary_dir, "pg_hba.conf"), "w") as f:
            f.write(HBA)
        if args.port and not port_free(args.port):
            raise RuntimeError(f"port {args.port} is in use")
        proc, port = start_with_port(ctx, primary_dir, args.port or free_port(), primary_log, deadline,
                                     recovery=False, fixed_port=bool(args.port))
        state["primary"] = {"port": port, "pid": proc.pid, "dir": primary_dir, "log": primary_log}
        ctx.save(state)
        ok, out = ctx.sql(port, f"CREATE DATABASE {DB} OWNER {USER}")
        if not ok:
            raise RuntimeError(f"CREATE DATABASE failed: {out}")
        for n in range(1, args.replicas + 1):
            state["replicas"].append(make_replica(ctx, state, n, deadline))
            ctx.save(state)
        for r in state["replicas"]:
            wait_caught_up(ctx, port, r["port"], r["log"], deadline)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as e:
        for s in state["replicas"] + [state["primary"]]:
            if s:
                stop_server(s["pid"], s["dir"])
        sys.stderr.write(f"postgres.py start failed: {e}\n")
        if created:
            shutil.rmtree(d, ignore_errors=True)
        else:
            try:
                os.unlink(ctx.state_path)
            except FileNotFoundError:
                pass
        sys.exit(1)
    print(json.dumps(describe(state, d)))
    sys.stdout.flush()


def make_replica(ctx, state, n, deadline):
    p = state["primary"]
    rdir = os.path.join(ctx.dir, f"replica{n}")
    rlog = os.path.join(ctx.dir, f"replica{n}.log")
    # -R writes standby.signal and primary_conninfo; -C -S a physical slot so the primary keeps the
    # WAL a killed or paused replica still needs; -c fast: the default spread checkpoint would make
    # it wait minutes (checkpoint_completion_target of checkpoint_timeout) on an idle primary.
    ctx.as_pg([ctx.tool("pg_basebackup"), "-R", "-X", "stream", "-C", "-S", f"replica{n}",
               "-c", "fast", "--no-sync", "-D", rdir, "-h", "127.0.0.1", "-p", str(p["port"]), "-U", USER],
              rlog, max(1, deadline - time.monotonic()))
    proc, port = start_with_port(ctx, rdir, free_port(), rlog, deadline, recovery=True, fixed_port=False)
    return {"port": port, "pid": proc.pid, "dir": rdir, "log": rlog}


def describe(state, d):
    p = state["primary"]
    return {"url": url(p["port"]), "port": p["port"], "pid": p["pid"], "dir": d,
            "pids": [p["pid"]] + [r["pid"] for r in state["replicas"]],
            "replicas": [{"url": url(r["port"]), "port": r["port"], "pid": r["pid"], "dir": r["dir"],
                          "log": r["log"]} for r in state["replicas"]],
            "log": p["log"]}


def stop(args):
    d = os.path.abspath(args.dir)
    if not os.path.exists(os.path.join(d, "state.json")):
        # Nothing recorded (already stopped, or a start that failed early): only remove the dir.
        shutil.rmtree(d, ignore_errors=True)
        return
    with open(os.path.join(d, "state.json")) as f:
        state = json.load(f)
    for s in state.get("replicas", []) + [state.get("primary")]:
        if s:
            stop_server(s.get("pid"), s.get("dir"))
    shutil.rmtree(d, ignore_errors=True)


def replica(ctx, state, n):
    if not 1 <= n <= len(state["replicas"]):
        sys.exit(f"no replica {n} (there are {len(state['replicas'])})")
    return state["replicas"][n - 1]


def kill_replica(args):
    ctx = Ctx(args.dir)
    state = ctx.load()
    r = replica(ctx, state, args.n)
    stop_server(r["pid"], r["dir"])
    r["pid"] = None
    ctx.save(state)


def start_replica(args):
    ctx = Ctx(args.dir)
    state = ctx.load()
    r = replica(ctx, state, args.n)
    if r["pid"] and proc_alive(r["pid"], r["dir"]):
        sys.exit(f"replica {args.n} is running (pid {r['pid']})")
    deadline = time.monotonic() + args.timeout
    try:
        proc, _ = start_with_port(ctx, r["dir"], r["port"], r["log"], deadline, recovery=True, fixed_port=True)
        r["pid"] = proc.pid
        ctx.save(state)
        if not args.no_wait:
            wait_caught_up(ctx, state["primary"]["port"], r["port"], r["log"], deadline)
    except RuntimeError as e:
        sys.exit(f"start-replica {args.n} failed: {e}")
    print(json.dumps({"url": url(r["port"]), "port": r["port"], "pid": r["pid"], "dir": r["dir"], "log": r["log"]}))


def pause_replay(args):
    ctx = Ctx(args.dir)
    r = replica(ctx, ctx.load(), args.n)
    ok, out = ctx.sql(r["port"], "SELECT pg_wal_replay_pause()")
    if not ok:
        sys.exit(f"pg_wal_replay_pause() failed: {out}")
    # The request takes effect at the next record the startup process looks at: wait for 'paused'
    # so that nothing the caller writes next is replayed.
    deadline = time.monotonic() + args.timeout
    while True:
        ok, out = ctx.sql(r["port"], "SELECT pg_get_wal_replay_pause_state()")
        if ok and out == "paused":
            return
        if time.monotonic() > deadline:
            sys.exit(f"replica {args.n} not paused before the deadline ({out})")
        time.sleep(0.05)


def resume_replay(args):
    ctx = Ctx(args.dir)
    state = ctx.load()
    r = replica(ctx, state, args.n)
    ok, out = ctx.sql(r["port"], "SELECT pg_wal_replay_resume()")
    if not ok:
        sys.exit(f"pg_wal_replay_resume() failed: {out}")
    if not args.no_wait:
        try:
            wait_caught_up(ctx, state["primary"]["port"], r["port"], r["log"], time.monotonic() + args.timeout)
        except RuntimeError as e:
            sys.exit(str(e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--dir", help="use this directory (created if missing) instead of a new temporary one")
    s.add_argument("--port", type=int, help="the primary's port (default: a free one)")
    s.add_argument("--replicas", type=int, default=0, help="streaming replicas to start (default 0)")
    s.add_argument("--timeout", type=float, default=60, help="seconds for the whole start (default 60)")
    t = sub.add_parser("stop")
    t.add_argument("--dir", required=True)
    for name in ("kill-replica", "start-replica", "pause-replay", "resume-replay"):
        c = sub.add_parser(name)
        c.add_argument("--dir", required=True)
        c.add_argument("n", type=int, help="replica number, from 1")
        c.add_argument("--timeout", type=float, default=30)
        if name in ("start-replica", "resume-replay"):
            c.add_argument("--no-wait", action="store_true", help="do not wait until it caught up with the primary")
    a = ap.parse_args()
    {"start": start, "stop": stop, "kill-replica": kill_replica, "start-replica": start_replica,
     "pause-replay": pause_replay, "resume-replay": resume_replay}[a.cmd](a)


if __name__ == "__main__":
    main()
