"""Generates a realistic catalog for the search benchmark, and a fixed query mix.

Usage: make_catalog.py TRACKS OUT.jsonl QUERIES.txt [SEED]

Artists : albums : tracks = 1 : 2.5 : 10. Names come from varied word lists with diacritics and
punctuation (AC/DC-like glued words, apostrophes, ampersands); plays follow a Zipf-like law. The query
mix draws from the catalog: a quarter exact names, a quarter prefixes (as typed), a quarter with one typo,
a quarter multi-word title + artist in either order.
"""
import json
import random
import sys

WORDS = """love night heart fire dream light rain shadow river stone golden silver black white blue red wild sweet
lonely broken electric midnight summer winter city road home star moon sun ocean thunder paper glass velvet
neon crystal silent secret lost young old last first forever never always dancing running falling flying
burning crying singing waiting holding killing hunting chasing breaking shining whisper echo ghost angel devil
king queen prince empire kingdom garden desert island mountain valley forest storm wind snow fever poison
honey sugar candy diamond money gold blood bones soul spirit mind body dance song rhythm blues soul funk
jazz rock metal disco radio video machine robot android satellite rocket planet galaxy universe""".split()
ACCENTED = """café señorita élan naïve fiancée déjà rosé über mädchen smörgåsbord fjäll ærø piñata jalapeño
crème brûlée façade garçon mañana niño corazón canción música ñandú şarkı łódź kraków dvořák""".split()
SURNAMES = """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez
wilson anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis
robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall rivera
campbell mitchell carter roberts müller schmidt schneider fischer weber meyer wagner becker schulz hoffmann
dupont durand lefèvre moreau laurent simon michel garcía fernández gonzález rodríguez lópez martínez sánchez
pérez gómez martín jiménez ruiz hernández díaz moreno álvarez muñoz romero alonso gutiérrez navarro torres
domínguez vázquez ramos gil ramírez serrano blanco suárez molina morales ortega delgado castro ortiz rubio
marín sanz núñez iglesias medina garrido santos castillo cortés lozano guerrero cano prieto méndez calvo
cruz gallego vidal león herrera márquez peña cabrera flores campos vega fuentes carrasco diez caballero
reyes nieto aguilar pascual santana herrero lorenzo hidalgo montero ibáñez giménez ferrer durán santiago
benítez mora vicente vargas arias carmona crespo román pastor soto sáez velasco moya soler parra esteban
bravo gallardo rojas björk sigurðsson jónsdóttir øster åberg kowalski nowak wiśniewski dąbrowski lewandowski""".split()
FIRST = """john paul george ringo mary anna elena sofia lucas mateo léa chloé noé zoë andré rené josé maría
jürgen björn søren åsa ólafur þór ingrid astrid mikael janne emma olivia ava mia amelia harper evelyn liam noah
oliver elijah james william benjamin lucas henry alexander kenji yuki hiro mei lin chen wei""".split()
BAND_PATTERNS = ["the {w}s", "{w} {w}", "{W}/{W}", "{w} & the {w}s", "{w} n' {w}s", "{w}-{n}", "{f} {s}", "{f} {s} band",
                 "{a} {w}", "dj {w}", "{w} {a}", "mc {f}", "{s} & {s}", "{w} of {w}"]


def word(rng):
    return rng.choice(WORDS)


def name(rng, pattern):
    out = pattern
    for key, make in (("{w}", lambda: word(rng)), ("{W}", lambda: word(rng)[:2].upper()), ("{n}", lambda: str(rng.randint(2, 999))),
                      ("{f}", lambda: rng.choice(FIRST)), ("{s}", lambda: rng.choice(SURNAMES)), ("{a}", lambda: rng.choice(ACCENTED))):
        while key in out:
            out = out.replace(key, make(), 1)
    return " ".join(part.capitalize() if part.islower() else part for part in out.split(" "))


def title(rng, words=(1, 4)):
    count = rng.randint(*words)
    parts = [rng.choice(ACCENTED) if rng.random() < 0.08 else word(rng) for _ in range(count)]
    text = " ".join(parts).capitalize()
    if rng.random() < 0.05:
        text += " (Remastered)"
    if rng.random() < 0.05:
        text = text.replace(" ", "'s ", 1)
    return text


def typo(rng, text):
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not candidates:
        return None
    i = rng.choice(candidates)
    w = list(words[i])
    j = rng.randrange(1, len(w) - 1)
    w[j], w[j + 1] = w[j + 1], w[j]
    words[i] = "".join(w)
    return " ".join(words)


def main():
    tracks, out, queries_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 42)
    artists_n = max(1, tracks // 10)
    albums_n = max(1, tracks * 25 // 100)
    artists, seen = [], set()
    while len(artists) < artists_n:
        candidate = name(rng, rng.choice(BAND_PATTERNS))
        key = candidate.lower()
        if key not in seen:
            seen.add(key)
            artists.append(candidate)
    albums = [(rng.randrange(artists_n), title(rng, (1, 3)), rng.randint(1960, 2026), rng.choice(["rock", "pop", "jazz", "electronic", "hip hop", "folk", "metal", "soul"])) for _ in range(albums_n)]
    samples = []
    with open(out, "w", encoding="utf-8") as f:
        for i in range(tracks):
            album_index = i % albums_n if i < albums_n else rng.randrange(albums_n)
            artist_index, album_title, year, genre = albums[album_index]
            track_title = title(rng)
            plays = int(1_000_000 / (1 + rng.paretovariate(1.1) * 50)) if rng.random() < 0.5 else 0
            record = {"artist": artists[artist_index], "album": album_title, "title": track_title, "durationMs": rng.randint(90_000, 420_000),
                      "genre": genre, "year": year, "plays": plays}
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            if rng.random() < 0.002:
                samples.append(record)
    queries = []
    for record in samples:
        kind = len(queries) % 4
        if kind == 0:
            queries.append(rng.choice([record["artist"], record["title"], record["album"]]))
        elif kind == 1:
            text = record["artist"]
            queries.append(text[: max(2, len(text) * 2 // 3)])
        elif kind == 2:
            queries.append(typo(rng, record["title"]) or typo(rng, record["artist"]) or record["title"])
        else:
            pair = [record["title"], record["artist"]]
            rng.shuffle(pair)
            queries.append(" ".join(pair))
    with open(queries_path, "w", encoding="utf-8") as f:
        f.write("\n".join(q for q in queries if q.strip()) + "\n")


if __name__ == "__main__":
    main()
