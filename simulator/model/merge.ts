/**
 * Merges the model's sources, each already in time order, into one stream in time order with a binary heap of
 * one pending event per source. Equal times come out in source order, so the merged order is as deterministic
 * as the sources.
 */
import type { SimEvent } from '../events';

interface Head {
  event: SimEvent;
  source: number;
  rest: Iterator<SimEvent>;
}

const before = (a: Head, b: Head) => a.event.time < b.event.time || (a.event.time === b.event.time && a.source < b.source);

export function* mergeByTime(sources: readonly Iterable<SimEvent>[]): Generator<SimEvent> {
  const heap: Head[] = [];
  const push = (h: Head) => {
    let i = heap.push(h) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const siftDown = () => {
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  sources.forEach((s, source) => {
    const rest = s[Symbol.iterator]();
    const first = rest.next();
    if (!first.done) push({ event: first.value, source, rest });
  });
  while (heap.length > 0) {
    const top = heap[0]!;
    yield top.event;
    const next = top.rest.next();
    if (next.done) {
      const last = heap.pop()!;
      if (heap.length === 0) break;
      heap[0] = last;
    } else {
      top.event = next.value;
    }
    siftDown();
  }
}
