"""The Tantivy side of bench/search.sh: indexes the search benchmark's catalog with Tantivy (the Rust
engine, through its official Python bindings, PyPI `tantivy`) and times the same query mix with the same
tolerance as Encore's search, in-process.

Usage:
  tantivy_search.py index CATALOG.jsonl INDEX_DIR [--heap BYTES]
  tantivy_search.py query INDEX_DIR QUERIES.txt [--passes 3] [--warmup 50] [--limit 10]
Each prints one JSON line.

Index: one document per track with the text fields title, artist and album (indexed with term
frequencies, not stored, no positions: the queries below use neither), analysed by Tantivy's `default`
chain (simple tokenizer: split on anything not alphanumeric; remove tokens over 40 bytes; lowercase)
plus its ASCII folding filter (é → e, ß → ss, ø → o, æ → ae, ł → l, þ → th …), registered as `folded`.
ONE indexing thread (`index.writer(heap, num_threads=1)`); each catalog line goes to the writer as it is
(`writer.add_json(line)`: parsed in Rust on the calling thread, the fields outside the schema ignored),
so Python does no per-track work beyond reading the line. The rate is tracks over the wall time from
opening the file to the end of `commit()`; the merges the commit may start are then waited for
(`wait_merging_threads()`, reported apart) so that queries run on a settled index.

Query: the query text goes through the same analyser (`analyzer.analyze(q)`; tokens as Tantivy indexed
them). Token i becomes a clause that must match (Occur.Must): a Should over title, artist and album of
`Query.fuzzy_term_query(schema, field, token, distance=d, transposition_cost_one=True, prefix=p)` with
d = 0 below 4 letters, 1 from 4, 2 from 8 (Encore's edit budget) and p = True for the last token when it
has 2 letters or more (`--prefix-from`; Encore's as-you-type rule: a 1-letter last word is matched
whole). Top `limit` by Tantivy's score (`searcher.search(query, limit, count=False)`: no hit count, which
Encore does not compute either; fuzzy clauses score a constant, so the score counts matching clauses).
Each query is timed with time.perf_counter() around analysis, query construction and search; a warm-up
of `warmup` queries first, then `passes` passes over the file; percentiles as `encore search bench`
computes them (sorted samples, index min(n - 1, int(n * p))).
"""
import argparse
import json
import os
import time

import tantivy

from search_report import percentile as nearest_rank

FIELDS = ("title", "artist", "album")
TOKENIZER = "folded"


def analyzer():
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build())


def schema():
    builder = tantivy.SchemaBuilder()
    for field in FIELDS:
        builder.add_text_field(field, stored=False, tokenizer_name=TOKENIZER, index_option="freq")
    return builder.build()


def open_index(path, create):
    index = tantivy.Index(schema(), path=path, reuse=False) if create else tantivy.Index.open(path)
    index.register_tokenizer(TOKENIZER, analyzer())  # tokenizers are not stored with the index
    return index


def directory_mib(path):
    total = 0
    for folder, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(folder, name)) for name in files)
    return total / (1 << 20)


def index_command(args):
    os.makedirs(args.index_dir, exist_ok=True)
    index = open_index(args.index_dir, create=True)
    start = time.perf_counter()
    cpu_start = time.process_time()
    writer = index.writer(args.heap, num_threads=1)
    tracks = 0
    with open(args.catalog, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                writer.add_json(line)
                tracks += 1
    added = time.perf_counter()
    writer.commit()
    committed = time.perf_counter()
    writer.wait_merging_threads()
    merged = time.perf_counter()
    cpu = time.process_time() - cpu_start
    index.reload()
    searcher = index.searcher()
    wall = committed - start
    print(json.dumps({
        "engine": "tantivy", "tantivy_version": tantivy_version(), "tracks": tracks, "indexed": searcher.num_docs,
        "wall_s": round(wall, 3), "rate": round(tracks / wall, 1), "add_s": round(added - start, 3),
        "commit_s": round(committed - added, 3), "merge_wait_s": round(merged - committed, 3), "cpu_s": round(cpu, 2),
        "segments": searcher.num_segments, "size_mib": round(directory_mib(args.index_dir), 1),
        "heap_bytes": args.heap, "indexing_threads": 1,
    }))


def build_query(schema_, analyse, text, prefix_from=2):
    """The Tantivy query for one line of the query file, or None when it has no token."""
    tokens = analyse(text)
    if not tokens:
        return None
    last = len(tokens) - 1
    clauses = []
    for position, token in enumerate(tokens):
        letters = len(token)
        distance = 2 if letters >= 8 else 1 if letters >= 4 else 0
        prefix = position == last and letters >= prefix_from
        fields = [(tantivy.Occur.Should,
                   tantivy.Query.fuzzy_term_query(schema_, field, token, distance=distance, transposition_cost_one=True, prefix=prefix))
                  for field in FIELDS]
        clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query(fields)))
    return tantivy.Query.boolean_query(clauses)


def query_command(args):
    index = open_index(args.index_dir, create=False)
    index.reload()
    searcher = index.searcher()
    schema_ = index.schema
    analyse = analyzer().analyze
    with open(args.queries, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]

    def run(text):
        query = build_query(schema_, analyse, text, args.prefix_from)
        return searcher.search(query, args.limit, count=False).hits if query is not None else []

    for text in lines[: args.warmup]:
        run(text)
    samples = []
    empty = no_tokens = 0
    for pass_number in range(args.passes):
        for text in lines:
            start = time.perf_counter()
            hits = run(text)
            samples.append((time.perf_counter() - start) * 1000)
            if pass_number == 0:
                empty += not hits
                no_tokens += not analyse(text)
    samples.sort()

    def percentile(p):
        return round(nearest_rank(samples, p), 3)

    print(json.dumps({
        "engine": "tantivy", "queries": len(samples), "distinct_queries": len(lines), "passes": args.passes, "warmup": args.warmup,
        "limit": args.limit, "prefix_from": args.prefix_from, "p50_ms": percentile(0.5), "p95_ms": percentile(0.95), "p99_ms": percentile(0.99),
        "max_ms": round(samples[-1], 3), "mean_ms": round(sum(samples) / len(samples), 3),
        "queries_without_hits": empty, "queries_without_tokens": no_tokens, "segments": searcher.num_segments,
    }))


def tantivy_version():
    try:
        from importlib.metadata import version
        return version("tantivy")
    except Exception:  # noqa: BLE001 - the version is only reported
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    index = commands.add_parser("index")
    index.add_argument("catalog")
    index.add_argument("index_dir")
    index.add_argument("--heap", type=int, default=128_000_000, help="the writer's memory budget in bytes (the bindings' default)")
    query = commands.add_parser("query")
    query.add_argument("index_dir")
    query.add_argument("queries")
    query.add_argument("--passes", type=int, default=3)
    query.add_argument("--warmup", type=int, default=50)
    query.add_argument("--limit", type=int, default=10)
    query.add_argument("--prefix-from", type=int, default=2, help="the last token is a prefix from this many letters (Encore: 2)")
    args = parser.parse_args()
    index_command(args) if args.command == "index" else query_command(args)


if __name__ == "__main__":
    main()
