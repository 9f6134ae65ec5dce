"""The pass/fail count the client suites end with: `check` records one expectation, `summary` prints the
`NAME: N passed, M failed` line and gives the exit status."""

from __future__ import annotations


class Tally:
    def __init__(self) -> None:
        self.passed = 0
        self.failures: list[str] = []

    def check(self, condition: object, what: str) -> bool:
        if condition:
            self.passed += 1
        else:
            self.failures.append(what)
            print(f"FAILED: {what}", flush=True)
        return bool(condition)

    def summary(self, name: str) -> int:
        print(f"{name}: {self.passed} passed, {len(self.failures)} failed", flush=True)
        return 1 if self.failures else 0
