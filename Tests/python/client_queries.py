#!/usr/bin/env python3
"""Query strings as real client libraries send them, against a live server.

    python3 client_queries.py --server .build/debug/encore

`requests` (params=) and `urllib.parse.urlencode` both write spaces as `+`; the server must read them as
spaces. A plus the client means is `%2B`, and must stay a plus. Ends with `client-queries: N passed,
M failed` and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import sys
import urllib.parse
import urllib.request
import json
import uuid

import requests

from api_contract import Server, wait_for_health
from tally import Tally

tally = Tally()
check = tally.check


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="the encore binary to start on a temporary data directory")
    args = parser.parse_args()
    server = Server(args.server)
    try:
        base = server.base
        wait_for_health(base)
        api = base + "/api/v1"
        session = requests.Session()
        registered = session.post(api + "/auth/register", json={
            "email": f"client-{uuid.uuid4().hex[:8]}@example.com", "password": "a long password",
            "displayName": "Client", "role": "artist"}, timeout=30)
        registered.raise_for_status()
        session.headers["Authorization"] = "Bearer " + registered.json()["token"]
        artist = session.post(api + "/artists", json={"name": "Queen"}, timeout=30).json()
        session.post(api + "/albums", json={"artistId": artist["id"], "title": "A Night at the Opera"}, timeout=30).raise_for_status()
        session.post(api + "/artists", json={"name": "Ac+Dc Tribute"}, timeout=30).raise_for_status()

        # requests: params are form-encoded, spaces as '+'.
        response = session.get(api + "/search", params={"q": "night at the opera", "types": "album,artist"}, timeout=30)
        check("q=night+at+the+opera" in response.request.url, f"requests encodes spaces as +: {response.request.url}")
        check(response.status_code == 200, f"search through requests answers 200, not {response.status_code}")
        body = response.json()
        check(body.get("query") == "night at the opera", f"the server read the spaces: {body.get('query')!r}")
        check([album["title"] for album in body.get("albums", [])][:1] == ["A Night at the Opera"], f"the album is found: {body.get('albums')}")

        # urllib: the standard library's form encoding, through the standard library's client.
        query = urllib.parse.urlencode({"q": "queen", "limit": 5, "types": "artist"})
        check(query == "q=queen&limit=5&types=artist", f"urlencode wrote {query}")
        request = urllib.request.Request(api + "/search?" + urllib.parse.urlencode({"q": "queen opera"}),
                                         headers={"Authorization": session.headers["Authorization"]})
        with urllib.request.urlopen(request, timeout=30) as reply:
            decoded = json.load(reply)
        check(decoded.get("query") == "queen opera", f"urllib's + read as a space: {decoded.get('query')!r}")

        # A plus the client means is %2B, and stays a plus.
        response = session.get(api + "/search", params={"q": "ac+dc"}, timeout=30)
        check("q=ac%2Bdc" in response.request.url, f"requests escapes a real plus: {response.request.url}")
        check(response.json().get("query") == "ac+dc", f"%2B stays a plus: {response.json().get('query')!r}")

        # Numbers and ids in the query go through the same decoding.
        response = session.get(api + "/artists", params={"ownerId": artist["ownerId"].upper(), "limit": 1, "offset": 1}, timeout=30)
        check(response.status_code == 200 and response.json().get("offset") == 1 and response.json().get("limit") == 1,
              f"limit/offset/ownerId through requests: {response.status_code} {response.text[:200]}")
        response = session.get(api + "/search", params={"q": "x", "limit": "99999999999999999999"}, timeout=30)
        check(response.status_code == 400 and response.json()["error"]["code"] == "invalid_limit", f"huge limit: {response.text[:200]}")
    finally:
        server.stop()
    return tally.summary("client-queries")


if __name__ == "__main__":
    sys.exit(main())
