// A tiny in-browser test runner for the web app's pure modules (no Node, no third-party code).
//
// Test files import { test, assert } from "./runner.js" and register tests; this module, loaded by
// unit.html, imports each file listed in FILES (a file that fails to load is one failure, and the others
// still run), runs the tests one after the other (async tests are awaited, each with a deadline) and
// publishes window.unitResults = {passed, failed, failures: ["file › name: message", …]} once, at the end.

const FILES = ["./queue.test.js", "./gain.test.js", "./upload-state.test.js"];
const TEST_TIMEOUT_MS = 5000;

const registry = [];
let currentFile = "(no file)";

export function test(name, fn) {
  registry.push({ file: currentFile, name, fn });
}

class AssertionFailed extends Error {}

function show(value) {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Object.is(value, -0)) return "-0";
  try { return JSON.stringify(value) ?? String(value); } catch { return String(value); }
}

function deepEqual(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a), kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
}

export const assert = {
  ok(value, message = "expected a truthy value") {
    if (!value) throw new AssertionFailed(`${message} (got ${show(value)})`);
  },
  equal(actual, expected, message = "") {
    if (!Object.is(actual, expected)) {
      throw new AssertionFailed(`${message ? message + ": " : ""}expected ${show(expected)}, got ${show(actual)}`);
    }
  },
  deepEqual(actual, expected, message = "") {
    if (!deepEqual(actual, expected)) {
      throw new AssertionFailed(`${message ? message + ": " : ""}expected ${show(expected)}, got ${show(actual)}`);
    }
  },
  approx(actual, expected, tolerance = 1e-9, message = "") {
    if (typeof actual !== "number" || !(Math.abs(actual - expected) <= tolerance)) {
      throw new AssertionFailed(`${message ? message + ": " : ""}expected ${expected} ± ${tolerance}, got ${show(actual)}`);
    }
  },
  throws(fn, kind = Error, message = "") {
    let threw = null;
    try { fn(); } catch (error) { threw = error; }
    if (threw === null) throw new AssertionFailed(`${message ? message + ": " : ""}expected it to throw`);
    if (kind && !(threw instanceof kind)) {
      throw new AssertionFailed(`${message ? message + ": " : ""}expected a ${kind.name}, got ${threw && threw.name}: ${threw && threw.message}`);
    }
    return threw;
  },
  doesNotThrow(fn, message = "") {
    try { return fn(); } catch (error) {
      throw new AssertionFailed(`${message ? message + ": " : ""}threw ${error && error.name}: ${error && error.message}`);
    }
  },
};

function withDeadline(promise, ms) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

async function run() {
  const failures = [];
  let passed = 0;
  for (const file of FILES) {
    currentFile = file.replace("./", "");
    try {
      await import(file);
    } catch (error) {
      failures.push(`${currentFile}: failed to load: ${error && error.message}`);
    }
  }
  currentFile = "(late)";
  for (const { file, name, fn } of registry) {
    try {
      await withDeadline(Promise.resolve().then(fn), TEST_TIMEOUT_MS);
      passed += 1;
    } catch (error) {
      const kind = error instanceof AssertionFailed ? "" : `${error && error.name}: `;
      failures.push(`${file} › ${name}: ${kind}${error && error.message}`);
    }
  }
  const results = { passed, failed: failures.length, failures };
  const summary = document.getElementById("summary");
  const report = document.getElementById("report");
  if (summary) summary.textContent = `${passed} passed, ${failures.length} failed`;
  if (report) {
    report.textContent = registry.map((t) => `${t.file} › ${t.name}`).join("\n") +
      (failures.length ? "\n\nFAILURES\n" + failures.join("\n") : "");
  }
  window.unitResults = results;
}

// Not awaited at the top level: the test files import this module, so it must finish evaluating first.
run().catch((error) => {
  window.unitResults = { passed: 0, failed: 1, failures: [`runner: ${error && error.stack || error}`] };
});
