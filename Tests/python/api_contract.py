#!/usr/bin/env python3
"""Checks a live Encore server against its OpenAPI contract with schemathesis.

    python3 api_contract.py --base http://127.0.0.1:PORT --spec openapi.json
    python3 api_contract.py --server ./encore --spec openapi.json      # starts (and stops) its own server

It registers a listener, an artist and a throw-away account, creates an artist, albums, playlists and (when the
server's media pipeline is available) tracks from a generated WAV, so that every `{id}` route is exercised with
ids that exist. Then it runs `schemathesis run` over every operation of the spec except the signed media origin
(`/media/...`), the Subsonic protocol (`/rest/...`: HTTP 200 for failures and XML by design, checked by
subsonic_clients.py with a real client) and the web app's versioned files (`/app/...`, checked in a real
browser by web_app.py), with a fixed seed, deterministic generation and a bounded number of examples per operation, and
these checks: not_a_server_error, status_code_conformance, content_type_conformance,
response_schema_conformance. It ends with the line `schemathesis: N passed, M failed` (operations) and exits 1
when any operation failed or errored.

It leaves nothing behind: its temporary files go, the three accounts it registered are deleted with all they
own, and with `--server` the server and its whole data directory go too. (Against `--base`, accounts that
schemathesis itself registers through POST /api/v1/auth/register stay on that server: point `--base` only
at a disposable server, or use `--server`.)
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field

import requests

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
PASSWORD = "contract-test-password"


def log(message: str) -> None:
    print(f"[api_contract] {message}", flush=True)


# --------------------------------------------------------------------------- server (optional)


class Server:
    """An Encore server on a temporary data directory, for `--server`."""

    def __init__(self, binary: str) -> None:
        self.data_dir = tempfile.mkdtemp(prefix="encore-contract-data-")
        env = dict(os.environ, ENCORE_BCRYPT_COST="4")
        self.process = subprocess.Popen(
            [binary, "serve", "--data-dir", self.data_dir, "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
        )
        deadline = time.monotonic() + 60
        self.base = None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                if self.process.poll() is not None:
                    break
                continue
            if line.startswith("encore listening on "):
                address = line[len("encore listening on "):].split(",")[0].strip()
                self.base = f"http://{address}"
                break
        if self.base is None:
            self.stop()
            raise SystemExit("the server did not start")
        # Keep draining stdout so the server never blocks on a full pipe.
        import threading

        threading.Thread(target=lambda: [None for _ in self.process.stdout], daemon=True).start()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def wait_for_health(base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if requests.get(base + "/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{base}/health does not answer")
        time.sleep(0.5)


# --------------------------------------------------------------------------- fixtures


def tone_wav(seconds: float = 1.0, frequency: float = 440.0, rate: int = 44100) -> bytes:
    """A short mono 16-bit sine tone: enough for ffprobe, fpcalc and the transcoder."""
    frames = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(12000 * math.sin(2 * math.pi * frequency * n / rate))) for n in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples)
    return buffer.getvalue()


@dataclass
class Fixtures:
    base: str
    nonce: str
    session: requests.Session = field(default_factory=requests.Session)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, who: str | None = None, expect: int = 200, **kwargs) -> dict:
        headers = kwargs.pop("headers", {})
        if who:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        response = self.session.request(method, self.base + path, headers=headers, timeout=30, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: expected {expect}, got {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else {}

    def register(self, who: str, role: str) -> None:
        body = {"email": f"{who}-{self.nonce}@contract.example.com", "password": PASSWORD,
                "displayName": f"Contract {who}", "role": role}
        self.tokens[who] = self.call("POST", "/api/v1/auth/register", json=body, expect=201)["token"]

    def track(self, name: str, album: str, number: int, audio: bytes) -> None:
        grant = self.call("GET", "/api/v1/tracks/upload-url", "artist")
        put = self.session.put(grant["uploadUrl"], data=audio, headers={"Content-Type": "audio/wav"}, timeout=30)
        if put.status_code != 201:
            raise RuntimeError(f"upload: {put.status_code} {put.text[:200]}")
        body = {"albumId": self.ids[album], "title": f"Contract track {number}", "trackUrl": grant["trackUrl"],
                "trackNumber": number}
        self.ids[name] = self.call("POST", "/api/v1/tracks", "artist", json=body, expect=201)["id"]

    def create(self) -> None:
        for who, role in (("listener", "listener"), ("artist", "artist"), ("doomed", "listener")):
            self.register(who, role)
        for name in ("artist", "artist_to_delete"):
            body = {"name": f"Contract {name}", "bio": "Made by api_contract.py", "country": "SE"}
            self.ids[name] = self.call("POST", "/api/v1/artists", "artist", json=body, expect=201)["id"]
        for name in ("album", "album_to_delete"):
            body = {"artistId": self.ids["artist"], "title": f"Contract {name}", "genre": "Test",
                    "releaseDate": "2024-02-29"}
            self.ids[name] = self.call("POST", "/api/v1/albums", "artist", json=body, expect=201)["id"]
        for name, public in (("playlist", False), ("playlist_to_delete", False), ("public_playlist", True)):
            body = {"title": f"Contract {name}", "isPublic": public}
            self.ids[name] = self.call("POST", "/api/v1/playlists", "listener", json=body, expect=201)["id"]
        try:
            audio = tone_wav()
            self.track("track", "album", 1, audio)
            self.track("track_to_delete", "album", 2, tone_wav(frequency=660.0))
        except RuntimeError as error:
            log(f"no tracks ({error}); track routes are exercised with unknown ids only")
            return
        for _ in range(2):
            self.call("POST", f"/api/v1/playlists/{self.ids['playlist']}/tracks", "listener",
                      json={"trackId": self.ids["track"]})
        # Let the pipeline process the first track so that streaming has something to grant.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status = self.call("GET", f"/api/v1/tracks/{self.ids['track']}", "artist")["status"]
            if status in ("ready", "failed"):
                log(f"track is {status}")
                break
            time.sleep(0.25)

    def remove(self) -> None:
        """Deletes the accounts and with them everything they own."""
        for who in ("listener", "artist", "doomed"):
            if who in self.tokens:
                response = self.session.delete(self.base + "/api/v1/users/me", timeout=30,
                                               headers={"Authorization": f"Bearer {self.tokens[who]}"})
                if response.status_code not in (200, 401):
                    log(f"could not delete the {who} account: {response.status_code}")


# --------------------------------------------------------------------------- schemathesis configuration


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string for these values


def write_config(path: str, fx: Fixtures, max_examples: int, seed: int) -> None:
    """A schemathesis.toml: generation budget, checks, the default token and per-operation ids and tokens."""
    ids = fx.ids
    bearer = {who: f"Bearer {token}" for who, token in fx.tokens.items()}
    track = ids.get("track", "00000000-0000-4000-8000-000000000000")
    track_to_delete = ids.get("track_to_delete", "00000000-0000-4000-8000-000000000001")
    # operationId -> (token, path parameters, body overrides)
    operations: dict[str, tuple[str, dict[str, object], dict[str, object]]] = {
        "deleteMe": ("doomed", {}, {}),
        "getArtist": ("artist", {"path.id": ids["artist"]}, {}),
        "updateArtist": ("artist", {"path.id": ids["artist"]}, {}),
        "deleteArtist": ("artist", {"path.id": ids["artist_to_delete"]}, {}),
        "listArtistAlbums": ("artist", {"path.id": ids["artist"]}, {}),
        "createAlbum": ("artist", {}, {"body.artistId": ids["artist"]}),
        "getAlbum": ("artist", {"path.id": ids["album"]}, {}),
        "updateAlbum": ("artist", {"path.id": ids["album"]}, {}),
        "deleteAlbum": ("artist", {"path.id": ids["album_to_delete"]}, {}),
        "listAlbumTracks": ("artist", {"path.id": ids["album"]}, {}),
        "createTrack": ("artist", {}, {"body.albumId": ids["album"]}),
        "getUpdateUrl": ("artist", {"path.id": track}, {}),
        "getTrack": ("artist", {"path.id": track}, {}),
        "updateTrack": ("artist", {"path.id": track}, {}),
        "deleteTrack": ("artist", {"path.id": track_to_delete}, {}),
        "streamTrack": ("listener", {"path.id": track}, {}),
        "createPlaylist": ("listener", {}, {}),
        "listPlaylists": ("listener", {}, {}),
        "getPlaylist": ("listener", {"path.id": ids["public_playlist"]}, {}),
        "updatePlaylist": ("listener", {"path.id": ids["public_playlist"]}, {}),
        "deletePlaylist": ("listener", {"path.id": ids["playlist_to_delete"]}, {}),
        "listPlaylistEntries": ("listener", {"path.id": ids["playlist"]}, {}),
        "addPlaylistEntry": ("listener", {"path.id": ids["public_playlist"]}, {"body.trackId": track}),
        "movePlaylistEntry": ("listener", {"path.id": ids["playlist"]}, {}),
        "removePlaylistEntry": ("listener", {"path.id": ids["playlist"]}, {}),
        "search": ("listener", {}, {}),
        "getMe": ("listener", {}, {}),
        "updateMe": ("listener", {}, {}),
    }
    lines = [
        f"seed = {seed}",
        "workers = 1",
        "continue-on-failure = true",
        "request-timeout = 20",
        "",
        "[headers]",
        f"Authorization = {toml_string(bearer['artist'])}",
        "",
        "[generation]",
        f"max-examples = {max_examples}",
        "deterministic = true",
        'database = "none"',
        "",
        "[phases.stateful]",
        "enabled = false",
        "",
    ]
    for operation_id, (who, parameters, body) in operations.items():
        lines += ["[[operations]]", f"include-operation-id = {toml_string(operation_id)}",
                  f"headers = {{ Authorization = {toml_string(bearer[who])} }}"]
        overrides = {**parameters, **body}
        if overrides:
            pairs = ", ".join(f"{toml_string(k)} = {toml_string(str(v))}" for k, v in overrides.items())
            lines.append(f"parameters = {{ {pairs} }}")
        lines.append("")
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(lines))


def run_schemathesis(spec: str, base: str, config: str, report: str, max_examples: int, seed: int, checks: str) -> int:
    command = [
        sys.executable, "-m", "schemathesis.cli", "--config-file", config, "--no-color", "run", spec,
        "--url", base,
        "--checks", checks,
        "--exclude-path-regex", "^/(media|rest|app)/",
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(max_examples),
        "--seed", str(seed),
        "--generation-deterministic",
        "--workers", "1",
        "--report", "json", "--report-json-path", report,
    ]
    log("running: " + " ".join(command[1:]))
    return subprocess.run(command, cwd=os.path.dirname(report)).returncode


def tally(report_path: str) -> tuple[int, int, list[str]]:
    """(passed, failed, lines describing the failures), counted in operations, from schemathesis' JSON report.

    An operation fails when any check failed on it or it errored; failures that schemathesis attributes to
    something that is not an operation of the spec (an undeclared method, with the unsupported_method check)
    count as one failed operation each.
    """
    with open(report_path, encoding="utf-8") as source:
        report = json.load(source)
    failed: dict[str, list[str]] = {}
    for group in report.get("failures", []):
        for operation in group.get("operations", []):
            failed.setdefault(operation, []).append(f"{group.get('code')} {group.get('title')}")
    operations = report.get("operations", {})
    tested = operations.get("tested", 0)
    errored = operations.get("errored", 0)
    details = [f"{op}: {'; '.join(titles)}" for op, titles in sorted(failed.items())]
    for error in report.get("errors", []):
        details.append(f"error: {error.get('title')} (x{error.get('count')})")
    incomplete = not report.get("complete", False)
    if incomplete:
        details.append(f"the run did not complete: {report.get('stop_reason')}")
    failures = len(failed) + errored + (1 if incomplete else 0)
    passed = max(tested - len(failed) - errored, 0)
    return passed, failures, details


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--base", help="base URL of a running server, e.g. http://127.0.0.1:8080")
    target.add_argument("--server", help="an encore binary to start on a temporary data directory")
    parser.add_argument("--spec", required=True, help="the OpenAPI document to check against")
    parser.add_argument("--max-examples", type=int, default=25, help="examples per operation and phase (25)")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--checks", default=CHECKS, help=f"schemathesis checks ({CHECKS})")
    parser.add_argument("--keep-report", metavar="DIR", help="copy schemathesis' JSON report into DIR")
    args = parser.parse_args()

    spec = os.path.abspath(args.spec)
    server = Server(args.server) if args.server else None
    base = (server.base if server else args.base).rstrip("/")
    work = tempfile.mkdtemp(prefix="encore-contract-")
    fixtures = Fixtures(base=base, nonce=os.urandom(4).hex())
    started = time.monotonic()
    try:
        wait_for_health(base)
        fixtures.create()
        config = os.path.join(work, "schemathesis.toml")
        report = os.path.join(work, "report.json")
        write_config(config, fixtures, args.max_examples, args.seed)
        code = run_schemathesis(spec, base, config, report, args.max_examples, args.seed, args.checks)
        if not os.path.exists(report):
            print(f"schemathesis exited {code} without a report")
            print("schemathesis: 0 passed, 1 failed")
            return 1
        if args.keep_report:
            os.makedirs(args.keep_report, exist_ok=True)
            shutil.copy(report, os.path.join(args.keep_report, "schemathesis-report.json"))
        passed, failed, details = tally(report)
        if code != 0 and not failed:
            details.append(f"schemathesis exited {code} although no operation failed")
            failed = 1
        if passed == 0 and failed == 0:
            details.append("no operation was tested")
            failed = 1
        for line in details:
            print(f"FAILED {line}")
        log(f"{time.monotonic() - started:.1f} s")
        print(f"schemathesis: {passed} passed, {failed} failed")
        return 1 if failed else 0
    finally:
        try:
            fixtures.remove()
        finally:
            shutil.rmtree(work, ignore_errors=True)
            if server:
                server.stop()


if __name__ == "__main__":
    sys.exit(main())
