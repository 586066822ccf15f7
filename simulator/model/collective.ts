/**
 * Who sends to whom in a job's collectives, between nodes (ranks), as NCCL lays it out. Traffic inside a node
 * (NVLink: tensor parallelism, the intra-node legs of rings and trees) makes no network flow and is not here.
 *
 * - ring: rank n sends to n + 1 (mod size), over two channels (queue pairs) per rail.
 * - tree: NCCL's double binary tree: two complementary binary trees (the second mirrored, or shifted for an odd
 *   size), reduce going up and broadcast down, so each edge carries both directions and a node has at most six
 *   network peers (a parent and two children per tree).
 * - all-to-all: every ordered pair inside each expert-parallel group of consecutive ranks.
 * - pipeline-parallel: the stages as a sparse chain: rank p of stage s and rank p of stage s + 1, activations
 *   forward and gradients back.
 * - data-parallel: an allreduce, for which NCCL picks ring or tree by message size: the union of both.
 * - tensor-parallel: inside a node: nothing.
 *
 * Each edge is rail-aligned by the caller (PXN: GPU i's traffic leaves on NIC i to NIC i of the peer).
 */
import type { JobPattern } from '../scenario';

export interface Edge {
  from: number;
  to: number;
  /** Queue pairs per rail. */
  qps: number;
}

/** The parent of `rank` in NCCL's binary tree over n ranks (ncclGetBtree), -1 for the root. */
function btreeParent(n: number, rank: number): number {
  if (rank === 0) return -1;
  let bit = 1;
  while (bit < n && (bit & rank) === 0) bit <<= 1;
  const up = (rank ^ bit) | (bit << 1);
  return up >= n ? rank ^ bit : up;
}

/** Undirected edges of NCCL's double binary tree over n ranks (ncclGetDtree). */
export function doubleBinaryTree(n: number): [number, number][] {
  const edges = new Map<string, [number, number]>();
  const add = (a: number, b: number) => {
    if (a < 0 || b < 0 || a === b) return;
    const [x, y] = a < b ? [a, b] : [b, a];
    edges.set(`${x}:${y}`, [x, y]);
  };
  // The second tree: mirrored for an even size, shifted by one for an odd size.
  const [into, back] = n % 2 === 0 ? [(x: number) => n - 1 - x, (x: number) => n - 1 - x] : [(x: number) => (x - 1 + n) % n, (x: number) => (x + 1) % n];
  for (let r = 0; r < n; r++) {
    add(r, btreeParent(n, r));
    const up2 = btreeParent(n, into(r));
    if (up2 >= 0) add(r, back(up2));
  }
  return [...edges.values()];
}

export function collectiveEdges(pattern: JobPattern, n: number, opts: { expertGroup: number; stages: number }): Edge[] {
  const ring = (): Edge[] => (n < 2 ? [] : Array.from({ length: n }, (_, r) => ({ from: r, to: (r + 1) % n, qps: 2 })));
  const tree = (): Edge[] => doubleBinaryTree(n).flatMap(([a, b]) => [{ from: a, to: b, qps: 1 }, { from: b, to: a, qps: 1 }]);
  switch (pattern) {
    case 'ring':
      return ring();
    case 'tree':
      return tree();
    case 'data-parallel': {
      const r = ring();
      const inRing = new Set(r.map((e) => `${e.from}:${e.to}`));
      return [...r, ...tree().filter((t) => !inRing.has(`${t.from}:${t.to}`))];
    }
    case 'all-to-all': {
      const out: Edge[] = [];
      const g = Math.max(1, opts.expertGroup);
      for (let base = 0; base < n; base += g) {
        for (let a = base; a < Math.min(n, base + g); a++) {
          for (let b = base; b < Math.min(n, base + g); b++) if (a !== b) out.push({ from: a, to: b, qps: 1 });
        }
      }
      return out;
    }
    case 'pipeline-parallel': {
      const size = Math.floor(n / opts.stages);
      const out: Edge[] = [];
      for (let s = 0; s + 1 < opts.stages; s++) {
        for (let p = 0; p < size; p++) {
          out.push({ from: s * size + p, to: (s + 1) * size + p, qps: 1 }, { from: (s + 1) * size + p, to: s * size + p, qps: 1 });
        }
      }
      return out;
    }
    case 'tensor-parallel':
      return [];
  }
}
