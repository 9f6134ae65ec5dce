// The play queue as pure data: items (objects with an `id`) and the index of the current one.
// No DOM, no audio, so it can be unit-tested on its own.

export class Queue {
  constructor(items = [], index = items.length ? 0 : -1) {
    this.items = [];
    this.index = -1;
    this.set(items, index);
  }

  set(items, index = 0) {
    this.items = [...items];
    this.index = this.items.length ? clamp(index, 0, this.items.length - 1) : -1;
    return this.current();
  }

  get length() { return this.items.length; }
  ids() { return this.items.map((item) => item.id); }
  current() { return this.index >= 0 ? this.items[this.index] : null; }
  hasNext() { return this.index + 1 < this.items.length; }
  hasPrevious() { return this.index > 0; }
  peekNext() { return this.hasNext() ? this.items[this.index + 1] : null; }

  next() {
    if (!this.hasNext()) return null;
    this.index += 1;
    return this.current();
  }

  previous() {
    if (!this.hasPrevious()) return null;
    this.index -= 1;
    return this.current();
  }

  jump(index) {
    if (index < 0 || index >= this.items.length) throw new RangeError(`No queue entry ${index}`);
    this.index = index;
    return this.current();
  }

  // Inserts at `at` (default: right after the current item, "play next").
  insert(item, at = this.index + 1) {
    const position = clamp(at, 0, this.items.length);
    this.items.splice(position, 0, item);
    if (this.index === -1) this.index = 0;
    else if (position <= this.index) this.index += 1;
    return position;
  }

  append(item) { return this.insert(item, this.items.length); }

  remove(index) {
    if (index < 0 || index >= this.items.length) throw new RangeError(`No queue entry ${index}`);
    const [removed] = this.items.splice(index, 1);
    if (!this.items.length) this.index = -1;
    else if (index < this.index) this.index -= 1;
    else if (index === this.index && this.index >= this.items.length) this.index = this.items.length - 1;
    return removed;
  }

  // Moves one item; the current item stays current wherever it ends up.
  move(from, to) {
    const n = this.items.length;
    if (from < 0 || from >= n || to < 0 || to >= n) throw new RangeError(`Cannot move ${from} to ${to}`);
    if (from === to) return;
    const current = this.current();
    const [item] = this.items.splice(from, 1);
    this.items.splice(to, 0, item);
    this.index = this.items.indexOf(current);
  }

  clear() { this.items = []; this.index = -1; }
}

function clamp(value, min, max) { return Math.min(max, Math.max(min, value)); }
