// Loudness normalisation arithmetic. The server computes trackGainDb (to -14 LUFS, true peak
// kept under -1 dBTP); we only turn it into a safe linear factor for a GainNode.

export const MIN_GAIN_DB = -24;
export const MAX_GAIN_DB = 12;

export function dbToLinear(db) { return Math.pow(10, db / 20); }

export function linearToDb(linear) {
  if (!(linear > 0)) return -Infinity;
  return 20 * Math.log10(linear);
}

export function clampDb(db, min = MIN_GAIN_DB, max = MAX_GAIN_DB) {
  if (!Number.isFinite(db)) return 0;
  return Math.min(max, Math.max(min, db));
}

// Linear gain for a track's loudness object; unknown loudness plays at unity.
export function trackGain(loudness, { enabled = true } = {}) {
  if (!enabled || !loudness || typeof loudness.trackGainDb !== "number") return 1;
  return dbToLinear(clampDb(loudness.trackGainDb));
}

// Volume sliders feel linear to ears when mapped on a curve; x^2 is the usual cheap one.
export function sliderToVolume(value) {
  const v = Math.min(1, Math.max(0, Number(value) || 0));
  return v * v;
}
