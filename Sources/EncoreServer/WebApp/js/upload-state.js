// The state machine of one upload. Every change goes through `transition`, so an impossible
// move (say, ready → uploading) is a bug that throws instead of a silently wrong badge.

export const STATES = Object.freeze(["queued", "uploading", "processing", "ready", "failed", "cancelled"]);

const ALLOWED = Object.freeze({
  queued: ["uploading", "cancelled"],
  uploading: ["processing", "failed", "cancelled"],
  processing: ["ready", "failed"],
  ready: [],
  failed: ["queued"],
  cancelled: ["queued"],
});

export function canTransition(from, to) {
  return (ALLOWED[from] ?? []).includes(to);
}

export function transition(from, to) {
  if (!STATES.includes(from)) throw new Error(`Unknown upload state "${from}"`);
  if (!canTransition(from, to)) throw new Error(`Invalid upload transition ${from} → ${to}`);
  return to;
}

export const canCancel = (state) => canTransition(state, "cancelled");
export const canRetry = (state) => canTransition(state, "queued");
export const isActive = (state) => state === "queued" || state === "uploading" || state === "processing";

// Object form for callers that keep the state alongside other data.
export class UploadState {
  constructor(state = "queued") {
    if (!STATES.includes(state)) throw new Error(`Unknown upload state "${state}"`);
    this.state = state;
  }
  to(next) { this.state = transition(this.state, next); return this.state; }
  cancel() { return this.to("cancelled"); }
  retry() { return this.to("queued"); }
}
