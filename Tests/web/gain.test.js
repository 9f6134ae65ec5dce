// js/gain.js: loudness normalisation arithmetic (dB <-> linear, clamping, the gain for a track, volume curve).
import { test, assert } from "./runner.js";
import { dbToLinear, linearToDb, clampDb, trackGain, sliderToVolume, MIN_GAIN_DB, MAX_GAIN_DB } from "/app/js/gain.js";

test("dbToLinear: 0 dB is unity, +20 dB is 10x, -6 dB is about half", () => {
  assert.equal(dbToLinear(0), 1);
  assert.approx(dbToLinear(20), 10, 1e-12);
  assert.approx(dbToLinear(-20), 0.1, 1e-12);
  assert.approx(dbToLinear(-6), 0.501187, 1e-6);
  assert.approx(dbToLinear(6.0206), 2, 1e-4);
});

test("linearToDb inverts dbToLinear", () => {
  assert.equal(linearToDb(1), 0);
  assert.approx(linearToDb(10), 20, 1e-12);
  for (const db of [-23.5, -14, -1, 0, 3.2, 11.9]) {
    assert.approx(linearToDb(dbToLinear(db)), db, 1e-9, `round trip of ${db} dB`);
  }
});

test("linearToDb of silence, negative or non-numbers is -Infinity", () => {
  assert.equal(linearToDb(0), -Infinity);
  assert.equal(linearToDb(-1), -Infinity);
  assert.equal(linearToDb(NaN), -Infinity);
  assert.equal(linearToDb(undefined), -Infinity);
});

test("the clamp range is sane: a cut of at most 24 dB, a boost of at most 12 dB", () => {
  assert.equal(MIN_GAIN_DB, -24);
  assert.equal(MAX_GAIN_DB, 12);
  assert.ok(MIN_GAIN_DB < 0 && MAX_GAIN_DB > 0);
});

test("clampDb keeps values in range and pins the others to the bounds", () => {
  assert.equal(clampDb(-7.5), -7.5);
  assert.equal(clampDb(0), 0);
  assert.equal(clampDb(40), MAX_GAIN_DB);
  assert.equal(clampDb(-80), MIN_GAIN_DB);
  assert.equal(clampDb(MAX_GAIN_DB), MAX_GAIN_DB);
  assert.equal(clampDb(5, -3, 3), 3, "custom bounds");
  assert.equal(clampDb(-5, -3, 3), -3, "custom bounds");
});

test("clampDb of a non-finite value is 0 dB (unity), never a blast", () => {
  assert.equal(clampDb(NaN), 0);
  assert.equal(clampDb(Infinity), 0);
  assert.equal(clampDb(-Infinity), 0);
  assert.equal(clampDb(undefined), 0);
});

test("trackGain turns the server's trackGainDb into a linear factor", () => {
  assert.approx(trackGain({ trackGainDb: -6 }), dbToLinear(-6), 1e-12);
  assert.approx(trackGain({ trackGainDb: 3.5, integratedLufs: -17.5 }), dbToLinear(3.5), 1e-12);
  assert.equal(trackGain({ trackGainDb: 0 }), 1);
});

test("trackGain clamps extreme gains", () => {
  assert.approx(trackGain({ trackGainDb: 30 }), dbToLinear(MAX_GAIN_DB), 1e-12);
  assert.approx(trackGain({ trackGainDb: -60 }), dbToLinear(MIN_GAIN_DB), 1e-12);
});

test("trackGain is unity when loudness is unknown or normalisation is off", () => {
  assert.equal(trackGain(null), 1);
  assert.equal(trackGain(undefined), 1);
  assert.equal(trackGain({}), 1);
  assert.equal(trackGain({ trackGainDb: null }), 1);
  assert.equal(trackGain({ trackGainDb: "-6" }), 1, "a string is not a gain");
  assert.equal(trackGain({ trackGainDb: -6 }, { enabled: false }), 1);
  assert.equal(trackGain({ trackGainDb: NaN }), 1, "NaN clamps to 0 dB");
});

test("sliderToVolume maps 0..1 on a square curve and clamps", () => {
  assert.equal(sliderToVolume(0), 0);
  assert.equal(sliderToVolume(1), 1);
  assert.approx(sliderToVolume(0.5), 0.25, 1e-12);
  assert.approx(sliderToVolume("0.5"), 0.25, 1e-12, "range inputs give strings");
  assert.equal(sliderToVolume(-1), 0);
  assert.equal(sliderToVolume(7), 1);
  assert.equal(sliderToVolume(NaN), 0);
  assert.equal(sliderToVolume(undefined), 0);
});

test("sliderToVolume is monotonic", () => {
  let last = -1;
  for (let i = 0; i <= 100; i += 1) {
    const v = sliderToVolume(i / 100);
    assert.ok(v >= last, `volume at ${i}% not below the one before`);
    last = v;
  }
});
