#!/usr/bin/env python3
"""A whole Encore deployment on loopback, and the test that runs the designed flow through it while
instances die: the driver behind `scripts/cluster`.

  cluster.py up     [--dir D] --binary B   starts it; writes D/cluster.json; prints the balancer's URL
  cluster.py status [--dir D]              every process alive or dead, each instance's /ready, HAProxy's view
  cluster.py restart [--dir D] NAME        SIGKILLs instance NAME (api1, api2, media1, worker1, worker2) if
                                           it runs, then starts it again on the same port and data directory
  cluster.py down   [--dir D]              stops everything and removes D
  cluster.py test   [--dir D] --binary B   up, the scenario below, down (always); exit status 1 on any
                                           failed requirement

D defaults to $ENCORE_CLUSTER_DIR, else /tmp/encore-cluster (test: a new /tmp/encore-cluster-test.*).

What `up` starts, all on 127.0.0.1, each in a session of its own, with its log in D/logs/:
- a PostgreSQL primary and one streaming replica (Tests/python/postgres.py, in D/pg, run as the
  `postgres` user); `encore migrate` is run once, and the instances start with ENCORE_MIGRATE=false;
- two API instances (`serve --role api`; their reads go to the replica: ENCORE_DATABASE_READ_URL), one
  media instance (`--role media`) and two workers (`--role worker --workers 1`), each on a fixed free port
  with a data directory of its own (D/<name>), one shared blob directory (ENCORE_STORAGE=file:D/blobs),
  one secret generated for the cluster (D/secret, mode 0600, never printed), signed URLs that name the
  balancer (ENCORE_PUBLIC_URL, ENCORE_MEDIA_URL), X-Forwarded-For trusted from 127.0.0.1, bcrypt cost 4
  and a 10 s job lease (--job-lease: a killed worker's job goes to another worker that much later);
- HAProxy (Debian's, in the foreground, as a child: `haproxy -f D/haproxy.cfg -db`), the only address
  clients use: `/media/` to the media instance, everything else round robin over the API instances,
  health checks on /ready every 500 ms (down after 2 failures, up after 2 successes), 3 retries with
  redispatch to another instance. A connection that fails (the request was never sent) is retried for
  every method; a request that was sent and got no answer, a timeout or a 5xx is retried on another
  instance only for GET and HEAD (`http-request disable-l7-retry unless METH_GET`: a POST that reached
  an instance may have been committed). Its stats socket is D/haproxy.sock.

What `test` checks, everything through the balancer unless said otherwise:
- an artist and a listener register; the artist makes an artist profile and an album;
- background readers (threads, each a client of its own, as the listener) read steadily the whole time:
  the album and its track list, the artist, search, each track, and for each track they saw ready the
  stream grant, the HLS master playlist and the first KiB of the original (a Range request: 206);
- N tracks go through the designed flow (upload-url, PUT to the signed URL, POST /tracks); once a job is
  running, the worker running it (the job table's lease owner names its pid) and one API instance are
  SIGKILLed (with their process groups and children: their ffmpeg too), the remaining uploads go on while
  they are down, and both are started again on the same ports;
- every track becomes ready, exactly once: each is listed once in the album (and nothing else is), the
  job table holds one `done` track.process job per track and nothing queued, running or dead, and each
  track has one media folder in the blob store (the one its stream URLs name) and its upload is gone;
- a playlist of all the tracks reads back in order; search finds each track by its title; the readers
  streamed every track;
- /metrics of every instance, scraped on its own port, has `encore_http_requests_total`; by those counts
  both API instances served API routes (the restarted one since its restart) and no instance answered a
  5xx (HAProxy retries a GET that gets one elsewhere, so the client would never see it);
- zero failed GET/HEAD requests over the whole run, kills included: a failure is a connection error or
  any status other than the expected 200/206. One exception, counted apart: a reader that has not seen an
  entity yet may get 404 for it within --max-lag seconds of its creation by the artist (the replica has
  not replayed it: other users' writes show up with the replica's lag, by design); once a reader saw an
  entity, a 404 for it, or a 409 for a track it saw ready, is a failure. The artist's and the listener's
  reads of their own writes have no such exception (read-your-writes). Writes are retried by the client
  (up to 5 times, with backoff) when no answer came from Encore (a connection error, or 502/503/504); a
  retried write that finds its first attempt committed (POST /tracks: 409 or 422, the track is then found
  by its number and title; the upload PUT: 409) is resolved by reading, and reported;
- `down` leaves no process that mentions D and no D.
SIGTERM or SIGINT stops the scenario and takes the cluster down.
It ends with a Markdown table of figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
POSTGRES_PY = os.path.join(HERE, "postgres.py")
DEFAULT_DIR = "/tmp/encore-cluster"
INSTANCES = [("api1", "api"), ("api2", "api"), ("media1", "media"), ("worker1", "worker"), ("worker2", "worker")]
HTTP_TIMEOUT = 35  # above HAProxy's 30 s server timeout: HAProxy answers first
STARTED = time.monotonic()


_spec = importlib.util.spec_from_file_location("postgres_launcher", os.path.join(os.path.dirname(os.path.abspath(__file__)), "postgres.py"))
postgres_launcher = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(postgres_launcher)

def log(message: str) -> None:
    print(f"[cluster {time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


class Failure(Exception):
    """A requirement that did not hold, or a part that did not start."""


# --------------------------------------------------------------------------------------------- processes


def proc_alive(pid: int | None, marker: str | None = None) -> bool:
    """pid runs (not a zombie, reaped if it is our child) and, when marker is given, it is one of its
    command-line arguments (so that a recycled pid is never taken for ours): postgres.py's check."""
    return bool(pid) and postgres_launcher.proc_alive(pid, marker)


def processes_mentioning(path: str) -> list[tuple[int, str]]:
    """Every live process whose command line, working directory or open files mention `path`: what the
    cluster started (and what they started: ffmpeg, postgres's children), found without names."""
    found = []
    key = path.rstrip("/")
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    continue
            cwd = ""
            try:
                cwd = os.readlink(f"/proc/{entry}/cwd")
            except OSError:
                pass
        except (OSError, IndexError):
            continue
        if key in cmdline or cwd == key or cwd.startswith(key + "/"):
            found.append((int(entry), cmdline[:160]))
    return found


def stop_pid(pid: int | None, marker: str, deadline_s: float = 15, sig=signal.SIGTERM) -> None:
    """`sig` to the process, then SIGKILL to its process group (it leads one: started in a session of its
    own) once the deadline passes; then SIGKILL to what is left of the group (ffmpeg children)."""
    if not proc_alive(pid, marker):
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + deadline_s
    while proc_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    kill_group(pid, marker)


def descendants(pid: int) -> list[int]:
    """pid's children, theirs, and so on (found by parent pid in /proc)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_group(pid: int, marker: str) -> None:
    """SIGKILL to pid's process group and to every descendant of pid (a child that made a group of its
    own, as ffmpeg may, goes too): what a crash of the machine or the container would do. When pid is
    gone, only what is left of its group (Linux gives no new process a pid that still names a group);
    when pid runs but is not ours (marker), nothing."""
    if proc_alive(pid, marker):
        tree = descendants(pid)
    elif os.path.exists(f"/proc/{pid}"):
        return
    else:
        tree = []
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in tree:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while proc_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def free_ports(n: int) -> list[int]:
    """n distinct free loopback ports (all held at once while choosing, so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tail(path: str, n: int = 40) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)\n"


def get(url: str, timeout: float = 2, **kwargs) -> requests.Response | None:
    try:
        return requests.get(url, timeout=timeout, **kwargs)
    except requests.RequestException:
        return None


def poll(what: str, check, seconds: float, interval: float = 0.1):
    """check() until it returns something truthy; Failure naming `what` at the deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Failure(f"{what}: not before the {seconds:.0f} s deadline")
        time.sleep(interval)


# --------------------------------------------------------------------------------------------- the cluster


class Cluster:
    """The state of one cluster directory: D/cluster.json (ports, pids, paths; no secret)."""

    def __init__(self, d: str) -> None:
        self.dir = os.path.abspath(d)
        self.path = os.path.join(self.dir, "cluster.json")
        self.state: dict = {}

    # -- state

    def load(self) -> "Cluster":
        try:
            with open(self.path) as f:
                self.state = json.load(f)
        except FileNotFoundError:
            raise Failure(f"no cluster in {self.dir} (no cluster.json): scripts/cluster up first")
        return self

    def save(self) -> None:
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.state, f, indent=2)
        os.replace(tmp, self.path)

    @property
    def balancer(self) -> str:
        return self.state["balancer"]

    def secret(self) -> str:
        with open(os.path.join(self.dir, "secret")) as f:
            return f.read().strip()

    # -- up

    def up(self, binary: str, job_lease: int) -> None:
        binary = os.path.abspath(binary)
        os.makedirs(self.dir, exist_ok=True)
        if os.listdir(self.dir):
            raise Failure(f"{self.dir} exists and is not empty: a cluster is up there? (scripts/cluster down)")
        os.chmod(self.dir, 0o755)  # the postgres user must reach D/pg
        logs = os.path.join(self.dir, "logs")
        os.makedirs(logs)
        os.makedirs(os.path.join(self.dir, "blobs"))
        secret_path = os.path.join(self.dir, "secret")
        fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48) + "\n")
        self.state = {"dir": self.dir, "binary": os.path.abspath(binary), "created": time.time(), "instances": {},
                      "postgres": None, "haproxy": None}
        self.save()

        log("PostgreSQL: a primary and a streaming replica (Tests/python/postgres.py)")
        pg_dir = os.path.join(self.dir, "pg")
        r = subprocess.run([sys.executable, POSTGRES_PY, "start", "--dir", pg_dir, "--replicas", "1"],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=180)
        if r.returncode != 0:
            raise Failure(f"postgres.py start failed:\n{r.stderr[-3000:]}")
        pg = json.loads(r.stdout.strip().splitlines()[-1])
        self.state["postgres"] = {"dir": pg_dir, "url": pg["url"], "port": pg["port"], "pid": pg["pid"],
                                  "replica_url": pg["replicas"][0]["url"], "replica_port": pg["replicas"][0]["port"],
                                  "replica_pid": pg["replicas"][0]["pid"]}
        self.save()

        ports = free_ports(len(INSTANCES) + 1)
        self.state["balancer"] = f"http://127.0.0.1:{ports[0]}"
        self.state["settings"] = {
            "ENCORE_DATABASE_URL": pg["url"],
            "ENCORE_STORAGE": "file:" + os.path.join(self.dir, "blobs"),
            "ENCORE_PUBLIC_URL": self.balancer,
            "ENCORE_MEDIA_URL": self.balancer,
            "ENCORE_TRUSTED_PROXIES": "127.0.0.1",
            "ENCORE_BCRYPT_COST": "4",
            "ENCORE_JOB_LEASE": str(job_lease),
            "ENCORE_MIGRATE": "false",
        }
        for (name, role), port in zip(INSTANCES, ports[1:]):
            self.state["instances"][name] = {"role": role, "port": port, "pid": None,
                                             "data_dir": os.path.join(self.dir, name),
                                             "log": os.path.join(logs, name + ".log"), "starts": 0}
        self.save()

        out = subprocess.run([binary, "migrate", "--data-dir", os.path.join(self.dir, "migrate")], env=self.env_for(None),
                             capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=self.dir, timeout=120)
        if out.returncode != 0:
            raise Failure(f"encore migrate failed ({out.returncode}):\n{out.stdout[-1500:]}{out.stderr[-1500:]}")
        applied = [line for line in out.stdout.splitlines() if line.startswith("applied")]
        log(f"encore migrate: {len(applied)} migrations applied")

        for name, _ in INSTANCES:
            self.start_instance(name, wait=False)
        for name, _ in INSTANCES:
            self.wait_instance(name)
        self.start_haproxy()
        log(f"up: {self.balancer}")

    def env_for(self, name: str | None) -> dict:
        """The instance's environment: the caller's without ENCORE_* variables, plus the cluster's settings."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENCORE_")}
        env.update(self.state["settings"])
        env["ENCORE_SECRET"] = self.secret()
        if name is not None and self.state["instances"][name]["role"] == "api":
            env["ENCORE_DATABASE_READ_URL"] = self.state["postgres"]["replica_url"]
        if name is None:
            env.pop("ENCORE_MIGRATE", None)
        return env

    def command_for(self, name: str) -> list[str]:
        i = self.state["instances"][name]
        cmd = [self.state["binary"], "serve", "--role", i["role"], "--host", "127.0.0.1", "--port", str(i["port"]),
               "--data-dir", i["data_dir"]]
        if i["role"] == "worker":
            cmd += ["--workers", "1"]
        return cmd

    def start_instance(self, name: str, wait: bool = True) -> None:
        i = self.state["instances"][name]
        if proc_alive(i["pid"], i["data_dir"]):
            raise Failure(f"{name} is running (pid {i['pid']})")
        with open(i["log"], "ab") as f:
            f.write(f"---- cluster: starting {name} ({time.strftime('%H:%M:%S')})\n".encode())
            f.flush()
            proc = subprocess.Popen(self.command_for(name), stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=self.env_for(name), cwd=self.dir, start_new_session=True)
        i["pid"] = proc.pid
        i["starts"] += 1
        self.save()
        if wait:
            self.wait_instance(name)

    def wait_instance(self, name: str, seconds: float = 90) -> float:
        """Until the instance printed its listening line and its /ready answers 200; returns the seconds taken."""
        i = self.state["instances"][name]
        started = time.monotonic()
        url = f"http://127.0.0.1:{i['port']}/ready"

        def ready():
            if not proc_alive(i["pid"]):
                raise Failure(f"{name} exited while starting; log tail:\n{tail(i['log'])}")
            r = get(url, timeout=1)
            return r is not None and r.status_code == 200

        try:
            poll(f"{name} ready on port {i['port']}", ready, seconds)
        except Failure as e:
            raise Failure(f"{e}; log tail:\n{tail(i['log'])}")
        return time.monotonic() - started

    def kill_instance(self, name: str) -> int:
        """SIGKILL to the instance's process group (the instance and the ffmpeg it runs), as a crash."""
        i = self.state["instances"][name]
        pid = i["pid"]
        if not proc_alive(pid, i["data_dir"]):
            raise Failure(f"{name} is not running")
        kill_group(pid, i["data_dir"])
        i["pid"] = None
        self.save()
        return pid

    # -- haproxy

    def haproxy_config(self) -> str:
        inst = self.state["instances"]
        api = "\n".join(f"    server {n} 127.0.0.1:{inst[n]['port']} check" for n, i in inst.items() if i["role"] == "api")
        media = "\n".join(f"    server {n} 127.0.0.1:{inst[n]['port']} check" for n, i in inst.items() if i["role"] == "media")
        port = urllib.parse.urlsplit(self.balancer).port
        return f"""# Written by Tests/python/cluster.py for one cluster on loopback; runs in the foreground (-db).
global
    log stdout format raw local0
    stats socket {self.dir}/haproxy.sock mode 600 level admin
    maxconn 4000

defaults
    mode http
    log global
    # One line per request: method, URI, status, backend/server, retries (+ when redispatched), termination state.
    log-format "%HM %{{+Q}}HU %ST %b/%s retries=%rc term=%ts Tc=%Tc Tr=%Tr Ta=%Ta"
    option forwardfor
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    timeout http-request 10s
    retries 3
    option redispatch 1
    retry-on all-retryable-errors
    default-server inter 500ms fall 2 rise 2

frontend encore
    bind 127.0.0.1:{port}
    use_backend media if {{ path_beg /media/ }}
    default_backend api
    http-response set-header X-Encore-Server %[srv_name]

backend api
    balance roundrobin
    option httpchk GET /ready
    http-check expect status 200
    # Retries after the request was sent (no answer, a timeout, a 5xx) only for GET and HEAD (METH_GET):
    # a POST that reached an instance may have been committed. A failed connection (nothing was sent) is
    # retried, on the other instance (redispatch), for every method.
    http-request disable-l7-retry unless METH_GET
{api}

backend media
    option httpchk GET /ready
    http-check expect status 200
    http-request disable-l7-retry unless METH_GET
{media}
"""

    def start_haproxy(self) -> None:
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(self.haproxy_config())
        check = subprocess.run([haproxy, "-c", "-f", cfg], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if check.returncode != 0:
            raise Failure(f"haproxy -c rejected {cfg}:\n{check.stdout}{check.stderr}")
        hlog = os.path.join(self.dir, "logs", "haproxy.log")
        with open(hlog, "ab") as f:
            proc = subprocess.Popen([haproxy, "-f", cfg, "-db"], stdout=f, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=self.dir, start_new_session=True)
        self.state["haproxy"] = {"pid": proc.pid, "config": cfg, "socket": os.path.join(self.dir, "haproxy.sock"),
                                 "log": hlog, "binary": haproxy}
        self.save()

        def all_up():
            if not proc_alive(proc.pid):
                raise Failure(f"haproxy exited; log tail:\n{tail(hlog)}")
            stats = self.haproxy_servers()
            return stats and all(s["status"] == "UP" for s in stats.values())

        poll("HAProxy sees every instance UP", all_up, 30)
        r = poll("the balancer answers /ready", lambda: (lambda r: r is not None and r.status_code == 200)(
            get(self.balancer + "/ready")), 10)
        return r

    def haproxy_command(self, command: str) -> str:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect(self.state["haproxy"]["socket"])
            s.sendall(command.encode() + b"\n")
            chunks = []
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
            return b"".join(chunks).decode(errors="replace")
        finally:
            s.close()

    def haproxy_stat_rows(self) -> list[dict]:
        """Every row of HAProxy's `show stat`; [] when the socket does not answer."""
        try:
            text = self.haproxy_command("show stat")
        except OSError:
            return []
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines or not lines[0].startswith("# "):
            return []
        header = lines[0][2:].split(",")
        return [dict(zip(header, line.split(","))) for line in lines[1:]]

    def haproxy_servers(self) -> dict:
        """{server name: its `show stat` row} for the backends' servers; {} when the socket does not answer."""
        return {row["svname"]: row for row in self.haproxy_stat_rows() if row.get("svname") not in ("FRONTEND", "BACKEND")}

    def haproxy_backends(self) -> dict:
        return {row["pxname"]: row for row in self.haproxy_stat_rows() if row.get("svname") == "BACKEND"}

    # -- postgres

    def sql(self, query: str, replica: bool = False) -> str:
        pg = self.state["postgres"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["PGCONNECT_TIMEOUT"] = "3"
        r = subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", pg["replica_url" if replica else "url"], "-Atc", query],
                           capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=15)
        if r.returncode != 0:
            raise Failure(f"psql: {query}: {r.stderr.strip()}")
        return r.stdout.strip()

    # -- status

    def status(self) -> int:
        st = self.state
        servers = self.haproxy_servers() if st.get("haproxy") else {}
        rows = []
        bad = 0
        for name, i in st["instances"].items():
            alive = proc_alive(i["pid"], i["data_dir"])
            r = get(f"http://127.0.0.1:{i['port']}/ready", timeout=1)
            ready = r.status_code if r is not None else "no answer"
            hap = servers.get(name, {}).get("status", "-") if i["role"] != "worker" else "(not balanced)"
            bad += (not alive) or ready != 200
            rows.append((name, i["role"], str(i["pid"] or "-"), "alive" if alive else "DEAD", str(i["port"]), str(ready), hap))
        h = st.get("haproxy") or {}
        h_alive = proc_alive(h.get("pid"), h.get("config"))
        bad += not h_alive
        r = get(self.balancer + "/ready", timeout=1) if h_alive else None
        rows.append(("haproxy", "balancer", str(h.get("pid") or "-"), "alive" if h_alive else "DEAD",
                     str(urllib.parse.urlsplit(self.balancer).port), str(r.status_code if r is not None else "no answer"), "-"))
        pg = st["postgres"] or {}
        for label, pid, port, rep in (("pg-primary", pg.get("pid"), pg.get("port"), False),
                                      ("pg-replica", pg.get("replica_pid"), pg.get("replica_port"), True)):
            alive = proc_alive(pid)
            state = "-"
            if alive:
                try:
                    if rep:
                        state = "in recovery" if self.sql("SELECT pg_is_in_recovery()", replica=True) == "t" else "NOT a replica"
                    else:
                        streaming = self.sql("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
                        state = f"{streaming} replica(s) streaming"
                except Failure as e:
                    state = str(e)[:40]
            bad += not alive
            rows.append((label, "postgres", str(pid or "-"), "alive" if alive else "DEAD", str(port), state, "-"))
        print(f"cluster {self.dir}: balancer {self.balancer}")
        table(["process", "role", "pid", "process state", "port", "/ready (own port)", "HAProxy"], rows)
        return 1 if bad else 0

    # -- down

    def down(self) -> list:
        """Stops everything recorded (HAProxy, then the instances, then PostgreSQL), then anything left that
        mentions D, and removes D. Returns what had to be killed in that last sweep."""
        st = self.state
        h = st.get("haproxy") or {}
        if h.get("pid"):
            stop_pid(h["pid"], h.get("config"), deadline_s=5)
        inst = st.get("instances", {})
        for name, i in inst.items():  # SIGTERM to all, then wait: they shut down in parallel
            if proc_alive(i.get("pid"), i["data_dir"]):
                try:
                    os.kill(i["pid"], signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 15
        for name, i in inst.items():
            while proc_alive(i.get("pid")) and time.monotonic() < deadline:
                time.sleep(0.05)
            if i.get("pid"):
                kill_group(i["pid"], i["data_dir"])
        if st.get("postgres"):
            subprocess.run([sys.executable, POSTGRES_PY, "stop", "--dir", st["postgres"]["dir"]],
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        swept = sweep(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)
        return swept


def sweep(d: str) -> list:
    """SIGKILL, by pid, every process still mentioning d (none should be)."""
    left = processes_mentioning(d)
    for pid, _ in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if left:
        deadline = time.monotonic() + 5
        while processes_mentioning(d) and time.monotonic() < deadline:
            time.sleep(0.05)
    return left


def table(header: list[str], rows: list[tuple]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


# --------------------------------------------------------------------------------------------- the client side


class Ledger:
    """Every request the test makes, counted; every failure kept with what identifies it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.by_server: dict[str, int] = {}
        self.failures: list[str] = []
        self.failure_kinds: dict[str, int] = {}
        self.write_retries: list[str] = []
        self.resolved: list[str] = []
        self.reads = 0
        self.writes = 0
        self.max_lag = 5.0
        self.invisible: dict[str, int] = {}
        self.longest_invisible = 0.0
        self.t0 = time.monotonic()

    def count(self, method: str, label: str, response: requests.Response | None) -> None:
        with self.lock:
            key = f"{method} {label}"
            self.counts[key] = self.counts.get(key, 0) + 1
            if method in ("GET", "HEAD"):
                self.reads += 1
            else:
                self.writes += 1
            if response is not None:
                server = response.headers.get("X-Encore-Server", "?")
                self.by_server[server] = self.by_server.get(server, 0) + 1

    def not_yet(self, label: str, since_creation: float) -> None:
        with self.lock:
            self.invisible[label] = self.invisible.get(label, 0) + 1
            self.longest_invisible = max(self.longest_invisible, since_creation)

    def fail(self, text: str, kind: str = "other") -> None:
        with self.lock:
            self.failures.append(f"t={time.monotonic() - self.t0:.1f}s {text}")
            self.failure_kinds[kind] = self.failure_kinds.get(kind, 0) + 1
        print(f"FAILED REQUEST: {text}", flush=True)


def describe(response: requests.Response) -> str:
    h = response.headers
    return (f"{response.status_code} (server {h.get('X-Encore-Server', '?')}, request id {h.get('X-Request-Id', '-')}) "
            f"{response.text[:200]!r}")


def error_code(response: requests.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


class Client:
    """One user's session through the balancer."""

    def __init__(self, base: str, ledger: Ledger) -> None:
        self.base = base
        self.api_base = base + "/api/v1"
        self.ledger = ledger
        self.http = requests.Session()
        self.token = ""

    def headers(self, extra: dict | None = None) -> dict:
        h = dict(extra or {})
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        return h

    def read(self, url: str, label: str, expect=(200,), headers: dict | None = None, auth: bool = True,
             unseen_since: float | None = None, note: str = ""):
        """One GET, never retried by the client: any error or unexpected status is a failed read. Except one:
        `unseen_since` (when another user created the entity, for a client that has not seen it yet) makes a
        404 within `Ledger.max_lag` of it "not visible yet" (a replica that has not replayed the creation),
        counted apart."""
        full = url if url.startswith("http") else self.api_base + url
        try:
            r = self.http.get(full, headers=self.headers(headers) if auth else (headers or {}), timeout=HTTP_TIMEOUT)
        except requests.RequestException as e:
            self.ledger.count("GET", label, None)
            self.ledger.fail(f"GET {label} ({shorten(full)}): {type(e).__name__}: {e}", f"{label}: {type(e).__name__}")
            return None
        self.ledger.count("GET", label, r)
        if r.status_code == 404 and unseen_since is not None and time.monotonic() - unseen_since < self.ledger.max_lag:
            self.ledger.not_yet(label, time.monotonic() - unseen_since)
            return None
        if r.status_code not in expect:
            server = r.headers.get("X-Encore-Server", "HAProxy")
            self.ledger.fail(f"GET {label} ({shorten(full)}): {describe(r)}{note}",
                             f"{label}: {r.status_code} {error_code(r) or ''} from {server}".replace("  ", " "))
            return None
        return r

    def write(self, method: str, url: str, label: str, expect=(200, 201), committed=(), auth: bool = True, **kwargs):
        """A write, retried (5 attempts, backoff) when no answer came from Encore: a connection error, or 502,
        503, 504. Returns (response, retried). A status in `committed` on a retry means the first attempt
        landed: returned for the caller to resolve."""
        full = url if url.startswith("http") else self.api_base + url
        extra = kwargs.pop("headers", None)
        headers = self.headers(extra) if auth else dict(extra or {})
        last = ""
        for attempt in range(5):
            try:
                r = self.http.request(method, full, headers=headers, timeout=HTTP_TIMEOUT, **kwargs)
            except requests.RequestException as e:
                self.ledger.count(method, label, None)
                last = f"{type(e).__name__}: {e}"
                r = None
            else:
                self.ledger.count(method, label, r)
                if r.status_code in expect:
                    return r, attempt > 0
                if attempt > 0 and r.status_code in committed:
                    return r, True
                last = describe(r)
                if r.status_code not in (502, 503, 504):
                    break
            with self.ledger.lock:
                self.ledger.write_retries.append(f"{method} {label} attempt {attempt + 1}: {last[:160]}")
            print(f"write to retry: {method} {label} attempt {attempt + 1}: {last[:200]}", flush=True)
            time.sleep(0.2 * 2 ** attempt)
        raise Failure(f"{method} {label} ({shorten(full)}) failed: {last}")


def request_counts(text: str) -> list | None:
    """[(labels, value)] of encore_http_requests_total in a Prometheus text page; None when it has none."""
    rows = []
    for m in re.finditer(r'^encore_http_requests_total\{((?:[^"}]|"[^"]*")*)\}\s+(\S+)', text, re.M):
        rows.append((dict(re.findall(r'(\w+)="([^"]*)"', m.group(1))), float(m.group(2))))
    return rows or None


def shorten(url: str) -> str:
    # Media URLs carry a token: not printed whole.
    return re.sub(r"/media/[^/]+/", "/media/<token>/", url)[:140]


def make_flac(path: str, seconds: int, n: int) -> None:
    """n's tone over pink noise, as FLAC (noise keeps the encoders honest; each track's audio differs, so
    that no two are taken for the same recording)."""
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency={220 + n * 70}:duration={seconds}",
                        "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.3:duration={seconds}:seed={n + 1}",
                        "-filter_complex", "amix=inputs=2:normalize=0", "-ac", "2", "-ar", "44100", path],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise Failure(f"ffmpeg: {r.stderr[:300]}")


TITLE_WORDS = ["Amber", "Cobalt", "Saffron", "Juniper", "Obsidian", "Vermilion", "Lavender", "Marigold", "Tangerine", "Cerulean",
               "Magnolia", "Indigo", "Sienna", "Turquoise", "Mahogany", "Periwinkle"]
TITLE_NOUNS = ["Lighthouse", "Meadow", "Harbour", "Orchard", "Glacier", "Canyon", "Lantern", "Prairie", "Monsoon", "Estuary",
               "Citadel", "Aurora", "Tundra", "Archipelago", "Savanna", "Fjord"]


class Readers:
    """Background readers, as the listener: each a thread with its own session (a client of its own),
    reading steadily what the artist made. What a client has seen must not go back: an entity it read is
    never 404 after, a track it saw ready always streams. Before a client has seen an entity (another user
    made it a moment ago), a 404 is "not visible yet" for up to `Ledger.max_lag` seconds (the replica
    has not replayed it), counted apart; later, a failure."""

    def __init__(self, base: str, token: str, ledger: Ledger, album_id: str, artist_id: str, threads: int, pace: float) -> None:
        self.base, self.token, self.ledger = base, token, ledger
        self.album_id, self.artist_id = album_id, artist_id
        now = time.monotonic()
        self.created: dict[str, float] = {album_id: now, artist_id: now}
        self.tracks: list[str] = []
        self.titles: list[str] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.pace = pace
        self.threads = [threading.Thread(target=self.run, args=(k,), daemon=True) for k in range(threads)]
        self.rounds = 0
        self.streamed: set[str] = set()

    def add_track(self, tid: str, title: str) -> None:
        with self.lock:
            self.created[tid] = time.monotonic()
            self.tracks.append(tid)
            self.titles.append(title)

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=HTTP_TIMEOUT + 5)

    def run(self, k: int) -> None:
        client = Client(self.base, self.ledger)
        client.token = self.token
        rng = random.Random(k)
        seen: set[str] = set()
        ready: list[str] = []
        ready_from: dict[str, tuple[str, float]] = {}  # where and when this reader first saw each track ready

        def read(entity: str, url: str, label: str):
            unseen = None if entity in seen else self.created.get(entity)
            r = client.read(url, label, unseen_since=unseen)
            if r is not None:
                seen.add(entity)
            return r

        while not self.stop.is_set():
            with self.lock:
                tracks, titles = list(self.tracks), list(self.titles)
            steps = ["album", "album_tracks", "search", "artist"] + (["track"] * 2 if tracks else []) + (["stream"] * 3 if ready else [])
            step = rng.choice(steps)
            if step == "album":
                read(self.album_id, f"/albums/{self.album_id}", "/albums/{id}")
            elif step == "album_tracks":
                read(self.album_id, f"/albums/{self.album_id}/tracks?limit=100", "/albums/{id}/tracks")
            elif step == "artist":
                read(self.artist_id, f"/artists/{self.artist_id}", "/artists/{id}")
            elif step == "search":
                q = rng.choice(titles) if titles else "Cluster"
                client.read("/search?" + urllib.parse.urlencode({"q": q}), "/search")
            elif step == "track":
                tid = rng.choice(tracks)
                r = read(tid, f"/tracks/{tid}", "/tracks/{id}")
                if r is not None and r.json().get("status") == "ready" and tid not in ready:
                    ready.append(tid)
                    ready_from[tid] = (f"; this reader saw it ready {{}} s before, from {r.headers.get('X-Encore-Server', '?')} "
                                       f"(request id {r.headers.get('X-Request-Id', '-')})", time.monotonic())
            else:
                tid = rng.choice(ready)
                text, when = ready_from[tid]
                grant = client.read(f"/tracks/{tid}/stream", "/tracks/{id}/stream", note=text.format(f"{time.monotonic() - when:.2f}"))
                if grant is not None:
                    g = grant.json()
                    original = g["progressive"][0]["url"]
                    r = client.read(original, "/media/… (Range: first KiB of the original)", expect=(206,),
                                    headers={"Range": "bytes=0-1023"}, auth=False)
                    if r is not None and len(r.content) != 1024:
                        self.ledger.fail(f"GET media range: {len(r.content)} bytes, not 1024 ({describe(r)})", "media range: short body")
                    client.read(g["hls"], "/media/… (HLS master playlist)", auth=False)
                    with self.lock:
                        self.streamed.add(tid)
            with self.lock:
                self.rounds += 1
            self.stop.wait(self.pace)


# --------------------------------------------------------------------------------------------- the scenario


class Scenario:
    def __init__(self, cluster: Cluster, args) -> None:
        self.c = cluster
        self.args = args
        self.ledger = Ledger()
        self.checks: list[tuple[str, bool, str]] = []
        self.figures: list[tuple[str, str]] = []
        self.tracks: list[str] = []
        self.work = os.path.join(cluster.dir, "client")
        os.makedirs(self.work, exist_ok=True)

    def diagnosis(self) -> str:
        """The job table by state, the workers' last log lines and the primary's last errors: what to look at
        when no job runs (Encore's log may hide the database's message)."""
        c = self.c
        parts = []
        try:
            parts.append("jobs: " + c.sql("SELECT kind, state, count(*) FROM job GROUP BY 1, 2").replace("\n", "; "))
        except Failure as e:
            parts.append(str(e))
        for name, i in c.state["instances"].items():
            if i["role"] == "worker":
                parts.append(f"{name} log: " + tail(i["log"], 1).strip()[:300])
        pg_log = os.path.join(c.state["postgres"]["dir"], "primary.log")
        try:
            with open(pg_log, errors="replace") as f:
                errors = [line.strip() for line in f if " ERROR: " in line]
            if errors:
                parts.append(f"{len(errors)} errors in the primary's log, the last: {errors[-1][:300]}")
        except OSError:
            pass
        return "; ".join(parts)

    def check(self, what: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((what, bool(ok), detail))
        print(f"{'ok' if ok else 'FAILED'}: {what}{(' — ' + detail) if detail else ''}", flush=True)
        return bool(ok)

    def run(self) -> None:
        a = self.args
        base = self.c.balancer
        L = self.ledger
        tag = secrets.token_hex(3)

        # -- accounts and an album
        artist = Client(base, L)
        r, _ = artist.write("POST", "/auth/register", "/auth/register", expect=(201,), auth=False,
                            json={"email": f"artist-{tag}@cluster.invalid", "password": "cluster artist password",
                                  "displayName": "Cluster Artist", "role": "artist"})
        artist.token = r.json()["token"]
        listener = Client(base, L)
        r, _ = listener.write("POST", "/auth/register", "/auth/register", expect=(201,), auth=False,
                              json={"email": f"listener-{tag}@cluster.invalid", "password": "cluster listener password",
                                    "displayName": "Cluster Listener", "role": "listener"})
        listener.token = r.json()["token"]
        r, _ = artist.write("POST", "/artists", "/artists", expect=(201,), json={"name": f"Cluster Ensemble {tag}"})
        artist_id = r.json()["id"]
        r, _ = artist.write("POST", "/albums", "/albums", expect=(201,), json={"artistId": artist_id, "title": "Failover Sessions"})
        album_id = r.json()["id"]
        log(f"artist, listener, artist profile and album made (album {album_id})")

        L.max_lag = a.max_lag
        readers = Readers(base, listener.token, L, album_id, artist_id, a.readers, a.pace)
        readers.start()
        log(f"{a.readers} background readers started")

        try:
            self.flow(artist, listener, readers, album_id)
        finally:
            readers.finish()
        self.figures.append(("background reader rounds", str(readers.rounds)))
        self.check("the background readers streamed every track", set(readers.streamed) >= set(self.tracks),
                   f"{len(readers.streamed)} of {len(self.tracks)}")

    def flow(self, artist: Client, listener: Client, readers: Readers, album_id: str) -> None:
        a = self.args
        c = self.c
        L = self.ledger
        n = a.tracks
        files = []
        for k in range(n):
            path = os.path.join(self.work, f"track{k + 1}.flac")
            make_flac(path, a.seconds, k)
            files.append(path)
        titles = [f"{TITLE_WORDS[k % len(TITLE_WORDS)]} {TITLE_NOUNS[(k * 5) % len(TITLE_NOUNS)]}" for k in range(n)]
        log(f"{n} FLAC files of {a.seconds} s made ({sum(os.path.getsize(f) for f in files) // 1024} KiB)")

        tracks: list[str] = self.tracks

        def upload(k: int) -> None:
            grant_r = artist.read("/tracks/upload-url", "/tracks/upload-url")
            if grant_r is None:
                raise Failure("GET /tracks/upload-url failed")
            grant = grant_r.json()
            with open(files[k], "rb") as f:
                data = f.read()
            put, retried = artist.write("PUT", grant["uploadUrl"], "/media/… (PUT upload)", expect=(200, 201, 204), committed=(409,),
                                        auth=False, data=data, headers={"Content-Type": "audio/flac"})
            if retried and put.status_code == 409:
                L.resolved.append(f"PUT upload {k + 1}: the retry found the object stored ({error_code(put)})")
            body = {"albumId": album_id, "title": titles[k], "trackUrl": grant["trackUrl"], "trackNumber": k + 1}
            r, retried = artist.write("POST", "/tracks", "/tracks", expect=(201,), committed=(409, 422), json=body)
            if r.status_code == 201:
                track_id = r.json()["id"]
            else:
                # The first attempt may have landed: find the track by its number and title.
                page = artist.read(f"/albums/{album_id}/tracks?limit=100", "/albums/{id}/tracks")
                found = [t for t in (page.json()["items"] if page else []) if t["trackNumber"] == k + 1 and t["title"] == titles[k]]
                if len(found) != 1:
                    raise Failure(f"POST /tracks for track {k + 1} was retried ({describe(r)}) and no track {k + 1} exists")
                track_id = found[0]["id"]
                L.resolved.append(f"POST /tracks {k + 1}: the retry answered {r.status_code} {error_code(r)}; "
                                  f"the first attempt had made track {track_id}")
            tracks.append(track_id)
            readers.add_track(track_id, titles[k])

        t_upload = time.monotonic()
        before = max(1, n // 2)
        for k in range(before):
            upload(k)
        log(f"{before} tracks uploaded and created; waiting for a job to run")

        # -- the kills: the worker running a job (from the job table's lease owner), and the first API instance
        def running_job():
            rows = c.sql("SELECT id, lease_owner, payload FROM job WHERE kind = 'track.process' AND state = 'running' ORDER BY id")
            for line in rows.splitlines():
                job_id, owner, payload = line.split("|", 2)
                m = re.match(r".*-(\d+)-[0-9A-Fa-f]{8}/\d+$", owner)
                if not m:
                    continue
                pid = int(m.group(1))
                for name, i in c.state["instances"].items():
                    if i["role"] == "worker" and i["pid"] == pid:
                        return name, int(job_id), json.loads(payload).get("trackId", "?").lower(), owner
            return None

        try:
            victim_worker, job_id, job_track, owner = poll("a track.process job running on a worker", running_job, 60, 0.05)
        except Failure as e:
            raise Failure(f"{e}; {self.diagnosis()}")
        victim_api = "api1"
        t_kill = time.monotonic()
        wpid = c.kill_instance(victim_worker)
        apid = c.kill_instance(victim_api)
        log(f"SIGKILLed {victim_worker} (pid {wpid}, running job {job_id} for track {job_track}) and {victim_api} (pid {apid})")
        # Whether the kill did interrupt the job (it had not finished between the look and the kill).
        mid_job = c.sql(f"SELECT state = 'running' AND lease_owner = '{owner}' FROM job WHERE id = {job_id}") == "t"
        down_after = poll(f"HAProxy marks {victim_api} DOWN", lambda: (lambda s: s.get(victim_api, {}).get("status", "").startswith("DOWN"))(
            c.haproxy_servers()), 15, 0.05) and time.monotonic() - t_kill
        log(f"HAProxy marked {victim_api} DOWN {down_after:.1f} s after the kill")
        for k in range(before, n):
            upload(k)
        log(f"{n - before} more tracks uploaded while {victim_api} and {victim_worker} were down")
        # Keep the outage going a little under steady reads before bringing them back.
        outage_end = t_kill + a.outage
        while time.monotonic() < outage_end:
            time.sleep(0.1)
        c.start_instance(victim_api, wait=False)
        c.start_instance(victim_worker, wait=False)
        api_ready = c.wait_instance(victim_api)
        c.wait_instance(victim_worker)
        up_after = poll(f"HAProxy marks {victim_api} UP again", lambda: c.haproxy_servers().get(victim_api, {}).get("status") == "UP",
                        30, 0.05) and time.monotonic() - t_kill
        log(f"restarted both; {victim_api} ready {api_ready:.1f} s after its start, back UP in HAProxy {up_after:.1f} s after the kill")

        # -- every track ready
        def all_ready():
            states = {}
            for tid in tracks:
                r = artist.read(f"/tracks/{tid}", "/tracks/{id}")
                states[tid] = r.json()["status"] if r is not None else "?"
            if any(s == "failed" for s in states.values()):
                raise Failure(f"a track failed: {states}")
            return all(s == "ready" for s in states.values()) and states

        poll("every track ready", all_ready, a.ready_timeout, 0.5)
        t_ready = time.monotonic() - t_upload
        log(f"all {n} tracks ready {t_ready:.1f} s after the first upload")
        # Let the readers stream every track for a moment, with both instances back.
        settle_end = time.monotonic() + a.settle
        while time.monotonic() < settle_end:
            time.sleep(0.1)

        # -- exactly once
        page = artist.read(f"/albums/{album_id}/tracks?limit=100", "/albums/{id}/tracks")
        listed = [t["id"] for t in page.json()["items"]] if page else []
        self.check("every uploaded track is listed in the album exactly once, and nothing else is",
                   sorted(listed) == sorted(tracks) and len(set(listed)) == len(listed),
                   f"{len(listed)} listed, {len(tracks)} uploaded")
        statuses = [(artist.read(f"/tracks/{t}", "/tracks/{id}") or None) for t in tracks]
        self.check("every track is ready", all(s is not None and s.json()["status"] == "ready" for s in statuses))
        interrupted = c.sql(f"SELECT state || ' after ' || attempts || ' attempts' FROM job WHERE id = {job_id}")
        jobs = c.sql("SELECT kind, state, count(*) FROM job GROUP BY 1, 2 ORDER BY 1, 2")
        job_rows = [tuple(line.split("|")) for line in jobs.splitlines() if line]
        per_track = c.sql("SELECT lower(payload::json->>'trackId'), count(*), string_agg(state, ','), max(attempts) FROM job "
                          "WHERE kind = 'track.process' GROUP BY 1 ORDER BY 1")
        per = {row.split("|")[0]: row.split("|")[1:] for row in per_track.splitlines() if row}
        self.check("one track.process job per track, done",
                   sorted(per) == sorted(tracks) and all(v[0] == "1" and v[1] == "done" for v in per.values()),
                   "; ".join(f"{k[:8]}: {v[0]} job(s), {v[1]}, attempts {v[2]}" for k, v in per.items()))
        live = [r for r in job_rows if r[1] in ("queued", "running", "dead")]
        self.check("no job queued, running or dead", not live, jobs.replace("\n", "; "))
        blobs = os.path.join(c.dir, "blobs")
        folders = {}
        for tid in tracks:
            d = os.path.join(blobs, "tracks", tid)
            entries = sorted(os.listdir(d)) if os.path.isdir(d) else []
            folders[tid] = entries
        one_folder = all(len(e) == 1 and e[0].startswith("media-") for e in folders.values())
        self.check("each track has one media folder in the blob store (and its source is gone)", one_folder,
                   "" if one_folder else json.dumps(folders))
        stream_prefixes_ok = True
        for tid in tracks:
            g = listener.read(f"/tracks/{tid}/stream", "/tracks/{id}/stream")
            if g is None or f"tracks/{tid}/{folders[tid][0] if folders[tid] else '?'}/" not in g.json()["progressive"][0]["url"]:
                stream_prefixes_ok = False
        self.check("each track's stream URLs name that folder", stream_prefixes_ok)
        uploads_left = [os.path.join(root, f) for root, _, fs in os.walk(os.path.join(blobs, "uploads")) for f in fs]
        self.check("no upload left unattached in the blob store", not uploads_left, ", ".join(uploads_left)[:300])

        # -- playlists and search
        r, _ = listener.write("POST", "/playlists", "/playlists", expect=(201,), json={"title": "Failover mix"})
        playlist = r.json()["id"]
        for tid in tracks:
            r, retried = listener.write("POST", f"/playlists/{playlist}/tracks", "/playlists/{id}/tracks", expect=(200, 201),
                                        json={"trackId": tid})
            if retried:
                L.resolved.append(f"POST /playlists/{{id}}/tracks was retried for {tid}: checked by the read-back below")
        back = listener.read(f"/playlists/{playlist}/tracks?limit=100", "/playlists/{id}/tracks")
        order = [e["track"]["id"] for e in back.json()["items"]] if back else []
        self.check("the playlist reads back with every track, in order", order == tracks, f"{len(order)} entries")
        mine = listener.read("/playlists?limit=100", "/playlists")
        self.check("the listener's playlists list it", mine is not None and any(p["id"] == playlist for p in mine.json()["items"]))
        missing = []
        for tid, title in zip(tracks, titles):
            r = listener.read("/search?" + urllib.parse.urlencode({"q": title}), "/search")
            if r is None or tid not in [t["id"] for t in r.json()["tracks"]]:
                missing.append(title)
        self.check("search finds every track by its title", not missing, ", ".join(missing))

        # -- metrics from every instance, on its own port
        per_instance = {}
        for name, i in c.state["instances"].items():
            r = get(f"http://127.0.0.1:{i['port']}/metrics", timeout=5)
            per_instance[name] = request_counts(r.text if r is not None and r.status_code == 200 else "")
        self.check("/metrics of every instance has encore_http_requests_total", all(v is not None for v in per_instance.values()),
                   ", ".join(f"{k} {'yes' if v is not None else 'NO'}" for k, v in per_instance.items()))
        counted = {k: v or [] for k, v in per_instance.items()}
        api_served = {k: sum(n for labels, n in v if labels.get("route", "").startswith("/api/")) for k, v in counted.items()}
        self.check("both API instances served API requests (the restarted one since its restart)",
                   all(api_served[k] > 0 for k, i in c.state["instances"].items() if i["role"] == "api"),
                   ", ".join(f"{k} {int(v)}" for k, v in api_served.items() if c.state["instances"][k]["role"] == "api"))
        # /ready answers 503 until the instance is ready, by design: not an error.
        errors = {k: [(labels, n) for labels, n in v if labels.get("status", "").startswith("5") and labels.get("route") not in ("/ready", "/health")]
                  for k, v in counted.items()}
        self.check("no instance answered a 5xx (their own counts: HAProxy retries GETs that get one, and hides it)",
                   not any(errors.values()),
                   "; ".join(f"{k}: " + ", ".join(f"{l.get('method')} {l.get('route')} {l.get('status')} x{int(n)}" for l, n in v)
                             for k, v in errors.items() if v))

        # -- where the reads went: the API instances are given the replica (ENCORE_DATABASE_READ_URL)
        count_tx = "SELECT xact_commit FROM pg_stat_database WHERE datname = 'encore'"
        clients = ("SELECT count(*) FROM pg_stat_activity WHERE datname = 'encore' AND backend_type = 'client backend' "
                   "AND pid <> pg_backend_pid()")
        database_use = (f"{c.sql(count_tx)} / {c.sql(count_tx, replica=True)} transactions; "
                        f"{c.sql(clients)} / {c.sql(clients, replica=True)} client connections now")

        # -- figures
        backends = c.haproxy_backends()
        self.figures += [
            ("tracks uploaded / ready / listed once", f"{n} / {n} / {len(set(listed) & set(tracks))}"),
            ("audio per track", f"{a.seconds} s FLAC"),
            ("first upload to all ready", f"{t_ready:.1f} s"),
            ("killed (SIGKILL)", f"{victim_api} and {victim_worker} (running job {job_id})"),
            (f"{victim_api} marked DOWN by HAProxy", f"{down_after:.1f} s after the kill"),
            (f"{victim_api} back UP in HAProxy", f"{up_after:.1f} s after the kill"),
            (f"job {job_id}, running on {victim_worker} when it was killed",
             ("interrupted mid-job; " if mid_job else "it had just finished; ") + interrupted),
            ("jobs (kind, state, count)", jobs.replace("|", " ").replace("\n", "; ")),
            ("PostgreSQL primary / replica (database encore)", database_use),
            ("requests served per instance (HAProxy)", ", ".join(f"{k} {v}" for k, v in sorted(L.by_server.items()))),
            ("HAProxy retries / redispatches",
             ", ".join(f"{b} {row.get('wretr', '?')}/{row.get('wredis', '?')}" for b, row in backends.items() if b in ("api", "media"))),
            ("encore_http_requests_total per instance (since its last start)",
             ", ".join(f"{k} {int(sum(n for _, n in v))}" for k, v in counted.items())),
        ]

    def report(self, elapsed: float, leftovers: list, dir_gone: bool) -> bool:
        L = self.ledger
        failed_reads = [f for f in L.failures]
        self.check("zero failed GET/HEAD requests, kills included", not failed_reads, f"{len(failed_reads)} failed")
        self.check("no process left behind", not leftovers, "; ".join(f"{p} {c}" for p, c in leftovers))
        self.check("the cluster directory is removed", dir_gone)
        print()
        print("Cluster test (scripts/cluster test)")
        print()
        rows = [("requests through the balancer", f"{L.reads + L.writes} ({L.reads} GET, {L.writes} writes)"),
                ("failed GET requests", str(len(failed_reads)) + (" (" + "; ".join(f"{k} ×{v}" for k, v in L.failure_kinds.items()) + ")"
                                                                  if L.failure_kinds else "")),
                ("another user's new entity not visible yet (404 within --max-lag)",
                 (f"{sum(L.invisible.values())} reads, the last {L.longest_invisible:.2f} s after the creation"
                  if L.invisible else "0 reads")),
                ("writes retried by the client", f"{len(L.write_retries)}" + (f" ({len(L.resolved)} resolved by reading)" if L.resolved else ""))]
        rows += self.figures
        rows += [("checks passed", f"{sum(ok for _, ok, _ in self.checks)} of {len(self.checks)}"),
                 ("wall time (up, test, down)", f"{elapsed:.0f} s")]
        table(["figure", "value"], rows)
        print()
        print("requests by route:")
        table(["request", "count"], sorted(L.counts.items(), key=lambda kv: -kv[1]))
        if L.write_retries:
            print("\nwrite retries:\n  " + "\n  ".join(L.write_retries))
        if L.resolved:
            print("\nresolved by reading:\n  " + "\n  ".join(L.resolved))
        if failed_reads:
            print("\nfailed requests:\n  " + "\n  ".join(failed_reads[:50]))
        failed = [w for w, ok, _ in self.checks if not ok]
        if failed:
            print("\nFAILED:\n  " + "\n  ".join(failed))
        return not failed


# --------------------------------------------------------------------------------------------- commands


def raise_interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def cmd_up(args) -> int:
    c = Cluster(args.dir)
    signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        c.up(args.binary, args.job_lease)
    except BaseException:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if os.path.exists(c.path):
            c.load().down()
        raise
    print(c.balancer)
    return 0


def cmd_status(args) -> int:
    return Cluster(args.dir).load().status()


def cmd_restart(args) -> int:
    c = Cluster(args.dir).load()
    if args.name not in c.state["instances"]:
        raise Failure(f"no instance {args.name}: one of {', '.join(c.state['instances'])}")
    i = c.state["instances"][args.name]
    if proc_alive(i["pid"], i["data_dir"]):
        c.kill_instance(args.name)
    c.start_instance(args.name)
    print(f"{args.name} restarted (pid {c.state['instances'][args.name]['pid']})")
    return 0


def cmd_down(args) -> int:
    c = Cluster(args.dir)
    if not os.path.exists(c.path):
        if args.if_exists or not os.path.exists(c.dir):
            shutil.rmtree(c.dir, ignore_errors=True)
            return 0
        raise Failure(f"no cluster in {c.dir} (no cluster.json)")
    left = c.load().down()
    if left and not args.quiet:
        print("killed leftovers: " + "; ".join(f"{p} {cmd}" for p, cmd in left))
    return 0


def cmd_test(args) -> int:
    started = time.monotonic()
    d = args.dir or tempfile.mkdtemp(prefix="encore-cluster-test.", dir="/tmp")
    c = Cluster(d)
    scenario = None
    ok = False
    error = None

    signal.signal(signal.SIGTERM, raise_interrupt)
    signal.signal(signal.SIGINT, raise_interrupt)
    try:
        c.up(args.binary, args.job_lease)
        scenario = Scenario(c, args)
        scenario.run()
        ok = True
    except Failure as e:
        error = str(e)
        print(f"FAILED: {e}", flush=True)
    except KeyboardInterrupt as e:
        error = f"interrupted ({e})"
        print(error, flush=True)
    except Exception as e:
        import traceback
        traceback.print_exc()
        error = f"{type(e).__name__}: {e}"
    finally:
        # Nothing interrupts the way down.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if not ok and os.path.exists(c.path):
            for name, i in c.state.get("instances", {}).items():
                if os.path.exists(i["log"]):
                    print(f"---- {name} log tail\n{tail(i['log'], 15)}", end="")
            if c.state.get("haproxy"):
                print(f"---- haproxy log tail\n{tail(c.state['haproxy']['log'], 15)}", end="")
        if args.keep_logs and os.path.isdir(os.path.join(d, "logs")):
            keep = os.path.abspath(args.keep_logs)
            shutil.copytree(os.path.join(d, "logs"), keep, dirs_exist_ok=True)
            for name in ("primary.log", "replica1.log"):
                if os.path.exists(os.path.join(d, "pg", name)):
                    shutil.copy(os.path.join(d, "pg", name), os.path.join(keep, "postgres-" + name))
            log(f"logs copied to {keep}")
        log("down")
        swept = []
        if os.path.exists(c.path):
            swept = c.load().down()
        else:
            shutil.rmtree(d, ignore_errors=True)
    # What down had to kill by its last sweep (nothing should have been left for it) and what still runs.
    leftovers = swept + processes_mentioning(c.dir)
    dir_gone = not os.path.exists(c.dir)
    if scenario is None:
        print("the cluster did not come up")
        return 1
    scenario.check("the scenario ran to its end", error is None, (error or "")[:300])
    passed = scenario.report(time.monotonic() - started, leftovers, dir_gone)
    return 0 if ok and passed else 1


def main() -> int:
    default_dir = os.environ.get("ENCORE_CLUSTER_DIR") or DEFAULT_DIR
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def with_binary(p):
        p.add_argument("--binary", required=True, help="the encore binary (with PostgreSQL support)")
        p.add_argument("--job-lease", type=int, default=10, help="ENCORE_JOB_LEASE for every instance (default 10 s)")

    p = sub.add_parser("up", help="start a cluster")
    p.add_argument("--dir", default=default_dir)
    with_binary(p)
    p = sub.add_parser("status", help="what runs, what answers")
    p.add_argument("--dir", default=default_dir)
    p = sub.add_parser("restart", help="SIGKILL an instance and start it again")
    p.add_argument("--dir", default=default_dir)
    p.add_argument("name")
    p = sub.add_parser("down", help="stop everything, remove the directory")
    p.add_argument("--dir", default=default_dir)
    p.add_argument("--if-exists", action="store_true", help="no cluster there is not an error")
    p.add_argument("--quiet", action="store_true")
    p = sub.add_parser("test", help="up, the failover scenario, down")
    p.add_argument("--dir", help="an empty directory to use (default: a new /tmp/encore-cluster-test.*)")
    with_binary(p)
    p.add_argument("--tracks", type=int, default=6, help="tracks to upload (default 6)")
    p.add_argument("--seconds", type=int, default=20, help="audio length of each track (default 20 s)")
    p.add_argument("--readers", type=int, default=4, help="background reader threads (default 4)")
    p.add_argument("--pace", type=float, default=0.02, help="pause between a reader's requests (default 0.02 s)")
    p.add_argument("--outage", type=float, default=4, help="seconds from the kills to the restarts, at least (default 4)")
    p.add_argument("--settle", type=float, default=3, help="seconds of reads once every track is ready (default 3)")
    p.add_argument("--keep-logs", metavar="DIR", help="copy every log (instances, HAProxy, PostgreSQL) to DIR before down")
    p.add_argument("--max-lag", type=float, default=5,
                   help="seconds another user's new entity may answer 404 before a reader first sees it (replica lag; default 5)")
    p.add_argument("--ready-timeout", type=float, default=300, help="deadline for every track to be ready (default 300 s)")
    args = ap.parse_args()
    try:
        return {"up": cmd_up, "status": cmd_status, "restart": cmd_restart, "down": cmd_down, "test": cmd_test}[args.cmd](args)
    except Failure as e:
        print(f"cluster {args.cmd}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
