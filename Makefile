# Everyday commands; each is a script in scripts/ so CI and people run the same thing.
.PHONY: build test run format lint readme bench bench-pipeline bench-search

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
bench:
	bench/load.sh

bench-pipeline:
	bench/pipeline.sh

bench-search:
	bench/search.sh
