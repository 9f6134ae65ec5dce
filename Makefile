# Everyday commands; each is a script in scripts/ so CI and people run the same thing.
.PHONY: build test run format lint readme bench bench-edge bench-pipeline bench-search bench-database

build:
	swift build

test:
	scripts/test

run:
	scripts/run

format:
	swift format --in-place --recursive Sources Tests bench/HummingbirdReference Package.swift

lint:
	swift format lint --strict --recursive Sources Tests bench/HummingbirdReference Package.swift

readme:
	scripts/check-readme

# Benchmarks (release builds; not part of CI). Each prints a Markdown table.
# bench: requests/s and CPU per request against nginx (bench/requests.sh), then the listener simulation (bench/load.sh).
bench:
	bench/requests.sh
	bench/load.sh

# The listener simulation direct to Encore and through the nginx caching edge, cold and warmed.
bench-edge:
	bench/edge.sh

bench-pipeline:
	bench/pipeline.sh

bench-search:
	bench/search.sh

# The read path and search on SQLite and on PostgreSQL over the same catalog, and reads/s through HAProxy with one and two API instances.
bench-database:
	bench/database.sh
