// js/upload-state.js: the state machine of one upload.
// queued -> uploading -> processing -> ready | failed; cancel from queued/uploading;
// retry (back to queued) from failed/cancelled; every other move throws.
import { test, assert } from "./runner.js";
import { STATES, canTransition, transition, canCancel, canRetry, isActive, UploadState } from "/app/js/upload-state.js";

const REQUIRED = [
  ["queued", "uploading"], ["uploading", "processing"], ["processing", "ready"], ["processing", "failed"],
  ["queued", "cancelled"], ["uploading", "cancelled"], ["failed", "queued"], ["cancelled", "queued"],
];
// A failed PUT (network error, size refused) fails the upload before processing; the app allows it.
const TOLERATED = [["uploading", "failed"]];

const key = ([a, b]) => `${a}->${b}`;

test("the states are the spec's six, and the list cannot be changed", () => {
  assert.deepEqual([...STATES].sort(), ["cancelled", "failed", "processing", "queued", "ready", "uploading"]);
  assert.ok(Object.isFrozen(STATES));
});

test("the happy path queued -> uploading -> processing -> ready", () => {
  let s = "queued";
  for (const next of ["uploading", "processing", "ready"]) s = transition(s, next);
  assert.equal(s, "ready");
});

test("every transition of the spec is allowed", () => {
  for (const [from, to] of REQUIRED) {
    assert.ok(canTransition(from, to), `${from} -> ${to} allowed`);
    assert.equal(assert.doesNotThrow(() => transition(from, to), `${from} -> ${to}`), to);
  }
});

test("every other transition throws (the whole matrix, self-transitions included)", () => {
  const allowed = new Set([...REQUIRED, ...TOLERATED].map(key));
  for (const from of STATES) {
    for (const to of STATES) {
      if (allowed.has(key([from, to]))) continue;
      assert.equal(canTransition(from, to), false, `${from} -> ${to} refused`);
      assert.throws(() => transition(from, to), Error, `${from} -> ${to}`);
    }
  }
});

test("ready is final", () => {
  for (const to of STATES) assert.throws(() => transition("ready", to), Error, `ready -> ${to}`);
  assert.equal(canCancel("ready"), false);
  assert.equal(canRetry("ready"), false);
});

test("processing cannot be cancelled (the server is already on it)", () => {
  assert.equal(canCancel("processing"), false);
  assert.throws(() => transition("processing", "cancelled"));
});

test("unknown states are refused, from or to", () => {
  assert.throws(() => transition("paused", "queued"));
  assert.throws(() => transition("queued", "done"));
  assert.throws(() => transition(undefined, "queued"));
  assert.equal(canTransition("nope", "queued"), false);
  assert.equal(canTransition("queued", "nope"), false);
});

test("the error says which move was refused", () => {
  const error = assert.throws(() => transition("ready", "uploading"));
  assert.ok(/ready/.test(error.message) && /uploading/.test(error.message), `message names both: ${error.message}`);
});

test("canCancel and canRetry", () => {
  assert.deepEqual(STATES.filter(canCancel).sort(), ["queued", "uploading"]);
  assert.deepEqual(STATES.filter(canRetry).sort(), ["cancelled", "failed"]);
});

test("isActive: queued, uploading and processing are in flight", () => {
  assert.deepEqual(STATES.filter(isActive).sort(), ["processing", "queued", "uploading"]);
});

test("UploadState walks the machine and throws without changing on a bad move", () => {
  const u = new UploadState();
  assert.equal(u.state, "queued");
  assert.equal(u.to("uploading"), "uploading");
  assert.throws(() => u.to("ready"));
  assert.equal(u.state, "uploading", "a refused move leaves the state");
  assert.equal(u.cancel(), "cancelled");
  assert.equal(u.retry(), "queued");
  u.to("uploading"); u.to("processing"); u.to("failed");
  assert.equal(u.retry(), "queued");
  assert.throws(() => new UploadState("bogus"));
  const done = new UploadState("ready");
  assert.throws(() => done.cancel());
  assert.throws(() => done.retry());
  assert.equal(done.state, "ready");
});
