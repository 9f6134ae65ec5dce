// js/queue.js: the play queue as pure data (items with an `id`, the index of the current one).
import { test, assert } from "./runner.js";
import { Queue } from "/app/js/queue.js";

const t = (id) => ({ id });
const abc = () => [t("a"), t("b"), t("c")];

test("an empty queue has no current item and nowhere to go", () => {
  const q = new Queue();
  assert.equal(q.length, 0);
  assert.equal(q.index, -1);
  assert.equal(q.current(), null);
  assert.equal(q.next(), null);
  assert.equal(q.previous(), null);
  assert.equal(q.hasNext(), false);
  assert.equal(q.hasPrevious(), false);
  assert.equal(q.peekNext(), null);
  assert.deepEqual(q.ids(), []);
});

test("the constructor takes items and starts at the first", () => {
  const q = new Queue(abc());
  assert.equal(q.index, 0);
  assert.equal(q.current().id, "a");
  assert.deepEqual(q.ids(), ["a", "b", "c"]);
  assert.equal(new Queue(abc(), 2).current().id, "c");
});

test("set replaces the items, starts at the given index and clamps it", () => {
  const q = new Queue([t("x")]);
  assert.equal(q.set(abc()).id, "a");
  assert.deepEqual(q.ids(), ["a", "b", "c"]);
  q.set(abc(), 1);
  assert.equal(q.current().id, "b");
  q.set(abc(), 99);
  assert.equal(q.index, 2, "past the end clamps to the last");
  q.set(abc(), -5);
  assert.equal(q.index, 0, "before the start clamps to the first");
  assert.equal(q.set([]), null);
  assert.equal(q.index, -1);
});

test("set copies the array: changing the caller's array later does not change the queue", () => {
  const items = abc();
  const q = new Queue();
  q.set(items);
  items.push(t("d"));
  items[0] = t("z");
  assert.deepEqual(q.ids(), ["a", "b", "c"]);
});

test("next and previous walk the queue and stop at its ends", () => {
  const q = new Queue(abc());
  assert.equal(q.previous(), null, "nothing before the first");
  assert.equal(q.index, 0);
  assert.equal(q.peekNext().id, "b");
  assert.equal(q.next().id, "b");
  assert.equal(q.next().id, "c");
  assert.equal(q.hasNext(), false);
  assert.equal(q.next(), null, "nothing after the last");
  assert.equal(q.index, 2, "next at the end leaves the current item");
  assert.equal(q.current().id, "c");
  assert.equal(q.previous().id, "b");
  assert.equal(q.hasPrevious(), true);
});

test("jump goes to an index and refuses one that does not exist", () => {
  const q = new Queue(abc());
  assert.equal(q.jump(2).id, "c");
  assert.throws(() => q.jump(3), RangeError);
  assert.throws(() => q.jump(-1), RangeError);
  assert.equal(q.index, 2, "a refused jump leaves the queue as it was");
});

test("insert defaults to play next (right after the current item)", () => {
  const q = new Queue(abc(), 1);
  assert.equal(q.insert(t("n")), 2);
  assert.deepEqual(q.ids(), ["a", "b", "n", "c"]);
  assert.equal(q.current().id, "b", "the current item stays current");
  assert.equal(q.next().id, "n");
});

test("insert before the current item keeps the same item current", () => {
  const q = new Queue(abc(), 1);
  q.insert(t("n"), 0);
  assert.deepEqual(q.ids(), ["n", "a", "b", "c"]);
  assert.equal(q.index, 2);
  assert.equal(q.current().id, "b");
  q.insert(t("m"), 2);
  assert.deepEqual(q.ids(), ["n", "a", "m", "b", "c"]);
  assert.equal(q.current().id, "b", "inserting at the current index pushes the current item on");
});

test("insert into an empty queue makes the item current; positions are clamped", () => {
  const q = new Queue();
  q.insert(t("a"));
  assert.equal(q.current().id, "a");
  assert.equal(q.insert(t("z"), 99), 1, "past the end lands at the end");
  assert.deepEqual(q.ids(), ["a", "z"]);
  assert.equal(q.insert(t("y"), -4), 0);
  assert.deepEqual(q.ids(), ["y", "a", "z"]);
  assert.equal(q.current().id, "a");
});

test("append adds at the end without changing the current item", () => {
  const q = new Queue(abc());
  assert.equal(q.append(t("d")), 3);
  assert.deepEqual(q.ids(), ["a", "b", "c", "d"]);
  assert.equal(q.current().id, "a");
  const empty = new Queue();
  empty.append(t("x"));
  assert.equal(empty.current().id, "x");
});

test("remove before the current item keeps the same item current", () => {
  const q = new Queue(abc(), 2);
  assert.equal(q.remove(0).id, "a");
  assert.deepEqual(q.ids(), ["b", "c"]);
  assert.equal(q.current().id, "c");
});

test("remove after the current item changes nothing else", () => {
  const q = new Queue(abc(), 0);
  q.remove(2);
  assert.deepEqual(q.ids(), ["a", "b"]);
  assert.equal(q.current().id, "a");
});

test("removing the current item makes the following one current, or the new last", () => {
  const q = new Queue(abc(), 1);
  q.remove(1);
  assert.equal(q.current().id, "c", "the item after it takes its place");
  q.remove(1);
  assert.equal(q.current().id, "a", "removing the last item falls back to the new last");
  q.remove(0);
  assert.equal(q.current(), null);
  assert.equal(q.index, -1);
  assert.equal(q.length, 0);
});

test("remove refuses an index that does not exist", () => {
  const q = new Queue(abc());
  assert.throws(() => q.remove(3), RangeError);
  assert.throws(() => q.remove(-1), RangeError);
  assert.deepEqual(q.ids(), ["a", "b", "c"]);
});

test("move reorders and the current item stays current wherever it goes", () => {
  const q = new Queue(abc(), 0);
  q.move(0, 2);
  assert.deepEqual(q.ids(), ["b", "c", "a"]);
  assert.equal(q.current().id, "a");
  assert.equal(q.index, 2);
  q.move(0, 1);
  assert.deepEqual(q.ids(), ["c", "b", "a"]);
  assert.equal(q.current().id, "a");
  q.move(2, 0);
  assert.deepEqual(q.ids(), ["a", "c", "b"]);
  assert.equal(q.index, 0);
});

test("move to the same place is a no-op; out of range throws and changes nothing", () => {
  const q = new Queue(abc(), 1);
  q.move(1, 1);
  assert.deepEqual(q.ids(), ["a", "b", "c"]);
  assert.throws(() => q.move(0, 3), RangeError);
  assert.throws(() => q.move(-1, 0), RangeError);
  assert.throws(() => q.move(3, 0), RangeError);
  assert.deepEqual(q.ids(), ["a", "b", "c"]);
  assert.equal(q.current().id, "b");
});

test("the same track may be queued twice and each copy is its own entry", () => {
  const a = t("a");
  const q = new Queue([a, t("b"), a]);
  assert.deepEqual(q.ids(), ["a", "b", "a"]);
  q.jump(2);
  q.remove(0);
  assert.deepEqual(q.ids(), ["b", "a"]);
  assert.equal(q.index, 1, "the current copy is still the current one");
});

test("clear empties the queue", () => {
  const q = new Queue(abc(), 2);
  q.clear();
  assert.equal(q.length, 0);
  assert.equal(q.current(), null);
  assert.equal(q.index, -1);
});
