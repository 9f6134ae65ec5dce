#!/usr/bin/env python3
"""Encore's Subsonic / OpenSubsonic API (`/rest/...`) as a real client library drives it.

    python3 subsonic_clients.py --server .build/debug/encore

It starts its own server on a temporary data directory, builds a small catalogue through the REST API (an
artist and a listener account, two artists, two albums, four short generated FLAC tracks, app passwords),
then talks Subsonic 1.16.1 + OpenSubsonic to it with py-sonic (`libsonic`, the PyPI client) and, for what
py-sonic cannot send, with `requests`: every authentication form (token, `enc:`, plain `p=`, `apiKey`),
the response envelope in XML, JSON and JSONP, error codes, browsing by ID3 tags and by folders, album lists,
search, streaming with and without transcoding (the files are checked with ffprobe), ranges, downloads,
scrobbles and now playing, stars and ratings, playlists and their ownership, the play queue, lyrics, XML
against JSON, and the request shapes real clients (DSub) send.

Each section runs on its own: an exception ends that section with one failure and the next one starts.
Ends with `subsonic-clients: N passed, M failed` and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

import requests

import libsonic
import libsonic.connection
from libsonic import errors as sonic_errors

from api_contract import Server, wait_for_health
from tally import Tally

TIMEOUT = 30
API_VERSION = "1.16.1"
NAMESPACE = "http://subsonic.org/restapi"
PASSWORD = "a long enough password"
SETUP_DEADLINE = 120

# py-sonic 1.2.0 builds its GET requests with `urllib2.Request`, a Python 2 name its module never imports:
# `useGET=True` raises NameError without this.
libsonic.connection.urllib2 = urllib.request

tally = Tally()
check = tally.check


def expect_equal(actual: Any, expected: Any, what: str) -> bool:
    return check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")


def log(message: str) -> None:
    print(f"[subsonic] {message}", flush=True)


def short(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def describe(error: BaseException) -> str:
    """What stopped a section, saying so when the endpoint is simply not there."""
    if isinstance(error, urllib.error.HTTPError):
        body = ""
        with contextlib.suppress(Exception):
            body = error.read()[:200].decode("utf-8", "replace")
        missing = " (endpoint missing)" if error.code == 404 else ""
        return f"HTTP {error.code}{missing} from {error.url}: {body}"
    if isinstance(error, EndpointMissing):
        return f"{error} (endpoint missing)"
    if isinstance(error, sonic_errors.SonicError):
        return f"py-sonic {type(error).__name__}: {error}"
    return f"{type(error).__name__}: {short(str(error))}"


class EndpointMissing(RuntimeError):
    pass


@contextlib.contextmanager
def section(name: str):
    """One part of the test: an exception in it is one failure, and the script goes on."""
    started = time.monotonic()
    try:
        yield
    except Exception as error:  # noqa: BLE001 - every failure is reported, none crashes the run
        check(False, f"[{name}] stopped by {describe(error)}")
    finally:
        log(f"{name}: {time.monotonic() - started:.1f} s")


def poll(fetch: Callable[[], Any], done: Callable[[Any], bool], seconds: float = 5.0, interval: float = 0.2) -> Any:
    """Calls `fetch` until `done(value)` or the deadline; returns the last value."""
    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)


# --------------------------------------------------------------------------- the catalogue


ARTISTS = {"bjork": "Björk", "sigur": "Sigur Rós"}
# key: (artist key, title, genre, release date)
ALBUMS = {
    "debut": ("bjork", "Debut", "Electronic", "1993-07-05"),
    "agaetis": ("sigur", "Ágætis byrjun", "Post-Rock", "1999-06-12"),
}


@dataclass
class Song:
    key: str
    title: str
    album: str
    track: int
    seconds: int
    frequency: int
    path: str = ""
    data: bytes = b""
    id: str = ""
    rest: dict = field(default_factory=dict)  # GET /api/v1/tracks/{id} once ready


SONGS = [
    Song("human", "Human Behaviour", "debut", 1, 8, 440),
    Song("hyper", "Hyperballad", "debut", 2, 9, 550),
    Song("svefn", "Svefn-g-englar", "agaetis", 1, 10, 660),
    Song("ny", "Ný batterí", "agaetis", 2, 8, 770),
]


@dataclass
class Context:
    base: str
    host: str
    port: int
    work: str
    email: dict[str, str] = field(default_factory=dict)
    bearer: dict[str, str] = field(default_factory=dict)
    secret: dict[str, str] = field(default_factory=dict)
    app_password_id: dict[str, str] = field(default_factory=dict)
    artist_id: dict[str, str] = field(default_factory=dict)
    album_id: dict[str, str] = field(default_factory=dict)
    songs: dict[str, Song] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)

    # ---- REST

    def api(self, method: str, path: str, who: str | None = None, expect: tuple[int, ...] = (200, 201), **kwargs) -> dict:
        headers = kwargs.pop("headers", {})
        if who:
            headers["Authorization"] = f"Bearer {self.bearer[who]}"
        response = self.http.request(method, self.base + "/api/v1" + path, headers=headers, timeout=TIMEOUT, **kwargs)
        if response.status_code not in expect:
            raise RuntimeError(f"{method} /api/v1{path}: expected {expect}, got {response.status_code}: {response.text[:300]}")
        return response.json() if response.content else {}

    # ---- Subsonic through py-sonic

    def sonic(self, who: str = "artist", secret: str | None = None, **options) -> libsonic.Connection:
        return libsonic.Connection(f"http://{self.host}", username=self.email[who], password=secret or self.secret[who],
                                   port=self.port, appName="py-sonic", **options)

    # ---- Subsonic through requests

    def auth(self, kind: str = "token", who: str = "artist", secret: str | None = None) -> dict[str, str]:
        secret = secret if secret is not None else self.secret.get(who, "")
        if kind == "token":
            salt = os.urandom(6).hex()
            return {"u": self.email[who], "t": hashlib.md5((secret + salt).encode()).hexdigest(), "s": salt}
        if kind == "enc":
            # Lower-case hex here; py-sonic's legacyAuth sends upper case.
            return {"u": self.email[who], "p": "enc:" + secret.encode("utf-8").hex()}
        if kind == "plain":
            return {"u": self.email[who], "p": secret}
        if kind == "apikey":
            return {"apiKey": secret}
        return {}

    def rest(self, method: str, params: dict | list | None = None, *, auth: str = "token", who: str = "artist",
             secret: str | None = None, fmt: str | None = "json", http: str = "GET", **kwargs) -> requests.Response:
        query: list[tuple[str, Any]] = [("v", API_VERSION), ("c", "encore-tests")]
        if fmt:
            query.append(("f", fmt))
        query += list(self.auth(auth, who, secret).items())
        if isinstance(params, dict):
            query += list(params.items())
        elif params:
            query += list(params)
        url = f"{self.base}/rest/{method}.view"
        if http == "POST":
            return self.http.post(url, data=query, timeout=TIMEOUT, **kwargs)
        return self.http.request(http, url, params=query, timeout=TIMEOUT, **kwargs)

    def call(self, method: str, params: dict | list | None = None, **kwargs) -> dict:
        """A JSON Subsonic call that must answer ok; returns the subsonic-response object."""
        response = self.rest(method, params, **kwargs)
        body = envelope(response, method)
        if body.get("status") != "ok":
            raise RuntimeError(f"{method}: status {body.get('status')}, error {body.get('error')}")
        return body


def envelope(response: requests.Response, what: str) -> dict:
    """The subsonic-response object of a JSON answer (raises EndpointMissing on a bare 404)."""
    try:
        body = response.json()
    except ValueError:
        if response.status_code == 404:
            raise EndpointMissing(f"{what}: HTTP 404 {response.text[:120]!r}") from None
        raise RuntimeError(f"{what}: HTTP {response.status_code}, not JSON: {response.text[:200]!r}") from None
    if not isinstance(body, dict) or "subsonic-response" not in body:
        if response.status_code == 404:
            raise EndpointMissing(f"{what}: HTTP 404 {short(body, 120)}")
        raise RuntimeError(f"{what}: HTTP {response.status_code}, no subsonic-response: {short(body)}")
    return body["subsonic-response"]


def status_of(response: requests.Response) -> str:
    """The envelope's status, or what came instead."""
    try:
        return str(envelope(response, "status").get("status"))
    except Exception as error:  # noqa: BLE001
        return describe(error)


def parse_xml(response: requests.Response, what: str) -> ET.Element:
    if response.status_code == 404:
        raise EndpointMissing(f"{what}: HTTP 404 {response.text[:120]!r}")
    return ET.fromstring(response.content)


def items(container: Any, key: str) -> list:
    """container[key] as a list (absent → [])."""
    if not isinstance(container, dict):
        return []
    value = container.get(key)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_timestamp(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def expect_failure(response: requests.Response, codes: int | tuple[int, ...], what: str, http_ok: tuple[int, ...] = (200,)) -> None:
    """A Subsonic error: HTTP 200 (unless told), status failed, error.code one of `codes`, a message."""
    codes = codes if isinstance(codes, tuple) else (codes,)
    missing = " (endpoint missing)" if response.status_code == 404 else ""
    check(response.status_code in http_ok, f"{what}: HTTP status {http_ok}, got {response.status_code}{missing}")
    try:
        body = envelope(response, what)
    except Exception as error:  # noqa: BLE001
        check(False, f"{what}: a failed envelope, got {describe(error)}")
        return
    error = body.get("error") or {}
    check(body.get("status") == "failed" and error.get("code") in codes and isinstance(error.get("message"), str) and error.get("message"),
          f"{what}: status failed with error code {codes} and a message, got status {body.get('status')!r} error {error!r}")


def expect_sonic_error(call: Callable[[], Any], kind: type, what: str) -> None:
    """py-sonic raises `kind` (its class for a Subsonic error code)."""
    try:
        result = call()
    except kind:
        check(True, what)
        return
    except Exception as error:  # noqa: BLE001
        check(False, f"{what}: expected py-sonic {kind.__name__}, got {describe(error)}")
        return
    check(False, f"{what}: expected py-sonic {kind.__name__}, the call succeeded: {short(result)}")


def check_envelope(body: dict, where: str, status: str = "ok") -> None:
    expect_equal(body.get("status"), status, f"{where}: envelope status")
    expect_equal(body.get("version"), API_VERSION, f"{where}: envelope version")
    expect_equal(body.get("type"), "encore", f"{where}: envelope type")
    check(isinstance(body.get("serverVersion"), str) and body.get("serverVersion"),
          f"{where}: envelope serverVersion is a non-empty string, got {body.get('serverVersion')!r}")
    expect_equal(body.get("openSubsonic"), True, f"{where}: envelope openSubsonic")


# --------------------------------------------------------------------------- media


def run(command: list[str], seconds: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=seconds, check=False)


def make_flac(path: str, seconds: int, frequency: int) -> bytes:
    result = run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency={frequency}:duration={seconds}",
                  "-ac", "2", "-ar", "44100", path])
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg could not make {path}: {result.stderr[:300]}")
    with open(path, "rb") as source:
        return source.read()


def probe(data: bytes, work: str, name: str) -> dict:
    """ffprobe's codec_name and bit_rate of the first audio stream of `data` (format bit_rate when the stream has none)."""
    path = os.path.join(work, name)
    with open(path, "wb") as out:
        out.write(data)
    result = run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name,bit_rate:format=bit_rate",
                  "-of", "json", path])
    if result.returncode != 0:
        return {"error": result.stderr.strip()[:200] or f"ffprobe exited {result.returncode}"}
    facts = json.loads(result.stdout or "{}")
    streams = facts.get("streams") or [{}]
    rate = streams[0].get("bit_rate") or (facts.get("format") or {}).get("bit_rate")
    return {"codec": streams[0].get("codec_name"), "bit_rate": int(rate) if rate and str(rate).isdigit() else None}


# --------------------------------------------------------------------------- setup through the REST API


def setup(ctx: Context) -> None:
    nonce = uuid.uuid4().hex[:8]
    for who, role in (("artist", "artist"), ("listener", "listener")):
        ctx.email[who] = f"{who}-{nonce}@example.com"
        session = ctx.api("POST", "/auth/register", json={"email": ctx.email[who], "password": PASSWORD,
                                                          "displayName": f"Subsonic {who}", "role": role}, expect=(201,))
        ctx.bearer[who] = session["token"]
    for key, name in ARTISTS.items():
        ctx.artist_id[key] = ctx.api("POST", "/artists", "artist", json={"name": name, "country": "IS"}, expect=(201,))["id"].lower()
    for key, (artist, title, genre, date) in ALBUMS.items():
        body = {"artistId": ctx.artist_id[artist], "title": title, "genre": genre, "releaseDate": date}
        ctx.album_id[key] = ctx.api("POST", "/albums", "artist", json=body, expect=(201,))["id"].lower()
    for song in SONGS:
        song.path = os.path.join(ctx.work, f"{song.key}.flac")
        song.data = make_flac(song.path, song.seconds, song.frequency)
        grant = ctx.api("GET", "/tracks/upload-url", "artist")
        put = ctx.http.put(grant["uploadUrl"], data=song.data, headers={"Content-Type": "audio/flac"}, timeout=TIMEOUT)
        if put.status_code not in (200, 201, 204):
            raise RuntimeError(f"PUT {grant['uploadUrl']}: {put.status_code} {put.text[:200]}")
        body = {"albumId": ctx.album_id[song.album], "title": song.title, "trackUrl": grant["trackUrl"], "trackNumber": song.track}
        song.id = ctx.api("POST", "/tracks", "artist", json=body, expect=(201,))["id"].lower()
        ctx.songs[song.key] = song
    deadline = time.monotonic() + SETUP_DEADLINE
    waiting = dict(ctx.songs)
    while waiting:
        for key, song in list(waiting.items()):
            track = ctx.api("GET", f"/tracks/{song.id}", "artist")
            if track.get("status") == "ready":
                song.rest = track
                del waiting[key]
            elif track.get("status") == "failed":
                raise RuntimeError(f"track {song.title!r} failed in the pipeline: {short(track)}")
        if not waiting:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"tracks not ready after {SETUP_DEADLINE} s: {sorted(waiting)}")
        time.sleep(0.5)
    for who, name in (("artist", "py-sonic"), ("spare", "to-revoke"), ("listener", "py-sonic")):
        account = "artist" if who == "spare" else who
        created = ctx.http.post(ctx.base + "/api/v1/users/me/app-passwords", json={"name": name}, timeout=TIMEOUT,
                                headers={"Authorization": f"Bearer {ctx.bearer[account]}"})
        if created.status_code != 201:
            raise RuntimeError(f"POST app-passwords: {created.status_code} {created.text[:200]}")
        body = created.json()
        for key in ("id", "name", "secret", "createdAt"):
            if key not in body:
                raise RuntimeError(f"app password answer lacks {key}: {short(body)}")
        ctx.secret[who] = body["secret"]
        ctx.app_password_id[who] = body["id"]
    ctx.email["spare"] = ctx.email["artist"]


# --------------------------------------------------------------------------- song and album shapes


SONG_KEYS = ("id", "parent", "title", "album", "artist", "albumId", "artistId", "track", "year", "genre", "duration",
             "bitRate", "suffix", "contentType", "size", "isDir", "type", "created", "playCount", "replayGain")


def song_expectation(ctx: Context, song: Song) -> dict:
    artist, album_title, genre, date = ALBUMS[song.album]
    return {"id": song.id, "parent": ctx.album_id[song.album], "title": song.title, "album": album_title,
            "artist": ARTISTS[artist], "albumId": ctx.album_id[song.album], "artistId": ctx.artist_id[artist],
            "track": song.track, "year": int(date[:4]), "genre": genre, "isDir": False, "type": "music",
            "suffix": "flac", "contentType": "audio/flac", "size": len(song.data)}


def check_song(ctx: Context, entry: dict, song: Song, where: str) -> None:
    where = f"{where} ({song.title})"
    missing = [key for key in SONG_KEYS if key not in entry]
    check(not missing, f"{where}: song lacks {missing}; it has {sorted(entry)}")
    for key, value in song_expectation(ctx, song).items():
        expect_equal(entry.get(key), value, f"{where}: song.{key}")
    duration = entry.get("duration")
    check(isinstance(duration, int) and not isinstance(duration, bool) and abs(duration - song.seconds) <= 1,
          f"{where}: duration is whole seconds ≈ {song.seconds}, got {duration!r}")
    kbps = len(song.data) * 8 / song.seconds / 1000
    check(isinstance(entry.get("bitRate"), int) and abs(entry["bitRate"] - kbps) <= 0.2 * kbps + 2,
          f"{where}: bitRate in kbps ≈ {kbps:.0f} (size × 8 / duration), got {entry.get('bitRate')!r}")
    check(is_timestamp(entry.get("created")), f"{where}: created is an ISO 8601 timestamp, got {entry.get('created')!r}")
    check(isinstance(entry.get("playCount"), int), f"{where}: playCount is an integer, got {entry.get('playCount')!r}")
    gain = entry.get("replayGain")
    check(isinstance(gain, dict) and is_number(gain.get("trackGain")), f"{where}: replayGain.trackGain is a number, got {gain!r}")
    # ReplayGain 2.0's reference is -18 LUFS (Encore's own players aim at -14): the gain apps apply as
    # ReplayGain is measured against it, and the peak is linear.
    loudness = song.rest.get("loudness") or {}
    lufs, peak_db = loudness.get("integratedLufs"), loudness.get("truePeakDbtp")
    if isinstance(gain, dict) and is_number(gain.get("trackGain")) and is_number(lufs):
        check(abs(gain["trackGain"] - (-18 - lufs)) < 0.05,
              f"{where}: replayGain.trackGain is -18 LUFS - {lufs} = {-18 - lufs:.2f}, got {gain['trackGain']}")
    if isinstance(gain, dict) and is_number(peak_db):
        check(is_number(gain.get("trackPeak")) and abs(gain["trackPeak"] - 10 ** (peak_db / 20)) < 0.001,
              f"{where}: replayGain.trackPeak is 10^({peak_db}/20), got {gain.get('trackPeak')!r}")
    check("starred" not in entry, f"{where}: no 'starred' on an unstarred song, got {entry.get('starred')!r}")


def song_ids(entries: list) -> list[str]:
    return [entry.get("id") for entry in entries if isinstance(entry, dict)]


def get_song(ctx: Context, conn: libsonic.Connection, song: Song) -> dict:
    return conn.getSong(song.id).get("song") or {}


def play_count(ctx: Context, conn: libsonic.Connection, song: Song) -> Any:
    return get_song(ctx, conn, song).get("playCount")


# --------------------------------------------------------------------------- XML against JSON


def canonical(value: Any) -> str:
    """A scalar as a string both encodings agree on: booleans as true/false, numbers without spurious '.0'."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    if not math.isfinite(number):
        return text
    if number.is_integer() and abs(number) < 2 ** 53:
        return str(int(number))
    return repr(number)


def normal_json(value: dict) -> dict:
    out: dict[str, Any] = {}
    for key, child in value.items():
        if child is None:
            continue
        if isinstance(child, list):
            entries = [normal_json(x) if isinstance(x, dict) else {"value": canonical(x)} for x in child]
            if entries:
                out[key] = entries
        elif isinstance(child, dict):
            out[key] = [normal_json(child)]
        else:
            out[key] = canonical(child)
    return out


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def normal_xml(element: ET.Element) -> dict:
    out: dict[str, Any] = {local(k): canonical(v) for k, v in element.attrib.items() if not k.startswith("{")}
    text = (element.text or "").strip()
    if text:
        out["value"] = canonical(text)
    for child in element:
        out.setdefault(local(child.tag), []).append(normal_xml(child))
    return out


def difference(a: Any, b: Any, path: str = "$") -> str | None:
    """Where two normalised documents first differ (a is XML, b is JSON), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a:
                return f"{path}.{key} only in JSON: {short(b[key], 120)}"
            if key not in b:
                return f"{path}.{key} only in XML: {short(a[key], 120)}"
            found = difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} elements in XML, {len(b)} in JSON"
        for index, (x, y) in enumerate(zip(a, b)):
            found = difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return None
    return None if a == b else f"{path}: XML {short(a, 120)} vs JSON {short(b, 120)}"


def compare_encodings(ctx: Context, method: str, params: dict) -> None:
    xml_response = ctx.rest(method, params, fmt=None)
    json_response = ctx.rest(method, params)
    root = parse_xml(xml_response, method)
    check("xml" in xml_response.headers.get("Content-Type", ""),
          f"{method} without f: an XML Content-Type, got {xml_response.headers.get('Content-Type')!r}")
    expect_equal(root.tag, f"{{{NAMESPACE}}}subsonic-response", f"{method}: XML root element")
    from_xml = normal_xml(root)
    from_json = normal_json(envelope(json_response, method))
    expect_equal(from_json.get("status"), "ok", f"{method}: JSON status")
    found = difference(from_xml, from_json)
    check(found is None, f"{method} {params}: XML and JSON carry the same content, but {found}")


# --------------------------------------------------------------------------- the sections


def test_envelope(ctx: Context) -> None:
    response = ctx.rest("ping", fmt=None)
    root = parse_xml(response, "ping without f")
    check(response.status_code == 200 and "xml" in response.headers.get("Content-Type", ""),
          f"ping without f: HTTP 200 text/xml, got {response.status_code} {response.headers.get('Content-Type')!r}")
    expect_equal(root.tag, f"{{{NAMESPACE}}}subsonic-response", "ping XML: root element in the Subsonic namespace")
    for key, value in (("status", "ok"), ("version", API_VERSION), ("type", "encore"), ("openSubsonic", "true")):
        expect_equal(root.get(key), value, f"ping XML: attribute {key}")
    check(bool(root.get("serverVersion")), f"ping XML: a serverVersion attribute, got {root.attrib}")

    response = ctx.rest("ping")
    check(response.headers.get("Content-Type", "").startswith("application/json"),
          f"ping f=json: application/json, got {response.headers.get('Content-Type')!r}")
    check_envelope(envelope(response, "ping"), "ping f=json")

    response = ctx.rest("ping", {"callback": "cb"}, fmt="jsonp")
    text = response.text.strip()
    check(text.startswith("cb(") and text.endswith(");"), f"ping f=jsonp&callback=cb: cb({{...}});, got {text[:120]!r}")
    inner = json.loads(text[3:-2]) if text.startswith("cb(") and text.endswith(");") else {}
    check_envelope(inner.get("subsonic-response") or {}, "ping f=jsonp")

    # Most clients write `.view`; some (web clients) leave it off.
    response = ctx.http.get(ctx.base + "/rest/ping", params={"v": API_VERSION, "c": "encore-tests", "f": "json", **ctx.auth()}, timeout=TIMEOUT)
    expect_equal(envelope(response, "ping without .view").get("status"), "ok", "/rest/ping without .view")


def test_extensions(ctx: Context) -> None:
    response = ctx.rest("getOpenSubsonicExtensions", auth="none")
    body = envelope(response, "getOpenSubsonicExtensions")
    check_envelope(body, "getOpenSubsonicExtensions without credentials")
    extensions = items(body, "openSubsonicExtensions")
    names = {entry.get("name"): entry.get("versions") for entry in extensions if isinstance(entry, dict)}
    for name in ("apiKeyAuthentication", "formPost", "songLyrics"):
        versions = names.get(name)
        check(isinstance(versions, list) and versions and all(isinstance(v, int) for v in versions),
              f"getOpenSubsonicExtensions lists {name} with integer versions, got {names}")


def test_authentication(ctx: Context) -> None:
    # py-sonic: token (POST form), enc: (legacyAuth), and GET.
    for label, options in (("token, POST", {}), ("enc:, POST", {"legacyAuth": True}), ("token, GET", {"useGET": True}),
                           ("enc:, GET", {"legacyAuth": True, "useGET": True})):
        conn = ctx.sonic(**options)
        body = conn.getLicense()
        expect_equal(body.get("status"), "ok", f"py-sonic getLicense with {label} auth")
        expect_equal((body.get("license") or {}).get("valid"), True, f"py-sonic getLicense with {label}: license.valid")
    # requests: every form, on a GET query string.
    for kind in ("token", "enc", "plain", "apikey"):
        body = envelope(ctx.rest("ping", auth=kind), f"ping {kind}")
        expect_equal(body.get("status"), "ok", f"ping with {kind} auth ({'without u' if kind == 'apikey' else 'u=' + ctx.email['artist']})")
    body = envelope(ctx.rest("getUser", {"username": ctx.email["artist"]}, auth="apikey"), "getUser apiKey")
    expect_equal((body.get("user") or {}).get("username"), ctx.email["artist"], "getUser through apiKey: the key's owner")
    # The listener's own app password.
    expect_equal(ctx.sonic("listener").ping(), True, "py-sonic ping as the listener")


def test_errors(ctx: Context) -> None:
    expect_failure(ctx.rest("ping", auth="token", secret="not the password"), 40, "wrong password (token)")
    expect_failure(ctx.rest("ping", auth="enc", secret="not the password"), 40, "wrong password (enc:)")
    expect_failure(ctx.rest("ping", auth="plain", secret="not the password"), 40, "wrong password (p=)")
    expect_failure(ctx.rest("ping", auth="plain", secret=PASSWORD), 40, "the account password is not an app password (p=)")
    expect_sonic_error(lambda: ctx.sonic(secret="not the password").getLicense(), sonic_errors.CredentialError,
                       "py-sonic with a wrong password raises CredentialError (code 40)")
    expect_failure(ctx.rest("ping", auth="apikey", secret="not-a-key"), 44, "an invalid apiKey (OpenSubsonic code 44)")
    expect_failure(ctx.rest("ping", [("u", ctx.email["artist"]), ("apiKey", ctx.secret["artist"])], auth="none"), 43,
                   "apiKey together with u")
    expect_failure(ctx.rest("ping", auth="none"), 10, "no credentials at all")
    expect_failure(ctx.rest("getAlbum"), 10, "getAlbum without id")
    expect_failure(ctx.rest("getSong"), 10, "getSong without id")
    expect_failure(ctx.rest("getAlbum", {"id": str(uuid.uuid4())}), 70, "getAlbum with an unknown id")
    expect_failure(ctx.rest("getSong", {"id": str(uuid.uuid4())}), 70, "getSong with an unknown id")
    expect_failure(ctx.rest("getArtist", {"id": str(uuid.uuid4())}), 70, "getArtist with an unknown id")
    expect_sonic_error(lambda: ctx.sonic().getAlbum(str(uuid.uuid4())), sonic_errors.DataNotFoundError,
                       "py-sonic getAlbum of an unknown id raises DataNotFoundError (code 70)")
    expect_failure(ctx.rest("fooBar"), (0, 70), "an unknown method", http_ok=(200, 404))

    # A revoked app password stops working at once.
    expect_equal(status_of(ctx.rest("ping", who="spare")), "ok", "the second app password works before it is revoked")
    ctx.api("DELETE", f"/users/me/app-passwords/{ctx.app_password_id['spare']}", "artist", expect=(200, 204))
    expect_failure(ctx.rest("ping", auth="token", who="spare"), 40, "a revoked app password (token)")
    expect_failure(ctx.rest("ping", auth="apikey", who="spare"), (40, 44), "a revoked app password (apiKey)")
    expect_sonic_error(lambda: ctx.sonic("spare").getLicense(), sonic_errors.CredentialError,
                       "py-sonic with a revoked app password raises CredentialError")
    expect_equal(status_of(ctx.rest("ping")), "ok", "the other app password still works after one was revoked")


def test_system(ctx: Context) -> None:
    conn = ctx.sonic()
    body = conn.getLicense()  # first: it raises on a missing endpoint, where ping() only answers False
    expect_equal(conn.ping(), True, "py-sonic ping")
    check_envelope(body, "py-sonic getLicense")
    expect_equal((body.get("license") or {}).get("valid"), True, "getLicense: license.valid")
    user = conn.getUser(ctx.email["artist"]).get("user") or {}
    expect_equal(user.get("username"), ctx.email["artist"], "getUser: user.username is the email")
    expect_equal(user.get("streamRole"), True, "getUser: streamRole")
    folders = items(conn.getMusicFolders().get("musicFolders"), "musicFolder")
    expect_equal(len(folders), 1, f"getMusicFolders: exactly one folder ({folders})")


def test_browsing(ctx: Context) -> None:
    conn = ctx.sonic()
    artists = [artist for index in items(conn.getArtists().get("artists"), "index") for artist in items(index, "artist")]
    by_id = {artist.get("id"): artist for artist in artists}
    for key, name in ARTISTS.items():
        artist = by_id.get(ctx.artist_id[key]) or {}
        expect_equal(artist.get("name"), name, f"getArtists: artist {ctx.artist_id[key]} is listed by name")
        expect_equal(artist.get("albumCount"), 1, f"getArtists: {name}.albumCount")

    body = conn.getArtist(ctx.artist_id["bjork"]).get("artist") or {}
    expect_equal(body.get("name"), "Björk", "getArtist: artist.name")
    albums = items(body, "album")
    expect_equal([album.get("id") for album in albums], [ctx.album_id["debut"]], "getArtist: artist.album[] ids")
    if albums:
        expect_equal(albums[0].get("name"), "Debut", "getArtist: album name")
        expect_equal(albums[0].get("songCount"), 2, "getArtist: album songCount")

    for key, (artist, title, genre, date) in ALBUMS.items():
        album = conn.getAlbum(ctx.album_id[key]).get("album") or {}
        songs = [song for song in SONGS if song.album == key]
        expect_equal(album.get("id"), ctx.album_id[key], f"getAlbum {title}: id")
        expect_equal(album.get("name"), title, f"getAlbum {title}: name")
        expect_equal(album.get("artist"), ARTISTS[artist], f"getAlbum {title}: artist")
        expect_equal(album.get("artistId"), ctx.artist_id[artist], f"getAlbum {title}: artistId")
        expect_equal(album.get("songCount"), len(songs), f"getAlbum {title}: songCount")
        expect_equal(album.get("year"), int(date[:4]), f"getAlbum {title}: year")
        expect_equal(album.get("genre"), genre, f"getAlbum {title}: genre")
        total = sum(song.seconds for song in songs)
        check(isinstance(album.get("duration"), int) and abs(album["duration"] - total) <= len(songs),
              f"getAlbum {title}: duration ≈ {total} s, got {album.get('duration')!r}")
        entries = items(album, "song")
        expect_equal(song_ids(entries), [song.id for song in songs], f"getAlbum {title}: song[] in track order")
        for entry, song in zip(entries, songs):
            check_song(ctx, entry, song, f"getAlbum {title}")

    for song in SONGS:
        check_song(ctx, get_song(ctx, conn, song), song, "getSong")

    indexed = {artist.get("id") for index in items(conn.getIndexes().get("indexes"), "index") for artist in items(index, "artist")}
    for key in ARTISTS:
        check(ctx.artist_id[key] in indexed, f"getIndexes: artist {ARTISTS[key]} ({ctx.artist_id[key]}) listed, got {indexed}")

    directory = conn.getMusicDirectory(ctx.artist_id["sigur"]).get("directory") or {}
    expect_equal(directory.get("id"), ctx.artist_id["sigur"], "getMusicDirectory(artist): directory.id")
    expect_equal(directory.get("name"), "Sigur Rós", "getMusicDirectory(artist): directory.name")
    children = items(directory, "child")
    expect_equal([child.get("id") for child in children], [ctx.album_id["agaetis"]], "getMusicDirectory(artist): the albums")
    check(all(child.get("isDir") is True for child in children), f"getMusicDirectory(artist): albums are isDir true, got {children}")
    if children:
        expect_equal(children[0].get("title"), "Ágætis byrjun", "getMusicDirectory(artist): album child title")

    directory = conn.getMusicDirectory(ctx.album_id["agaetis"]).get("directory") or {}
    children = items(directory, "child")
    expect_equal(song_ids(children), [ctx.songs["svefn"].id, ctx.songs["ny"].id], "getMusicDirectory(album): the songs in order")
    check(children and all(child.get("parent") == ctx.album_id["agaetis"] and child.get("isDir") is False for child in children),
          f"getMusicDirectory(album): songs have parent {ctx.album_id['agaetis']} and isDir false, got "
          f"{[(c.get('parent'), c.get('isDir')) for c in children]}")

    genres = {genre.get("value"): genre for genre in items(conn.getGenres().get("genres"), "genre")}
    for name in ("Electronic", "Post-Rock"):
        genre = genres.get(name) or {}
        expect_equal((genre.get("songCount"), genre.get("albumCount")), (2, 1), f"getGenres: {name} (songCount, albumCount)")


def fold(text: str) -> str:
    """Case- and accent-insensitive sort key."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def album_list(conn: libsonic.Connection, kind: str, **options) -> list[dict]:
    return items(conn.getAlbumList2(kind, size=options.pop("size", 50), **options).get("albumList2"), "album")


def test_album_lists(ctx: Context) -> None:
    conn = ctx.sonic()
    everything = set(ctx.album_id.values())
    for kind in ("newest", "random", "alphabeticalByName", "alphabeticalByArtist"):
        ids = [album.get("id") for album in album_list(conn, kind)]
        check(sorted(ids) == sorted(everything), f"getAlbumList2 type={kind}: every album once, got {ids}")
    names = [album.get("name") for album in album_list(conn, "alphabeticalByName")]
    check(names == sorted(names, key=fold) or names == sorted(names, key=str.casefold),
          f"getAlbumList2 alphabeticalByName is sorted by name, got {names}")
    artists = [album.get("artist") for album in album_list(conn, "alphabeticalByArtist")]
    expect_equal(artists, ["Björk", "Sigur Rós"], "getAlbumList2 alphabeticalByArtist order")
    ids = [album.get("id") for album in album_list(conn, "newest")]
    check(len(ids) == 2, f"getAlbumList2 newest: two albums, got {ids}")
    expect_equal([a.get("id") for a in album_list(conn, "byGenre", genre="Post-Rock")], [ctx.album_id["agaetis"]],
                 "getAlbumList2 byGenre genre=Post-Rock")
    expect_equal([a.get("id") for a in album_list(conn, "byGenre", genre="Electronic")], [ctx.album_id["debut"]],
                 "getAlbumList2 byGenre genre=Electronic")
    expect_equal([a.get("id") for a in album_list(conn, "byYear", fromYear=1990, toYear=1995)], [ctx.album_id["debut"]],
                 "getAlbumList2 byYear 1990-1995")
    expect_equal([a.get("id") for a in album_list(conn, "byYear", fromYear=1996, toYear=2005)], [ctx.album_id["agaetis"]],
                 "getAlbumList2 byYear 1996-2005")
    expect_equal([a.get("id") for a in album_list(conn, "byYear", fromYear=2005, toYear=1990)],
                 [ctx.album_id["agaetis"], ctx.album_id["debut"]], "getAlbumList2 byYear fromYear=2005 toYear=1990: both, newest first")
    ids = [a.get("id") for a in album_list(conn, "alphabeticalByName", size=1, offset=1)]
    expect_equal(len(ids), 1, "getAlbumList2 size=1 offset=1: one album")
    check(not album_list(conn, "starred"), "getAlbumList2 starred: nothing starred yet")
    body = envelope(ctx.rest("getAlbumList2", {"type": "byGenre"}), "getAlbumList2 byGenre without genre")
    check(body.get("status") == "failed" and (body.get("error") or {}).get("code") == 10,
          f"getAlbumList2 byGenre without genre: error 10, got {short(body)}")

    random_songs = items(conn.getRandomSongs(size=2).get("randomSongs"), "song")
    ids = song_ids(random_songs)
    check(len(ids) == 2 and len(set(ids)) == 2 and set(ids) <= {song.id for song in SONGS},
          f"getRandomSongs size=2: two different known songs, got {ids}")


def test_search(ctx: Context) -> None:
    conn = ctx.sonic()
    found = song_ids(items(conn.search3("hyperbalad").get("searchResult3"), "song"))
    check(ctx.songs["hyper"].id in found, f"search3 'hyperbalad' (a typo) finds Hyperballad {ctx.songs['hyper'].id}, got {found}")
    result = conn.search3("björk").get("searchResult3") or {}
    check(ctx.artist_id["bjork"] in [a.get("id") for a in items(result, "artist")], f"search3 'björk' finds the artist, got {short(result)}")
    result = conn.search3("bjork").get("searchResult3") or {}
    check(ctx.artist_id["bjork"] in [a.get("id") for a in items(result, "artist")], f"search3 'bjork' (no accent) finds Björk, got {short(result)}")
    for query in ("Agætis", "agaetis"):
        result = conn.search3(query).get("searchResult3") or {}
        check(ctx.album_id["agaetis"] in [a.get("id") for a in items(result, "album")],
              f"search3 {query!r} (accent and ligature folded) finds Ágætis byrjun, got {short(result)}")

    seen: list[str] = []
    for page in range(10):
        body = conn.search3("", artistCount=0, albumCount=0, songCount=2, songOffset=2 * page)
        batch = song_ids(items(body.get("searchResult3"), "song"))
        check(len(batch) <= 2, f"search3 '' songCount=2 songOffset={2 * page}: at most 2 songs, got {batch}")
        if not batch:
            break
        seen += batch
    expect_equal(sorted(seen), sorted(song.id for song in SONGS), "search3 '' paged by 2: every song exactly once")
    check(len(seen) == len(set(seen)), f"search3 '' paging: no duplicates, got {seen}")

    result = conn.search2("hyperballad").get("searchResult2") or {}
    check(ctx.songs["hyper"].id in song_ids(items(result, "song")), f"search2 'hyperballad' finds the song, got {short(result)}")

    found = song_ids(items(conn.search3("human behaviour").get("searchResult3"), "song"))
    check(ctx.songs["human"].id in found, f"py-sonic search3 'human behaviour' (form POST) finds it, got {found}")


def test_encodings(ctx: Context) -> None:
    compare_encodings(ctx, "getAlbum", {"id": ctx.album_id["debut"]})
    compare_encodings(ctx, "getArtists", {})
    compare_encodings(ctx, "search3", {"query": "", "songCount": 10})
    compare_encodings(ctx, "getAlbumList2", {"type": "alphabeticalByName", "size": 10})


def test_client_shapes(ctx: Context) -> None:
    # DSub: credentials in the query string, the rest in a form body.
    salt = os.urandom(6).hex()
    query = {"u": ctx.email["artist"], "t": hashlib.md5((ctx.secret["artist"] + salt).encode()).hexdigest(), "s": salt,
             "v": "1.2.0", "c": "DSub"}
    response = ctx.http.post(f"{ctx.base}/rest/getAlbum.view?" + urllib.parse.urlencode(query),
                             data={"id": ctx.album_id["debut"], "f": "json"}, timeout=TIMEOUT)
    check("application/x-www-form-urlencoded" in (response.request.headers.get("Content-Type") or ""), "the DSub request is form-encoded")
    body = envelope(response, "DSub getAlbum")
    expect_equal(body.get("status"), "ok", "DSub-shaped POST (query + form body)")
    expect_equal((body.get("album") or {}).get("id"), ctx.album_id["debut"], "DSub-shaped POST: the album from the body's id")

    # requests writes spaces as '+'.
    response = ctx.rest("search3", {"query": "human behaviour"})
    check("query=human+behaviour" in response.request.url, f"requests encodes spaces as +: {response.request.url}")
    found = song_ids(items(envelope(response, "search3").get("searchResult3"), "song"))
    check(ctx.songs["human"].id in found, f"search3 query=human+behaviour finds Human Behaviour, got {found}")

    # The same parameters as a POST form (OpenSubsonic formPost).
    response = ctx.rest("getSong", {"id": ctx.songs["ny"].id}, http="POST")
    expect_equal((envelope(response, "getSong POST").get("song") or {}).get("title"), "Ný batterí", "getSong as a form POST")

    # A form body over the 1 MiB limit: a failed envelope saying so, not a server failure.
    response = ctx.http.post(f"{ctx.base}/rest/ping.view?" + urllib.parse.urlencode(query | {"f": "json"}),
                             data={"padding": "a" * (2 << 20)}, timeout=TIMEOUT)
    body = envelope(response, "oversized POST")
    check(response.status_code == 200 and body.get("status") == "failed" and "at most" in (body.get("error") or {}).get("message", ""),
          f"an oversized form body: failed with a message, got HTTP {response.status_code} {short(body)}")


def fetch_stream(ctx: Context, conn: libsonic.Connection, song: Song, **options) -> bytes:
    reply = conn.stream(song.id, **options)
    if isinstance(reply, dict):
        raise RuntimeError(f"stream answered {short(reply)}")
    try:
        return reply.read()
    finally:
        reply.close()


def test_streaming(ctx: Context) -> None:
    conn = ctx.sonic()
    song = ctx.songs["svefn"]
    before = play_count(ctx, conn, song)

    response = ctx.rest("stream", {"id": song.id}, allow_redirects=False)
    check(response.status_code in (302, 303, 307) and response.headers.get("Location"),
          f"stream: a redirect to a signed media URL, got {response.status_code} {response.headers.get('Location')!r}")

    data = fetch_stream(ctx, conn, song)
    facts = probe(data, ctx.work, "stream-default")
    expect_equal(facts.get("codec"), "flac", "py-sonic stream (no format): the original FLAC")
    expect_equal(len(data), len(song.data), "py-sonic stream (no format): the original's length")

    for label, options, codec, rates in (
        ("maxBitRate=160 format=mp3", {"maxBitRate": 160, "tformat": "mp3"}, "mp3", (150_000, 161_000)),
        ("maxBitRate=100 format=mp3", {"maxBitRate": 100, "tformat": "mp3"}, "mp3", (90_000, 97_000)),
        ("format=opus", {"tformat": "opus"}, "opus", None),
        ("format=ogg", {"tformat": "ogg"}, "opus", None),
        ("format=aac", {"tformat": "aac"}, "aac", None),
        ("format=m4a", {"tformat": "m4a"}, "aac", None),
        ("format=raw", {"tformat": "raw"}, "flac", None),
        ("format=raw maxBitRate=160", {"tformat": "raw", "maxBitRate": 160}, "flac", None),
    ):
        facts = probe(fetch_stream(ctx, conn, song, **options), ctx.work, "stream-" + label.replace(" ", "-").replace("=", ""))
        expect_equal(facts.get("codec"), codec, f"stream {label}: codec")
        if rates:
            rate = facts.get("bit_rate")
            check(rate is not None and rates[0] <= rate <= rates[1], f"stream {label}: bit rate in {rates}, got {rate!r}")

    response = ctx.rest("stream", {"id": song.id}, headers={"Range": "bytes=0-99"}, allow_redirects=True)
    expect_equal(response.status_code, 206, "stream with Range bytes=0-99 (after the redirect): status")
    expect_equal(len(response.content), 100, "stream with Range bytes=0-99: body length")
    expect_equal(response.content, song.data[:100], "stream with Range bytes=0-99: the original's first 100 bytes")
    check(bool(response.history) and response.history[0].status_code in (302, 303, 307),
          f"stream with Range: reached through a redirect, history {[r.status_code for r in response.history]}")

    response = ctx.rest("stream", {"id": song.id}, http="HEAD", allow_redirects=True)
    expect_equal(response.status_code, 200, "HEAD stream (after the redirect): status")
    expect_equal(response.headers.get("Content-Length"), str(len(song.data)), "HEAD stream: Content-Length of the original")

    reply = conn.download(song.id)
    if isinstance(reply, dict):
        raise RuntimeError(f"download answered {short(reply)}")
    try:
        data = reply.read()
    finally:
        reply.close()
    expect_equal(len(data), len(song.data), "download: the uploaded file's length")
    check(data == song.data, "download: the uploaded file's bytes")

    expect_failure(ctx.rest("stream", {"id": str(uuid.uuid4())}, allow_redirects=False), 70, "stream of an unknown id")

    after = play_count(ctx, conn, song)
    check(isinstance(before, int) and after == before, f"streaming alone leaves playCount alone: before {before!r}, after {after!r}")


def test_scrobble(ctx: Context) -> None:
    conn = ctx.sonic()
    song, other = ctx.songs["human"], ctx.songs["hyper"]
    before = play_count(ctx, conn, song)
    body = conn.scrobble(song.id, submission=True)
    expect_equal(body.get("status"), "ok", "scrobble submission=True")
    after = poll(lambda: play_count(ctx, conn, song), lambda n: isinstance(before, int) and isinstance(n, int) and n > before)
    check(isinstance(before, int) and after == before + 1, f"scrobble submission=True: playCount {before!r} → {before}+1, got {after!r}")
    entry = get_song(ctx, conn, song)
    check(is_timestamp(entry.get("played")), f"a scrobbled song carries 'played' (OpenSubsonic: your last play), got {entry.get('played')!r}")
    check("played" not in get_song(ctx, ctx.sonic("listener"), song), "'played' is per user: the listener never played it")

    other_before = play_count(ctx, conn, other)
    expect_equal(conn.scrobble(other.id, submission=False).get("status"), "ok", "scrobble submission=False")

    def playing() -> list:
        return items(conn.getNowPlaying().get("nowPlaying"), "entry")

    entries = poll(playing, lambda entries: other.id in song_ids(entries))
    mine = [entry for entry in entries if entry.get("id") == other.id]
    check(bool(mine), f"getNowPlaying lists the song reported with submission=False, got {song_ids(entries)}")
    if mine:
        # Other listeners see this list: it names people by display name, never by email.
        expect_equal(mine[0].get("username"), "Subsonic artist", "getNowPlaying: entry.username is the display name")
        expect_equal(mine[0].get("title"), other.title, "getNowPlaying: entry.title")
    expect_equal(play_count(ctx, conn, other), other_before, "scrobble submission=False leaves playCount alone")
    listener_view = song_ids(items(ctx.sonic("listener").getNowPlaying().get("nowPlaying"), "entry"))
    check(other.id in listener_view, f"getNowPlaying shows other users' plays too, got {listener_view}")

    frequent = [album.get("id") for album in album_list(conn, "frequent")]
    check(frequent[:1] == [ctx.album_id["debut"]], f"getAlbumList2 frequent: the played album first, got {frequent}")
    recent = [album.get("id") for album in album_list(conn, "recent")]
    check(recent[:1] == [ctx.album_id["debut"]], f"getAlbumList2 recent: the played album first, got {recent}")


def test_stars_and_ratings(ctx: Context) -> None:
    conn = ctx.sonic()
    song = ctx.songs["ny"]
    album, artist = ctx.album_id["debut"], ctx.artist_id["sigur"]
    expect_equal(conn.star(sids=[song.id]).get("status"), "ok", "star a song")
    expect_equal(conn.star(albumIds=[album]).get("status"), "ok", "star an album")
    expect_equal(conn.star(artistIds=[artist]).get("status"), "ok", "star an artist")
    starred = conn.getStarred2().get("starred2") or {}
    for kind, wanted in (("song", song.id), ("album", album), ("artist", artist)):
        entries = items(starred, kind)
        expect_equal([entry.get("id") for entry in entries], [wanted], f"getStarred2: starred {kind}s")
        check(all(is_timestamp(entry.get("starred")) for entry in entries),
              f"getStarred2: each {kind} carries a starred timestamp, got {[e.get('starred') for e in entries]}")
    check(is_timestamp(get_song(ctx, conn, song).get("starred")), "getSong of a starred song: starred timestamp")
    expect_equal([a.get("id") for a in album_list(conn, "starred")], [album], "getAlbumList2 starred: only the starred album")
    other_view = ctx.sonic("listener").getStarred2().get("starred2") or {}
    check(not any(items(other_view, kind) for kind in ("song", "album", "artist")),
          f"stars are per user: the listener sees none, got {short(other_view)}")

    expect_equal(conn.unstar(sids=[song.id], albumIds=[album], artistIds=[artist]).get("status"), "ok", "unstar all three")
    starred = conn.getStarred2().get("starred2") or {}
    check(not any(items(starred, kind) for kind in ("song", "album", "artist")), f"getStarred2 after unstar: empty, got {short(starred)}")
    check("starred" not in get_song(ctx, conn, song), "getSong after unstar: no starred")
    check(not album_list(conn, "starred"), "getAlbumList2 starred after unstar: empty")

    expect_equal(conn.setRating(song.id, 4).get("status"), "ok", "setRating 4")
    expect_equal(get_song(ctx, conn, song).get("userRating"), 4, "getSong after setRating 4: userRating")
    expect_equal(conn.setRating(song.id, 0).get("status"), "ok", "setRating 0")
    rating = get_song(ctx, conn, song).get("userRating")
    check(rating in (None, 0), f"getSong after setRating 0: no userRating (or 0), got {rating!r}")
    expect_failure(ctx.rest("setRating", {"id": song.id, "rating": 6}), 10, "setRating 6 (out of range)")

    # Albums rated through their id in `id` (the folder view's way): `highest` lists them, best first.
    debut, agaetis = ctx.album_id["debut"], ctx.album_id["agaetis"]
    expect_equal(conn.setRating(debut, 2).get("status"), "ok", "setRating on an album id")
    expect_equal(conn.setRating(agaetis, 5).get("status"), "ok", "setRating on another album id")
    expect_equal([album.get("id") for album in album_list(conn, "highest")], [agaetis, debut], "getAlbumList2 highest: best rated first")
    expect_equal([album.get("id") for album in album_list(ctx.sonic("listener"), "highest")], [], "ratings are per user")
    for album in (debut, agaetis):
        conn.setRating(album, 0)
    check(not album_list(conn, "highest"), "getAlbumList2 highest after clearing the ratings: empty")


def playlist_ids(conn: libsonic.Connection) -> dict[str, dict]:
    return {entry.get("id"): entry for entry in items(conn.getPlaylists().get("playlists"), "playlist")}


def test_playlists(ctx: Context) -> None:
    conn = ctx.sonic()
    a, b, c = ctx.songs["human"], ctx.songs["hyper"], ctx.songs["svefn"]
    created = conn.createPlaylist(name="Road trip", songIds=[a.id, b.id])
    expect_equal(created.get("status"), "ok", "createPlaylist")
    playlist_id = (created.get("playlist") or {}).get("id")
    listed = playlist_ids(conn)
    if not playlist_id:
        check(False, f"createPlaylist returns the playlist (since 1.14.0), got {short(created)}")
        playlist_id = next((pid for pid, entry in listed.items() if entry.get("name") == "Road trip"), None)
    listing = listed.get(playlist_id) or {}
    expect_equal(listing.get("name"), "Road trip", "getPlaylists: the new playlist's name")
    expect_equal(listing.get("songCount"), 2, "getPlaylists: the new playlist's songCount")
    playlist = conn.getPlaylist(playlist_id).get("playlist") or {}
    expect_equal(song_ids(items(playlist, "entry")), [a.id, b.id], "getPlaylist: entries in order")
    expect_equal(playlist.get("songCount"), 2, "getPlaylist: songCount")
    expect_equal(playlist.get("owner"), ctx.email["artist"], "getPlaylist: owner is the username")

    expect_equal(conn.updatePlaylist(playlist_id, name="Road trip II", songIdsToAdd=[c.id], songIndexesToRemove=[0]).get("status"),
                 "ok", "updatePlaylist")
    playlist = conn.getPlaylist(playlist_id).get("playlist") or {}
    expect_equal(playlist.get("name"), "Road trip II", "updatePlaylist: renamed")
    expect_equal(song_ids(items(playlist, "entry")), [b.id, c.id], "updatePlaylist: index 0 removed, the new song appended")

    listener = ctx.sonic("listener")
    check(playlist_id not in playlist_ids(listener), "the listener does not see the artist's private playlist in getPlaylists")
    expect_failure(ctx.rest("getPlaylist", {"id": playlist_id}, who="listener"), (50, 70), "the listener reads the artist's private playlist")
    expect_failure(ctx.rest("updatePlaylist", {"playlistId": playlist_id, "name": "Mine now"}, who="listener"), (50, 70),
                   "the listener renames the artist's playlist")
    expect_failure(ctx.rest("updatePlaylist", {"playlistId": playlist_id, "songIdToAdd": a.id}, who="listener"), (50, 70),
                   "the listener adds to the artist's playlist")
    expect_failure(ctx.rest("deletePlaylist", {"id": playlist_id}, who="listener"), (50, 70), "the listener deletes the artist's playlist")
    playlist = conn.getPlaylist(playlist_id).get("playlist") or {}
    expect_equal((playlist.get("name"), song_ids(items(playlist, "entry"))), ("Road trip II", [b.id, c.id]),
                 "the artist's playlist is untouched by the listener")

    # createPlaylist with playlistId replaces the songs.
    expect_equal(conn.createPlaylist(playlistId=playlist_id, songIds=[c.id, a.id]).get("status"), "ok", "createPlaylist with playlistId")
    playlist = conn.getPlaylist(playlist_id).get("playlist") or {}
    expect_equal(song_ids(items(playlist, "entry")), [c.id, a.id], "createPlaylist with playlistId replaces the entries")

    expect_equal(conn.deletePlaylist(playlist_id).get("status"), "ok", "deletePlaylist")
    check(playlist_id not in playlist_ids(conn), "getPlaylists after deletePlaylist: gone")
    expect_failure(ctx.rest("getPlaylist", {"id": playlist_id}), 70, "getPlaylist after deletePlaylist")


def test_play_queue(ctx: Context) -> None:
    conn = ctx.sonic()
    a, b, c = ctx.songs["human"], ctx.songs["svefn"], ctx.songs["ny"]
    expect_equal(conn.savePlayQueue([a.id, b.id, c.id], current=b.id, position=5000).get("status"), "ok", "savePlayQueue")
    queue = conn.getPlayQueue().get("playQueue") or {}
    expect_equal(song_ids(items(queue, "entry")), [a.id, b.id, c.id], "getPlayQueue: entries in order")
    expect_equal(str(queue.get("current")), b.id, "getPlayQueue: current")
    expect_equal(queue.get("position"), 5000, "getPlayQueue: position (ms)")
    expect_equal(queue.get("username"), ctx.email["artist"], "getPlayQueue: username")
    check(is_timestamp(queue.get("changed")), f"getPlayQueue: changed timestamp, got {queue.get('changed')!r}")
    listener_queue = ctx.sonic("listener").getPlayQueue().get("playQueue") or {}
    check(not items(listener_queue, "entry"), f"play queues are per user: the listener's is empty, got {short(listener_queue)}")


def test_lyrics(ctx: Context) -> None:
    body = ctx.call("getLyricsBySongId", {"id": ctx.songs["hyper"].id})
    check("lyricsList" in body, f"getLyricsBySongId: a lyricsList, got {short(body)}")
    structured = (body.get("lyricsList") or {}).get("structuredLyrics")
    check(structured in (None, []), f"getLyricsBySongId of a song without lyrics: no structuredLyrics, got {short(structured)}")
    expect_failure(ctx.rest("getLyricsBySongId", {"id": str(uuid.uuid4())}), 70, "getLyricsBySongId of an unknown id")


# --------------------------------------------------------------------------- cover art


def image_size(data: bytes, work: str, name: str) -> tuple[int, int] | None:
    """(width, height) of an image as ffprobe decodes it, or None."""
    path = os.path.join(work, name)
    with open(path, "wb") as out:
        out.write(data)
    result = run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path])
    try:
        width, height = result.stdout.strip().split(",")[:2]
        return int(width), int(height)
    except ValueError:
        return None


def wait_for_cover(ctx: Context, album_id: str, size: str) -> dict:
    """The album as the REST API shows it, once its cover has a `size` thumbnail (polled with a deadline)."""
    deadline = time.monotonic() + 60
    while True:
        album = ctx.api("GET", f"/albums/{album_id}", "artist")
        if size in (album.get("coverUrls") or {}):
            return album
        if time.monotonic() > deadline:
            raise RuntimeError(f"album {album_id} has no {size} px cover after 60 s: {short(album)}")
        time.sleep(0.3)


def test_cover_art(ctx: Context) -> None:
    # A FLAC with a 700 px PNG embedded: the pipeline takes it as the cover of an album that has none.
    body = {"artistId": ctx.artist_id["bjork"], "title": "Homogenic", "genre": "Electronic", "releaseDate": "1997-09-22"}
    homogenic = ctx.api("POST", "/albums", "artist", json=body, expect=(201,))["id"].lower()
    with_picture = os.path.join(ctx.work, "joga.flac")
    made = run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=523:duration=4", "-f", "lavfi", "-i",
                "color=c=red:s=700x700:d=0.1", "-map", "0:a", "-map", "1:v", "-frames:v", "1", "-c:a", "flac", "-c:v", "png",
                "-disposition:v", "attached_pic", "-ac", "2", "-ar", "44100", with_picture])
    check(made.returncode == 0, f"ffmpeg makes a FLAC with an embedded picture: {made.stderr[:200]}")
    with open(with_picture, "rb") as source:
        data = source.read()
    grant = ctx.api("GET", "/tracks/upload-url", "artist")
    ctx.http.put(grant["uploadUrl"], data=data, timeout=TIMEOUT).raise_for_status()
    track = ctx.api("POST", "/tracks", "artist", json={"albumId": homogenic, "title": "Jóga", "trackUrl": grant["trackUrl"]}, expect=(201,))
    album = wait_for_cover(ctx, homogenic, "300")
    expect_equal(sorted(album["coverUrls"], key=int), ["64", "300", "600"], "an embedded 700 px picture: thumbnails up to its size")
    thumbnail = ctx.http.get(album["coverUrls"]["300"], timeout=TIMEOUT)
    expect_equal(thumbnail.status_code, 200, "a REST coverUrl is fetched without a token")
    expect_equal(thumbnail.headers.get("Content-Type"), "image/jpeg", "thumbnails are JPEG")
    expect_equal(image_size(thumbnail.content, ctx.work, "t300.jpg"), (300, 300), "the 300 px thumbnail decodes at 300 × 300")

    # Subsonic: coverArt on the album and its songs; getCoverArt redirects to the nearest size from above.
    album_entry = ctx.call("getAlbum", {"id": homogenic})["album"]
    expect_equal(album_entry.get("coverArt"), homogenic, "getAlbum: coverArt names the album")
    song_entries = album_entry.get("song") or []
    expect_equal([entry.get("coverArt") for entry in song_entries], [homogenic], "getAlbum: the song's coverArt is its album's")
    for cover_id, size, expected in ((homogenic, 100, (300, 300)), (track["id"].lower(), 64, (64, 64)), (ctx.artist_id["bjork"], None, (600, 600))):
        params = {"id": cover_id} | ({"size": size} if size else {})
        response = ctx.rest("getCoverArt", params, fmt=None)
        check(response.status_code == 200 and response.headers.get("Content-Type") == "image/jpeg",
              f"getCoverArt id={cover_id} size={size}: an image, got {response.status_code} {response.headers.get('Content-Type')}")
        if response.status_code == 200:
            expect_equal(image_size(response.content, ctx.work, "cover.jpg"), expected, f"getCoverArt size={size}: the thumbnail's size")
    first = ctx.rest("getCoverArt", {"id": homogenic, "size": 64}, fmt=None, allow_redirects=False)
    check(first.status_code == 302 and "/media/" in first.headers.get("Location", ""),
          f"getCoverArt answers a redirect to a signed media URL, got {first.status_code} {first.headers.get('Location')}")
    missing = envelope(ctx.rest("getCoverArt", {"id": ctx.album_id["agaetis"]}), "getCoverArt without a cover")
    expect_equal((missing.get("error") or {}).get("code"), 70, "getCoverArt of an album without a cover: error 70")

    # An uploaded cover replaces it: 1500 × 1000 PNG → thumbnails at every size, aspect kept.
    png = os.path.join(ctx.work, "cover.png")
    made = run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=s=1500x1000:d=1", "-frames:v", "1", png])
    check(made.returncode == 0, f"ffmpeg makes a PNG: {made.stderr[:200]}")
    with open(png, "rb") as source:
        image = source.read()
    grant = ctx.api("GET", f"/albums/{homogenic}/cover-upload-url", "artist")
    check(grant.get("maxBytes", 0) >= len(image) and "coverUrl" in grant, f"a cover upload grant: {short(grant)}")
    ctx.http.put(grant["uploadUrl"], data=image, timeout=TIMEOUT).raise_for_status()
    attached = ctx.http.put(ctx.base + f"/api/v1/albums/{homogenic}/cover", json={"coverUrl": grant["coverUrl"]}, timeout=TIMEOUT,
                            headers={"Authorization": f"Bearer {ctx.bearer['artist']}"})
    expect_equal(attached.status_code, 202, "PUT /albums/{id}/cover accepts the upload for processing")
    album = wait_for_cover(ctx, homogenic, "1200")
    large = ctx.http.get(album["coverUrls"]["1200"], timeout=TIMEOUT)
    expect_equal(image_size(large.content, ctx.work, "t1200.jpg"), (1200, 800), "the uploaded cover's 1200 px thumbnail keeps its aspect")
    old = ctx.http.get(thumbnail.url, timeout=TIMEOUT)
    expect_equal(old.status_code, 404, "the replaced cover's thumbnails are removed")

    # Not an image: refused at once with a clear code, and the cover stays.
    grant = ctx.api("GET", f"/albums/{homogenic}/cover-upload-url", "artist")
    ctx.http.put(grant["uploadUrl"], data=b"this is a text file, not a picture\n" * 10, timeout=TIMEOUT).raise_for_status()
    refused = ctx.http.put(ctx.base + f"/api/v1/albums/{homogenic}/cover", json={"coverUrl": grant["coverUrl"]}, timeout=TIMEOUT,
                           headers={"Authorization": f"Bearer {ctx.bearer['artist']}"})
    expect_equal(refused.status_code, 422, "a text file as a cover: 422")
    expect_equal(((refused.json() if refused.content else {}).get("error") or {}).get("code"), "invalid_image", "… with invalid_image")
    expect_equal(sorted(ctx.api("GET", f"/albums/{homogenic}", "artist").get("coverUrls") or {}, key=int), ["64", "300", "600", "1200"],
                 "the refused upload leaves the cover as it was")
    # Only the album's owner may change its cover.
    other = ctx.http.get(ctx.base + f"/api/v1/albums/{homogenic}/cover-upload-url", timeout=TIMEOUT,
                         headers={"Authorization": f"Bearer {ctx.bearer['listener']}"})
    expect_equal(other.status_code, 403, "another account cannot upload this album's cover")


SECTIONS = [
    ("envelope", test_envelope),
    ("extensions", test_extensions),
    ("authentication", test_authentication),
    ("errors", test_errors),
    ("system", test_system),
    ("browsing", test_browsing),
    ("album lists", test_album_lists),
    ("search", test_search),
    ("xml vs json", test_encodings),
    ("client request shapes", test_client_shapes),
    ("streaming", test_streaming),
    ("scrobble", test_scrobble),
    ("stars and ratings", test_stars_and_ratings),
    ("playlists", test_playlists),
    ("play queue", test_play_queue),
    ("lyrics", test_lyrics),
    # Last: it adds an album, which the counts checked above do not expect.
    ("cover art", test_cover_art),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="the encore binary to start on a temporary data directory")
    parser.add_argument("--only", help="comma-separated section names to run (after the setup)")
    args = parser.parse_args()
    # py-sonic opens its connections through urllib without a timeout: give every socket one.
    socket.setdefaulttimeout(TIMEOUT)
    for tool in ("ffmpeg", "ffprobe"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed")
    work = tempfile.mkdtemp(prefix="encore-subsonic-")
    server = Server(args.server)
    started = time.monotonic()
    try:
        wait_for_health(server.base)
        address = urllib.parse.urlsplit(server.base)
        ctx = Context(base=server.base, host=address.hostname, port=address.port, work=work)
        ready = False
        with section("setup through the REST API"):
            setup(ctx)
            ready = True
            log(f"setup done in {time.monotonic() - started:.1f} s: {len(ctx.songs)} tracks ready")
        check(ready, "the REST setup completed (the Subsonic sections need it)")
        wanted = {name.strip() for name in args.only.split(",")} if args.only else None
        if ready:
            for name, test in SECTIONS:
                if wanted is None or name in wanted:
                    with section(name):
                        test(ctx)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    log(f"total {time.monotonic() - started:.1f} s")
    return tally.summary("subsonic-clients")


if __name__ == "__main__":
    sys.exit(main())
