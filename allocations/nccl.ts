/**
 * A job's expected collective graph from NCCL's own log (NCCL_DEBUG=INFO, gathered from every rank): which node
 * sends to which over the network. NCCL prints each connection it sets up, on the host of the rank that prints
 * it:
 *
 *   gpu002:4121:4190 [0] NCCL INFO Channel 00/0 : 7[7] -> 8[0] [send] via NET/IB/0(1)/GDRDMA
 *   gpu003:5160:5230 [0] NCCL INFO Channel 00/0 : 7[7] -> 8[0] [receive] via NET/IB/0(1)/GDRDMA
 *   gpu001:3010:3010 [0] NCCL INFO comm 0x55d8 rank 0 nranks 16 cudaDev 0 nvmlDev 0 busId 1b000 commId 0x9d - Init COMPLETE
 *
 * A [send] line is printed by the sender's host, a [receive] line by the receiver's, an init line by the rank's:
 * together they place every rank on a host. Only connections "via NET" cross the network (P2P, SHM and NVLS stay
 * inside a node). Host names are the ones NCCL prints (gethostname), which must be the inventory's node names.
 * Nothing here is hand-written that a library does: no npm package reads NCCL's log.
 */
import { UserError } from '../core/error-text';

export class NcclLogError extends UserError {}

const PREFIX = /^([A-Za-z0-9][A-Za-z0-9._-]*):\d+:\d+ \[\d+\] NCCL INFO (.*)$/;
const CONNECTION = /^Channel \d+\/\d+ : (\d+)\[\d+\] -> (\d+)\[\d+\] \[(send|receive)\] via (\S+)/;
const INIT = /\brank (\d+) nranks (\d+)\b/;

export interface NcclGraph {
  /** The hosts of the job's ranks, sorted. */
  nodes: string[];
  /** Each host's network peers (the hosts its ranks send to), sorted. */
  peers: Record<string, string[]>;
  /** Network connections read (their [send] lines), and those whose ranks could not be placed on a host. */
  connections: number;
  unplaced: number;
}

export function parseNcclLog(text: string): NcclGraph {
  const host = new Map<number, string>();
  const sends: [number, number][] = [];
  let connections = 0;
  for (const line of text.split('\n')) {
    const m = PREFIX.exec(line.trim());
    if (!m) continue;
    const [, h, msg] = m as unknown as [string, string, string];
    const c = CONNECTION.exec(msg);
    if (c) {
      const [from, to] = [Number(c[1]), Number(c[2])];
      host.set(c[3] === 'send' ? from : to, h);
      // Each network connection is printed twice, by its sender and its receiver: counted once, from the sender.
      if (c[3] !== 'send' || !c[4]!.startsWith('NET/')) continue;
      connections++;
      sends.push([from, to]);
      continue;
    }
    const init = INIT.exec(msg);
    if (init) host.set(Number(init[1]), h);
  }
  if (host.size === 0) throw new NcclLogError('no NCCL INFO line places a rank on a host: is this the log of a job run with NCCL_DEBUG=INFO?');
  const peers = new Map<string, Set<string>>();
  let unplaced = 0;
  for (const [from, to] of sends) {
    const [a, b] = [host.get(from), host.get(to)];
    if (a === undefined || b === undefined) {
      unplaced++;
      continue;
    }
    if (a === b) continue;
    if (!peers.has(a)) peers.set(a, new Set());
    peers.get(a)!.add(b);
  }
  return {
    nodes: [...new Set(host.values())].sort(),
    peers: Object.fromEntries([...peers].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()])),
    connections,
    unplaced,
  };
}
