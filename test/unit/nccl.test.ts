/**
 * A job's expected collective graph from its NCCL_DEBUG=INFO log: ranks placed on hosts by the lines each host
 * prints, network connections only (P2P and SHM stay inside a node); and topology-mismatch judging by that graph
 * from the job's first second, with no learning.
 */
import { parseNcclLog } from '../../allocations/nccl';
import { allocationRows, AllocationEventSchema } from '../../allocations/event';
import { TopologyMismatch } from '../../detectors/topology-mismatch';
import { judge, MIN, roce, SEC, T0 } from '../detector-fixtures';
import { NCCL_LOG as LOG } from '../nccl-fixtures';

describe('NCCL log import', () => {
  it("places ranks on hosts and keeps each host's network peers", () => {
    expect(parseNcclLog(LOG)).toEqual({
      nodes: ['gpu001', 'gpu002', 'gpu003', 'gpu004'],
      peers: { gpu001: ['gpu002'], gpu002: ['gpu003'], gpu003: ['gpu004'], gpu004: ['gpu001'] },
      connections: 4, unplaced: 0,
    });
  });

  it('says when a log places no rank, and counts connections it cannot place', () => {
    expect(() => parseNcclLog('training step 1\nloss 2.3\n')).toThrow(/no NCCL INFO line places a rank on a host/);
    const partial = parseNcclLog('gpu001:1:1 [0] NCCL INFO Channel 00/0 : 1[1] -> 9[0] [send] via NET/IB/0');
    expect(partial).toMatchObject({ peers: {}, connections: 1, unplaced: 1 });
  });

  it('travels in the allocation event to the node rows', () => {
    const g = parseNcclLog(LOG);
    const e = AllocationEventSchema.parse({ job_id: '77', nodes: g.nodes, peers: g.peers, start: T0, pattern: 'ring', source: 'nccl' });
    expect(allocationRows(e, T0).map((r) => [r.node, r.peers])).toEqual([['gpu001', ['gpu002']], ['gpu002', ['gpu003']], ['gpu003', ['gpu004']], ['gpu004', ['gpu001']]]);
  });
});

describe('topology-mismatch with the graph from the allocation', () => {
  const g = parseNcclLog(LOG);
  const rows = allocationRows(AllocationEventSchema.parse({ job_id: '77', nodes: g.nodes, peers: g.peers, start: T0, pattern: 'ring' }), T0);

  it('judges from the first second: no learning window to hide in', () => {
    const topo = () => new TopologyMismatch({ learnMs: 2 * MIN, minFlows: 2 });
    const ring = [1, 2, 3, 4].map((n) => roce(n, 1 + (n % 4), T0 + 5 * SEC));
    const acks = [1, 2, 3, 4].map((n) => roce(1 + (n % 4), n, T0 + 6 * SEC));
    expect(judge([topo()], rows, [...ring, ...acks])).toEqual([]);
    const out = judge([topo()], rows, [...ring, roce(1, 3, T0 + 10 * SEC), roce(1, 3, T0 + 20 * SEC)]);
    expect(out.map((f) => [f.key, f.details?.expected_from, f.details?.expected_peers])).toEqual([[['77', 'gpu001', 'edge'], 'allocation', ['gpu002']]]);
  });
});
