"""The designed flow on a real S3 server, and the caching edge in front of it: Encore on
`ENCORE_STORAGE=s3://…` against SeaweedFS, with nginx (Debian's) configured by `encore edge-config`.

    python3 s3_edge.py --server .build/debug/encore

It starts SeaweedFS (Tests/python/seaweedfs.py) and an Encore of its own on loopback, then checks, with
requests and boto3 as the clients:
- uploads go straight to the bucket through a pre-signed PUT (Encore never sees the bytes); a tampered,
  expired or wrong-method URL is refused by SeaweedFS itself; an oversized upload is refused and removed;
- the pipeline reads the upload from the bucket and writes every rendition back;
- progressive files stream from pre-signed S3 GETs (Range, HEAD); HLS and DASH go through Encore's media
  origin, which checks its prefix token and relays the bytes from the bucket;
- deleting a track removes every object it had;
- the edge serves a valid token's objects and caches them once for everyone (the second fetch, even with
  another listener's token, is a HIT and never reaches Encore), cuts ranges from its cache, checks each
  token with Encore once per folder, refuses tampered, foreign and expired tokens with Encore's JSON
  codes (also when its answer for the token was cached), and `encore edge warm` fills it;
- with S3 stopped (SIGKILL), upload and stream grants and POST /tracks fail fast with a retryable 503 JSON
  error; an upload cut off mid-way leaves no track; a transcode whose S3 dies mid-job is retried once S3
  is back and the track becomes ready exactly once, with one media folder.
Everything it starts, it stops; it leaves no directory behind.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import boto3
import botocore.config
import m3u8
import mpegdash.parser
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seaweedfs  # noqa: E402
from tally import Tally  # noqa: E402

PASSWORD = "s3-flow-password-1"
TIMEOUT = 20
tally = Tally()
check = tally.check


STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[s3_edge {time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


def poll(fetch, done, seconds: float, interval: float = 0.25):
    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------------- the parts


class S3:
    """A SeaweedFS on fixed loopback ports, so that it can be killed and started again on the same data."""

    def __init__(self, work: str) -> None:
        self.dir = os.path.join(work, "seaweed")
        self.base = self.free_base()
        self.info: dict = {}
        self.start()

    @staticmethod
    def free_base() -> int:
        for _ in range(50):
            base = seaweedfs.free_ports(1)[0]
            if base > 60000:
                continue
            try:
                seaweedfs.free_ports(len(seaweedfs.PORT_NAMES), base)
                return base
            except OSError:
                continue
        raise SystemExit("no run of free ports for SeaweedFS")

    def start(self) -> None:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seaweedfs.py")
        result = subprocess.run([sys.executable, script, "start", "--dir", self.dir, "--port-base", str(self.base), "--timeout", "60"],
                                capture_output=True, text=True, timeout=90)
        if result.returncode != 0:
            raise SystemExit(f"SeaweedFS did not start: {result.stderr[-2000:]}")
        self.info = json.loads(result.stdout.strip().splitlines()[-1])

    def kill(self) -> None:
        """SIGKILL, as a crash: SeaweedFS takes up to 30 s to stop on SIGTERM."""
        try:
            os.killpg(self.info["pid"], signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(self.info["pid"], 0)
            except ProcessLookupError:
                break
            try:  # reap it if it is our child's child (it is not), else wait for it to vanish
                os.waitpid(self.info["pid"], os.WNOHANG)
            except ChildProcessError:
                pass
            time.sleep(0.1)

    def client(self):
        return boto3.client("s3", endpoint_url=self.info["endpoint"], region_name=self.info["region"],
                            aws_access_key_id=self.info["accessKey"], aws_secret_access_key=self.info["secretKey"],
                            config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def keys(self, prefix: str) -> list[str]:
        keys, token = [], None
        while True:
            args = {"Bucket": self.info["bucket"], "Prefix": prefix}
            if token:
                args["ContinuationToken"] = token
            page = self.client().list_objects_v2(**args)
            keys += [item["Key"] for item in page.get("Contents", [])]
            if not page.get("IsTruncated"):
                return keys
            token = page["NextContinuationToken"]


class Encore:
    def __init__(self, binary: str, work: str, s3: S3, root: str) -> None:
        self.data_dir = os.path.join(work, "encore")
        info = s3.info
        env = dict(os.environ, ENCORE_BCRYPT_COST="4", ENCORE_UPLOAD_URL_TTL="10", ENCORE_STREAM_URL_TTL="12",
                   ENCORE_MAX_UPLOAD_BYTES=str(6 << 20),
                   ENCORE_WORKERS="1", ENCORE_LOG_LEVEL="info",
                   ENCORE_STORAGE=f"s3://{info['bucket']}/{root}?endpoint={info['endpoint']}&region={info['region']}",
                   AWS_ACCESS_KEY_ID=info["accessKey"], AWS_SECRET_ACCESS_KEY=info["secretKey"])
        self.log_path = os.path.join(work, "encore.log")
        self.log_file = open(self.log_path, "w")
        self.process = subprocess.Popen([binary, "serve", "--data-dir", self.data_dir, "--port", "0"], stdout=subprocess.PIPE,
                                        stderr=self.log_file, env=env, text=True)
        self.env = env
        self.base = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.base is None:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                break
            if line.startswith("encore listening on "):
                self.base = "http://" + line[len("encore listening on "):].split(",")[0].strip()
        if self.base is None:
            self.stop()
            raise SystemExit("encore did not start: " + open(self.log_path).read()[-2000:])
        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()

    def transcoding(self) -> bool:
        """True while one of the server's children is an ffmpeg."""
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{pid}/comm") as comm:
                    name = comm.read().strip()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and name == "ffmpeg":
                return True
        return False


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.token = ""

    def api(self, method: str, path: str, expect=(200, 201, 202, 204), **kwargs) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        response = self.http.request(method, self.base + "/api/v1" + path, headers=headers, timeout=TIMEOUT, **kwargs)
        if expect and response.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response


def make_flac(path: str, seconds: int, frequency: int, noise: bool = False) -> bytes:
    """A tone, or quiet pink noise (which FLAC cannot squeeze: megabytes, for objects larger than the relay's chunk)."""
    source = f"anoisesrc=a=0.02:d={seconds}:c=pink" if noise else f"sine=frequency={frequency}:duration={seconds}"
    result = subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source,
                             "-ac", "2", "-ar", "44100", path], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg: {result.stderr[:300]}")
    with open(path, "rb") as source:
        return source.read()


def tampered(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query)
    query = [(k, ("0" if v[0] != "0" else "1") + v[1:]) if k == "X-Amz-Signature" else (k, v) for k, v in query]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def forge(token: str) -> str:
    """The token with one character of its payload changed (an early one: the last character of a
    base64url run may carry only padding bits, and changing those changes nothing)."""
    return token[:3] + ("B" if token[3] != "B" else "C") + token[4:]


def error_code(response: requests.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


# --------------------------------------------------------------------------- the checks


def wait_ready(client: Client, track_id: str, seconds: float = 120) -> dict:
    return poll(lambda: client.api("GET", f"/tracks/{track_id}").json(), lambda t: t.get("status") in ("ready", "failed"), seconds)


def upload(client: Client, data: bytes) -> dict:
    grant = client.api("GET", "/tracks/upload-url").json()
    put = requests.put(grant["uploadUrl"], data=data, headers={"Content-Type": "audio/flac"}, timeout=TIMEOUT)
    if put.status_code not in (200, 201, 204):
        raise RuntimeError(f"PUT to the bucket: {put.status_code} {put.text[:300]}")
    return grant


def designed_flow(ctx: dict) -> None:
    client, s3, root, work = ctx["client"], ctx["s3"], ctx["root"], ctx["work"]
    endpoint = s3.info["endpoint"]
    data = make_flac(os.path.join(work, "a.flac"), 12, 440)

    grant = client.api("GET", "/tracks/upload-url").json()
    granted = time.time()
    check(grant["uploadUrl"].startswith(endpoint + "/"), f"the upload URL is the bucket's, not Encore's: {grant['uploadUrl'][:80]}")
    check("X-Amz-Signature=" in grant["uploadUrl"] and "X-Amz-Expires=" in grant["uploadUrl"], "the upload URL is a SigV4 pre-signed URL")
    upload_key = f"{root}/" + grant["trackUrl"][len("blob:"):]
    wrong_method = requests.get(grant["uploadUrl"], timeout=TIMEOUT)
    check(wrong_method.status_code == 403, f"SeaweedFS refuses a GET with the PUT URL ({wrong_method.status_code})")
    forged = requests.put(tampered(grant["uploadUrl"]), data=data, timeout=TIMEOUT)
    check(forged.status_code == 403, f"SeaweedFS refuses a tampered upload URL ({forged.status_code})")
    other_key = grant["uploadUrl"].replace(grant["trackUrl"].rsplit("/", 1)[1], str(uuid.uuid4()))
    check(requests.put(other_key, data=data, timeout=TIMEOUT).status_code == 403, "SeaweedFS refuses the URL for another key")
    # Labelled text/html by a hostile client: S3 keeps what the uploader says, so Encore must not pass it on.
    put = requests.put(grant["uploadUrl"], data=data, headers={"Content-Type": "text/html"}, timeout=TIMEOUT)
    check(put.status_code == 200, f"the pre-signed PUT stores the upload ({put.status_code} {put.text[:200]})")
    # With its size declared, the URL takes exactly that many bytes: S3 checks the signed Content-Length.
    sized = client.api("GET", f"/tracks/upload-url?size={len(data)}").json()
    check(sized["maxBytes"] == len(data) and "content-length" in urllib.parse.unquote(sized["uploadUrl"]), "a declared size is signed into the URL")
    longer = requests.put(sized["uploadUrl"], data=data + b"!", timeout=TIMEOUT)
    check(longer.status_code == 403, f"SeaweedFS refuses a body longer than declared ({longer.status_code})")
    exact = requests.put(sized["uploadUrl"], data=data, timeout=TIMEOUT)
    check(exact.status_code == 200, f"and takes the declared bytes ({exact.status_code} {exact.text[:200]})")
    too_big = client.api("GET", f"/tracks/upload-url?size={(6 << 20) + 1}", expect=None)
    check(too_big.status_code == 413 and error_code(too_big) == "upload_too_large", "a declared size over the limit is refused before any byte is sent")
    head = s3.client().head_object(Bucket=s3.info["bucket"], Key=upload_key)
    check(head["ContentLength"] == len(data), "the upload is in the bucket, byte count intact")

    body = {"albumId": ctx["album"], "title": "On S3", "trackUrl": grant["trackUrl"], "trackNumber": 1}
    track = client.api("POST", "/tracks", json=body).json()
    check(track["status"] == "processing", "POST /tracks takes the upload from the bucket")
    check(upload_key not in s3.keys(f"{root}/uploads/"), "the upload moved out of uploads/ into the track's folder")
    ready = wait_ready(client, track["id"])
    check(ready.get("status") == "ready", f"the pipeline read the upload from the bucket and made the track ready: {ready.get('status')} {ready.get('failure')}")
    track_id = track["id"].lower()
    stored = s3.keys(f"{root}/tracks/{track_id}/")
    check(any(k.endswith("master.m3u8") for k in stored) and any(k.endswith(".mpd") for k in stored)
          and sum(k.endswith(".m4s") for k in stored) >= 3 and any(k.endswith(".mp3") for k in stored)
          and any("/original." in k for k in stored), f"every rendition is in the bucket ({len(stored)} objects)")
    check(not any("/source-" in k for k in stored), "the consumed upload is gone once the track is ready")

    # An expired upload URL: the grant taken above has lived past ENCORE_UPLOAD_URL_TTL=10 by now.
    time.sleep(max(0.0, 12 - (time.time() - granted)))
    late = requests.put(grant["uploadUrl"], data=b"late", timeout=TIMEOUT)
    check(late.status_code == 403, f"SeaweedFS refuses an expired upload URL ({late.status_code})")

    stream = client.api("GET", f"/tracks/{track_id}/stream").json()
    progressive = {p["format"]: p for p in stream["progressive"]}
    mp3 = progressive.get("mp3")
    check(mp3 is not None and mp3["url"].startswith(endpoint + "/"), "progressive files stream from pre-signed S3 GETs")
    if mp3:
        whole = requests.get(mp3["url"], timeout=TIMEOUT)
        check(whole.status_code == 200 and (whole.content[:3] == b"ID3" or whole.content[:2] in (b"\xff\xfb", b"\xff\xf3")),
              f"the MP3 comes from the bucket ({whole.status_code}, {whole.content[:4]!r})")
        check(whole.headers.get("Content-Type", "").startswith("audio/mpeg"), f"with its content type ({whole.headers.get('Content-Type')})")
        part = requests.get(mp3["url"], headers={"Range": "bytes=100-1099"}, timeout=TIMEOUT)
        check(part.status_code == 206 and part.content == whole.content[100:1100], "a Range GET of the pre-signed URL answers those bytes")
        # (HEAD is not offered: S3 signs the method, and a pre-signed GET is good for GET only, on AWS too.)
        check(requests.get(tampered(mp3["url"]), timeout=TIMEOUT).status_code == 403, "SeaweedFS refuses a tampered stream URL")
        check(requests.put(mp3["url"], data=b"x", timeout=TIMEOUT).status_code == 403, "SeaweedFS refuses a PUT with a stream URL")
        other = mp3["url"].replace(".mp3", ".ogg") if ".mp3" in mp3["url"] else mp3["url"] + "x"
        check(requests.get(other, timeout=TIMEOUT).status_code == 403, "the stream URL is good for its own key only")

    original = progressive.get("flac")
    if original:
        # The upload was PUT as audio/flac by the client; what listeners get is the type its name says, whatever the uploader sent.
        served = requests.get(original["url"], timeout=TIMEOUT)
        check(served.status_code == 200 and served.content == data and served.headers.get("Content-Type") == "audio/flac",
              f"the original is the uploaded bytes, typed by its name ({served.headers.get('Content-Type')})")
    check(stream["hls"].startswith(client.base + "/media/"), "HLS goes through Encore's media origin (one token for the folder)")
    master_response = requests.get(stream["hls"], timeout=TIMEOUT)
    check(master_response.status_code == 200, f"the master playlist is relayed from the bucket ({master_response.status_code})")
    master = m3u8.loads(master_response.text, uri=stream["hls"])
    check(master.is_variant and len(master.playlists) >= 2, "it is a multivariant playlist")
    if master.playlists:
        variant_url = master.playlists[0].absolute_uri
        variant = m3u8.loads(requests.get(variant_url, timeout=TIMEOUT).text, uri=variant_url)
        check(len(variant.segments) >= 2, "its variant lists segments")
        segment_url = variant.segments[1].absolute_uri
        segment = requests.get(segment_url, timeout=TIMEOUT)
        key = f"{root}/" + segment_url.split("/media/", 1)[1].split("/", 1)[1]
        original = s3.client().get_object(Bucket=s3.info["bucket"], Key=key)["Body"].read()
        check(segment.status_code == 200 and segment.content == original, "a segment through the relay is the bucket's object, byte for byte")
        ranged = requests.get(segment_url, headers={"Range": "bytes=10-109"}, timeout=TIMEOUT)
        check(ranged.status_code == 206 and ranged.content == original[10:110], "a Range of a relayed segment")
        check(requests.head(segment_url, timeout=TIMEOUT).headers.get("Content-Length") == str(len(original)), "HEAD of a relayed segment")
        token = segment_url.split("/media/", 1)[1].split("/", 1)[0]
        forged_segment = requests.get(segment_url.replace(token, forge(token)), timeout=TIMEOUT)
        check(forged_segment.status_code == 403 and error_code(forged_segment) == "invalid_signature", "a tampered media token is refused")
        outside = requests.get(segment_url.replace(track_id, str(uuid.uuid4())), timeout=TIMEOUT)
        check(outside.status_code == 403 and error_code(outside) == "outside_scope", "the token covers this track only")
        zipped = requests.get(stream["hls"], headers={"Accept-Encoding": "gzip"}, timeout=TIMEOUT)
        check(zipped.headers.get("Content-Encoding") == "gzip" and "#EXTM3U" in zipped.text, "playlists come gzipped when asked for")
    dash = requests.get(stream["dash"], timeout=TIMEOUT)
    check(dash.status_code == 200, "the DASH manifest is relayed too")
    mpd = mpegdash.parser.MPEGDASHParser.parse(dash.text)
    check(len(mpd.periods[0].adaptation_sets) >= 1, "and parses as an MPD")

    client.api("DELETE", f"/tracks/{track_id}", expect=(200, 204))
    gone = poll(lambda: s3.keys(f"{root}/tracks/{track_id}/"), lambda keys: not keys, 10)
    check(gone == [], f"deleting the track removes every object it had ({len(gone)} left)")

    # Oversized: a pre-signed PUT cannot cap its size, so POST /tracks refuses it and removes it.
    big = upload(client, os.urandom((6 << 20) + 1))
    refused = client.api("POST", "/tracks", expect=(413,), json={**body, "trackUrl": big["trackUrl"]})
    check(error_code(refused) == "upload_too_large", "an oversized upload is refused by POST /tracks")
    big_key = f"{root}/" + big["trackUrl"][len("blob:"):]
    check(big_key not in s3.keys(f"{root}/uploads/"), "and removed from the bucket")


class Nginx:
    """The edge: `encore edge-config` run by Debian's nginx, in a directory of its own."""

    def __init__(self, binary: str, work: str, origin: str) -> None:
        self.dir = os.path.join(work, "edge")
        os.makedirs(os.path.join(self.dir, "cache"))
        self.port = seaweedfs.free_ports(1)[0]
        self.base = f"http://127.0.0.1:{self.port}"
        config = subprocess.run([binary, "edge-config", "--listen", f"127.0.0.1:{self.port}", "--origin", origin,
                                 "--cache-dir", os.path.join(self.dir, "cache"), "--user", "root", "--workers", "1"],
                                capture_output=True, text=True, timeout=30, check=True).stdout
        with open(os.path.join(self.dir, "nginx.conf"), "w") as out:
            out.write(config)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen([nginx, "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"), "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        up = poll(self.answering, bool, 15, interval=0.1)
        if not up or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("nginx did not start: " + (self.process.stderr.read() or b"").decode()[-1000:])

    def answering(self) -> bool:
        if self.process.poll() is not None:
            return True  # exited: stop polling, the caller finds out
        try:
            return requests.get(self.base + "/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # graceful: workers finish and exit
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def origin_count(encore: Encore, route: str, status: str = "200") -> float:
    """How many GETs of `route` (a route pattern) the origin answered with `status`, from its /metrics."""
    text = requests.get(encore.base + "/metrics", timeout=TIMEOUT).text
    series = f'encore_http_requests_total{{route="{route}",method="GET",status="{status}"}} '
    return next((float(line[len(series):]) for line in text.splitlines() if line.startswith(series)), 0.0)


def sibling(url: str, folder_url: str) -> str:
    """`url`'s key under another token: the part after the track's media folder, appended to `folder_url`."""
    return folder_url + "/" + url.split("/media-", 1)[1].split("/", 1)[1]


def edge(ctx: dict) -> None:
    client, encore, work = ctx["client"], ctx["encore"], ctx["work"]
    nginx = Nginx(ctx["binary"], work, encore.base)
    try:
        grant = upload(client, make_flac(os.path.join(work, "edge.flac"), 9, 880))
        track = client.api("POST", "/tracks", json={"albumId": ctx["album"], "title": "Through the edge", "trackNumber": 7,
                                                     "trackUrl": grant["trackUrl"]}).json()
        ready = wait_ready(client, track["id"])
        check(ready.get("status") == "ready", "a track to serve through the edge")
        track_id = track["id"].lower()
        first = client.api("GET", f"/tracks/{track_id}/stream").json()
        issued = time.time()
        via = lambda url: nginx.base + url[len(encore.base):]  # the same signed path, on the edge
        master_url = via(first["hls"])
        master = requests.get(master_url, timeout=TIMEOUT)
        check(master.status_code == 200 and master.headers.get("X-Cache-Status") == "MISS",
              f"a valid token is served by the edge ({master.status_code} {master.headers.get('X-Cache-Status')})")
        again = requests.get(master_url, timeout=TIMEOUT)
        check(again.headers.get("X-Cache-Status") == "HIT" and again.content == master.content, "the second fetch is a cache hit, same bytes")
        variants = m3u8.loads(master.text, uri=master_url).playlists
        variant_url = variants[0].absolute_uri
        variant = m3u8.loads(requests.get(variant_url, timeout=TIMEOUT).text, uri=variant_url)
        segment_url = variant.segments[0].absolute_uri
        key = segment_url.split("/media/", 1)[1].split("/", 1)[1]
        before = origin_count(encore, "/media/**")
        miss = requests.get(segment_url, timeout=TIMEOUT)
        direct = requests.get(encore.base + segment_url[len(nginx.base):], timeout=TIMEOUT)
        check(miss.status_code == 200 and miss.content == direct.content, "a segment through the edge is the origin's, byte for byte")
        hits = [requests.get(segment_url, timeout=TIMEOUT).headers.get("X-Cache-Status") for _ in range(4)]
        check(hits == ["HIT"] * 4, f"later fetches are hits ({hits})")
        ranged = requests.get(segment_url, headers={"Range": "bytes=100-1099"}, timeout=TIMEOUT)
        check(ranged.status_code == 206 and ranged.content == direct.content[100:1100] and ranged.headers.get("X-Cache-Status") == "HIT",
              f"a Range request is cut from the cache ({ranged.status_code} {ranged.headers.get('X-Cache-Status')})")
        check(ranged.headers.get("Content-Range") == f"bytes 100-1099/{len(direct.content)}", "with its Content-Range")
        head = requests.head(segment_url, timeout=TIMEOUT)
        check(head.status_code == 200 and head.headers.get("Content-Length") == str(len(direct.content)), "HEAD through the edge")
        # Between the two counts the origin served the segment twice: the edge's one miss and the direct
        # fetch; the hits, the range and the HEAD never reached it.
        seen = origin_count(encore, "/media/**") - before
        check(seen == 2, f"the edge fetched the segment from the origin once ({seen - 1})")
        checks_before = origin_count(encore, "/edge/authorize")
        others = [requests.get(s.absolute_uri, timeout=TIMEOUT) for s in variant.segments[1:4]]
        check(all(r.status_code == 200 for r in others), "more segments of the folder")
        check(checks_before >= 1 and origin_count(encore, "/edge/authorize") == checks_before,
              "one token check per folder: the edge's cached answer admitted the rest")

        # Another listener's token: a check of its own, then the shared cached object.
        time.sleep(1.1)  # tokens carry their expiry in seconds: a grant in another second is another token
        second = client.api("GET", f"/tracks/{track_id}/stream").json()
        check(second["hls"] != first["hls"], "the second listener's token is another token")
        second_folder = via(second["hls"]).split("/media-", 1)[0] + "/media-" + via(second["hls"]).split("/media-", 1)[1].split("/", 1)[0]
        shared = requests.get(sibling(segment_url, second_folder), timeout=TIMEOUT)
        check(shared.status_code == 200 and shared.headers.get("X-Cache-Status") == "HIT" and shared.content == direct.content,
              f"another listener's token gets the same cached object ({shared.status_code} {shared.headers.get('X-Cache-Status')})")
        check(shared.headers.get("X-Edge-Auth") == "MISS", f"after a token check of its own ({shared.headers.get('X-Edge-Auth')})")
        for operator in ("/metrics", "/edge/authorize"):
            hidden = requests.get(nginx.base + operator, timeout=TIMEOUT)
            check(hidden.status_code == 404 and error_code(hidden) == "not_found", f"the edge does not expose {operator}")

        token = segment_url.split("/media/", 1)[1].split("/", 1)[0]
        forged = requests.get(segment_url.replace(token, forge(token)), timeout=TIMEOUT)
        check(forged.status_code == 403 and error_code(forged) == "invalid_signature" and forged.headers.get("Content-Type", "").startswith("application/json"),
              f"a tampered token is refused with Encore's JSON error ({forged.status_code} {forged.text[:100]})")
        foreign = requests.get(segment_url.replace(track_id, str(uuid.uuid4())), timeout=TIMEOUT)
        check(foreign.status_code == 403 and error_code(foreign) == "outside_scope", f"a token does not open another track's objects ({foreign.status_code} {foreign.text[:80]})")
        api = requests.get(nginx.base + f"/api/v1/tracks/{track_id}", headers={"Authorization": f"Bearer {client.token}"}, timeout=TIMEOUT)
        check(api.status_code == 200 and "X-Cache-Status" not in api.headers, "the API passes through the edge uncached")

        # Warming: a played track's playlists and first segments are at the edge before anyone asks.
        client.api("POST", "/plays", json={"playId": str(uuid.uuid4()), "trackId": track_id, "msPlayed": 9000})
        warm = subprocess.run([ctx["binary"], "edge", "warm", "--data-dir", encore.data_dir, "--edge", nginx.base, "--top", "5"],
                              capture_output=True, text=True, timeout=60, env=encore.env)
        check(warm.returncode == 0 and "warmed 1 tracks" in warm.stdout, f"encore edge warm runs ({warm.returncode} {warm.stdout[-200:]} {warm.stderr[-300:]})")
        untouched = requests.get(sibling(variants[-1].absolute_uri, second_folder), timeout=TIMEOUT)
        check(untouched.headers.get("X-Cache-Status") == "HIT", f"a variant no listener had fetched is at the edge already ({untouched.headers.get('X-Cache-Status')})")
        warmed = m3u8.loads(untouched.text, uri=untouched.url).segments[0].absolute_uri
        check(requests.get(warmed, timeout=TIMEOUT).headers.get("X-Cache-Status") == "HIT", "and so is its first segment")

        # Expiry: the edge cached its yes for the first token, but not past the token's life.
        time.sleep(max(0.0, 13 - (time.time() - issued)))
        expired = requests.get(segment_url, timeout=TIMEOUT)
        check(expired.status_code == 403 and error_code(expired) == "url_expired",
              f"an expired token is refused though its check was cached ({expired.status_code} {expired.text[:100]})")
    finally:
        nginx.stop()


def slow_put(url: str, data: bytes, stop_after: int, on_halfway) -> Exception | None:
    """PUTs `data` with its Content-Length, in small writes; calls `on_halfway` once `stop_after` bytes are out."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT)
    try:
        connection.putrequest("PUT", parts.path + "?" + parts.query, skip_accept_encoding=True)
        connection.putheader("Content-Length", str(len(data)))
        connection.endheaders()
        sent = 0
        while sent < len(data):
            connection.send(data[sent:sent + 65536])
            sent += 65536
            if sent >= stop_after and on_halfway:
                on_halfway()
                on_halfway = None
                time.sleep(0.5)
        response = connection.getresponse()
        return RuntimeError(f"the PUT completed: {response.status}")
    except OSError as error:
        return error
    finally:
        connection.close()


def s3_down(ctx: dict) -> None:
    client, s3, encore, work = ctx["client"], ctx["s3"], ctx["encore"], ctx["work"]
    data = make_flac(os.path.join(work, "b.flac"), 10, 550)
    waiting = upload(client, data)  # uploaded, not yet attached
    long_data = make_flac(os.path.join(work, "long.flac"), 40, 660, noise=True)
    body = {"albumId": ctx["album"], "title": "Across an outage", "trackUrl": "", "trackNumber": 2}
    ready_track = None
    before = client.api("GET", f"/albums/{ctx['album']}/tracks").json()
    ready_ids = [t["id"] for t in before.get("items", before.get("tracks", []))]

    # Mid-upload: the client's PUT is cut off by the crash; nothing is left to attach.
    cut = client.api("GET", "/tracks/upload-url").json()
    outcome = slow_put(cut["uploadUrl"], long_data, len(long_data) // 3, s3.kill)
    check(isinstance(outcome, OSError), f"an upload in flight fails when S3 dies ({outcome!r})")

    # Encore remembers a good bucket probe for up to 2 s: within a few seconds grants stop.
    noticed = poll(lambda: client.api("GET", "/tracks/upload-url", expect=None).status_code, lambda status: status == 503, 5, interval=0.2)
    check(noticed == 503, f"Encore notices the outage within seconds ({noticed})")
    started = time.monotonic()
    grant = client.api("GET", "/tracks/upload-url", expect=None)
    elapsed = time.monotonic() - started
    check(grant.status_code == 503 and error_code(grant) == "storage_unavailable", f"upload-url with S3 down: 503 storage_unavailable ({grant.status_code} {grant.text[:120]})")
    check(grant.headers.get("Retry-After", "").isdigit(), "with Retry-After")
    check(elapsed < 5, f"and fast ({elapsed:.2f} s)")
    attach = client.api("POST", "/tracks", expect=None, json={**body, "trackUrl": waiting["trackUrl"]})
    check(attach.status_code == 503 and error_code(attach) == "storage_unavailable", f"POST /tracks with S3 down: retryable 503 ({attach.status_code})")
    attach_cut = client.api("POST", "/tracks", expect=None, json={**body, "trackUrl": cut["trackUrl"]})
    check(attach_cut.status_code == 503, f"attaching the cut-off upload: 503 as well ({attach_cut.status_code})")
    if ready_ids:
        stream = client.api("GET", f"/tracks/{ready_ids[0]}/stream", expect=None)
        check(stream.status_code == 503 and error_code(stream) == "storage_unavailable" and stream.headers.get("Retry-After"),
              f"stream issuance with S3 down: retryable 503 ({stream.status_code})")
    ready_state = requests.get(encore.base + "/ready", timeout=TIMEOUT)
    check(ready_state.status_code == 503, f"/ready says the instance cannot serve ({ready_state.status_code})")
    listed = client.api("GET", f"/albums/{ctx['album']}/tracks").json()
    check(len(listed.get("items", listed.get("tracks", []))) == len(ready_ids), "no track appeared from the failed attempts")

    log("restarting SeaweedFS on the same data")
    s3.start()
    back = poll(lambda: client.api("GET", "/tracks/upload-url", expect=None).status_code, lambda status: status == 200, 15)
    check(back == 200, "upload URLs are handed out again once S3 is back")
    attach = client.api("POST", "/tracks", expect=None, json={**body, "trackUrl": waiting["trackUrl"]})
    check(attach.status_code == 201, f"the waiting upload attaches after the outage ({attach.status_code} {attach.text[:200]})")
    cut_again = client.api("POST", "/tracks", expect=None, json={**body, "trackUrl": cut["trackUrl"]})
    check(cut_again.status_code == 422 and error_code(cut_again) == "upload_missing", f"the cut-off upload left nothing to attach ({cut_again.status_code} {cut_again.text[:120]})")
    log("S3 back")
    if attach.status_code == 201:
        ready_track = wait_ready(client, attach.json()["id"])
        check(ready_track.get("status") == "ready", "and becomes ready")

    # Mid-transcode: S3 dies while ffmpeg runs; the job fails its attempt, is retried, and the track is ready once.
    long_grant = upload(client, long_data)
    track = client.api("POST", "/tracks", json={**body, "title": "Killed mid-transcode", "trackNumber": 3, "trackUrl": long_grant["trackUrl"]}).json()
    track_id = track["id"].lower()
    seen = poll(encore.transcoding, bool, 60, interval=0.05)
    check(seen, "the worker started transcoding")
    log("transcoding")
    s3.kill()
    log("S3 killed mid-transcode")
    failed_attempt = poll(lambda: open(encore.log_path).read(), lambda text: f"attempt 1 failed" in text and "storage_unavailable" in text
                          or "cannot be reached" in text and "attempt 1 failed" in text, 90, interval=0.5)
    check("attempt 1 failed" in failed_attempt, "the job's attempt failed on the storage error")
    log("the attempt failed")
    status = client.api("GET", f"/tracks/{track_id}").json()
    check(status["status"] == "processing", f"the track is neither ready nor failed while S3 is down ({status['status']})")
    s3.start()
    log("SeaweedFS back; waiting for the retry")
    done = wait_ready(client, track_id, 180)
    log("ready after the retry")
    check(done.get("status") == "ready", f"the retried job made the track ready ({done.get('status')} {done.get('failure')})")
    keys = s3.keys(f"{ctx['root']}/tracks/{track_id}/")
    folders = {k.split("/")[3] for k in keys if len(k.split("/")) > 4}
    check(len(folders) == 1, f"one media folder, nothing half-written beside it ({sorted(folders)})")
    # The line is logged just after the commit the API already shows: wait for it, then count.
    ready_lines = poll(lambda: open(encore.log_path).read().count(f"track {track_id} ready"), lambda n: n >= 1, 5)
    check(ready_lines == 1, f"the track became ready exactly once ({ready_lines} ready lines)")
    stream = client.api("GET", f"/tracks/{track_id}/stream").json()
    master = requests.get(stream["hls"], timeout=TIMEOUT)
    check(master.status_code == 200 and "#EXT-X-STREAM-INF" in master.text, "and plays")
    # The folder token opens the original too: larger than the origin's memory cache, it is relayed from
    # the bucket a 1 MiB read at a time.
    original_key = next(k for k in keys if "/original." in k)
    truth = s3.client().get_object(Bucket=s3.info["bucket"], Key=original_key)["Body"].read()
    relayed_url = stream["hls"].rsplit("/media-", 1)[0] + "/media-" + original_key.split("/media-", 1)[1]
    check(len(truth) > 2 << 20, f"the original is larger than two relay chunks ({len(truth)} bytes)")
    whole = requests.get(relayed_url, timeout=TIMEOUT)
    check(whole.status_code == 200 and whole.content == truth, "a large object relayed whole is the bucket's, byte for byte")
    for first, last in ((0, 99), ((1 << 20) - 10, (1 << 20) + 9), ((1 << 20) - 1, (2 << 20) + 5), (len(truth) - 50, len(truth) + 100)):
        part = requests.get(relayed_url, headers={"Range": f"bytes={first}-{last}"}, timeout=TIMEOUT)
        check(part.status_code == 206 and part.content == truth[first:last + 1], f"relayed range {first}-{last}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="the encore binary")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="encore-s3-edge-")
    s3 = encore = None
    started = time.monotonic()
    try:
        s3 = S3(work)
        root = "encore-" + uuid.uuid4().hex[:8]
        encore = Encore(args.server, work, s3, root)
        client = Client(encore.base)
        session = client.api("POST", "/auth/register", json={"email": f"s3-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD,
                                                                "displayName": "S3 artist", "role": "artist"}).json()
        client.token = session["token"]
        artist = client.api("POST", "/artists", json={"name": "Bucket Band"}).json()
        album = client.api("POST", "/albums", json={"artistId": artist["id"], "title": "Objects"}).json()
        ctx = {"client": client, "s3": s3, "encore": encore, "root": root, "work": work, "album": album["id"], "binary": args.server}
        for name, section in (("designed flow", designed_flow), ("the edge", edge), ("S3 down", s3_down)):
            log(f"== {name} (at {time.monotonic() - started:.1f} s)")
            try:
                section(ctx)
            except Exception as error:  # a section that cannot go on is one failure, and the rest still runs
                check(False, f"{name}: {type(error).__name__}: {error}")
    finally:
        if encore:
            encore.stop()
        if s3:
            s3.kill()
        shutil.rmtree(work, ignore_errors=True)
    log(f"total {time.monotonic() - started:.1f} s")
    return tally.summary("s3-edge")


if __name__ == "__main__":
    sys.exit(main())
