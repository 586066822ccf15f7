/**
 * The collectors against real peers: softflowd (a real IPFIX / NetFlow v9 exporter) reads a generated capture
 * and exports it over UDP to a running eastwatch; the flows in ClickHouse must match softflowd's own counts
 * exactly. tshark captures the same export, and for every record the fields both decode must be equal.
 */
import { ChildProcess, execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Flow } from '../../core/flow';
import { syntheticTraffic } from '../pcap-writer';
import { startCapture } from '../capture';
import { cli, killChildren, metricValue, query, spawnCli, testEnv, TestEnv, waitFor } from '../helpers';

const run = promisify(execFile);

interface SoftflowdCounts {
  records: number;
  octets: number;
  packets: number;
}

/** Runs softflowd over a capture (-a: flow times from the capture) and reads its own export statistics. */
async function softflowd(capture: string, port: number, version: 9 | 10, dir: string, transport: 'udp' | 'tcp' = 'udp'): Promise<SoftflowdCounts> {
  const { stdout, stderr } = await run('softflowd', ['-r', capture, '-n', `127.0.0.1:${port}`, '-v', String(version), '-P', transport, '-a', '-D', '-p', path.join(dir, `softflowd-${version}.pid`)], { timeout: 60_000, maxBuffer: 64 << 20 });
  const log = stdout + stderr;
  const exported = /Flows exported: \d+ \((\d+) records\) in \d+ packets \(0 failures\)/.exec(log);
  if (!exported) throw new Error(`softflowd did not report its export:\n${log.slice(-2000)}`);
  const perProtocol = [...log.matchAll(/^\s+\w+ \(\d+\):\s+(\d+)\s+(\d+)\s/gm)];
  return {
    records: Number(exported[1]),
    octets: perProtocol.reduce((s, m) => s + Number(m[1]), 0),
    packets: perProtocol.reduce((s, m) => s + Number(m[2]), 0),
  };
}


/** The fields tshark and eastwatch both decode, as one comparable line per record. */
type Row = string;
const row = (r: { kind: string; src: string; dst: string; sport: number; dport: number; proto: number; octets: number; packets: number; flags: number; durationMs: number; dir: string }): Row =>
  `${r.kind} ${r.src} ${r.dst} ${r.sport} ${r.dport} ${r.proto} ${r.octets} ${r.packets} ${r.flags} ${r.durationMs} ${r.dir}`;

async function tsharkRows(capture: string, ports: { ipfix: number; netflow9: number }): Promise<Row[]> {
  const { stdout } = await run('tshark', ['-r', capture, '-d', `udp.port==${ports.ipfix},cflow`, '-d', `udp.port==${ports.netflow9},cflow`, '-T', 'json', '--no-duplicate-keys'], { maxBuffer: 256 << 20 });
  const rows: Row[] = [];
  for (const pkt of JSON.parse(stdout) as { _source: { layers: { cflow?: Record<string, unknown> } } }[]) {
    const cflow = pkt._source.layers.cflow;
    if (!cflow) continue;
    const kind = cflow['cflow.version'] === '10' ? 'ipfix' : 'netflow9';
    for (const [setName, set] of Object.entries(cflow)) {
      if (!setName.startsWith('Set ') && !setName.startsWith('FlowSet ')) continue;
      for (const [name, f] of Object.entries(set as Record<string, Record<string, string>>)) {
        if (!name.startsWith('Flow ') || !f['cflow.octets']) continue;
        rows.push(row({
          kind,
          src: f['cflow.srcaddr'] ?? f['cflow.srcaddrv6']!,
          dst: f['cflow.dstaddr'] ?? f['cflow.dstaddrv6']!,
          sport: Number(f['cflow.srcport']),
          dport: Number(f['cflow.dstport']),
          proto: Number(f['cflow.protocol']),
          octets: Number(f['cflow.octets']),
          packets: Number(f['cflow.packets']),
          flags: Number(f['cflow.tcpflags']),
          durationMs: Math.round(Number(f['cflow.timedelta']) * 1000),
          dir: f['cflow.direction'] === '0' ? 'ingress' : 'egress',
        }));
      }
    }
  }
  return rows.sort();
}

describe('collectors against softflowd and tshark', () => {
  let t: TestEnv;
  let tshark: ChildProcess | undefined;
  afterAll(() => {
    killChildren();
    tshark?.kill();
    t?.cleanup();
  });

  it('store exactly what softflowd exported over IPFIX (UDP and TCP) and NetFlow v9, and decode what tshark decodes', async () => {
    t = testEnv({ EASTWATCH_COLLECTORS: 'ipfix,ipfix-tcp,netflow9', EASTWATCH_COLLECTOR_HOST: '127.0.0.1', EASTWATCH_IPFIX_PORT: '0', EASTWATCH_NETFLOW9_PORT: '0' });
    const traffic = syntheticTraffic({ conversations: 300, seed: 5 });
    const capture = path.join(t.home, 'traffic.pcap');
    writeFileSync(capture, traffic.pcap);

    const app = spawnCli(t, ['start', '--roles', 'collectors,writer,http']);
    const httpPort = await app.httpPort();
    const ports = await waitFor(() => {
      const port = (p: string) => Number(new RegExp(`"protocol":"${p}","transport":"udp","host":"127.0.0.1","port":(\\d+)`).exec(app.output())?.[1]);
      const ipfix = port('ipfix');
      const netflow9 = port('netflow9');
      return ipfix && netflow9 ? { ipfix, netflow9 } : undefined;
    }, 30_000, () => `collectors did not report their ports:\n${app.output().slice(-2000)}`);

    const exportCapture = path.join(t.home, 'export.pcapng');
    tshark = await startCapture(exportCapture, [ports.ipfix, ports.netflow9]);

    const ipfix = await softflowd(capture, ports.ipfix, 10, t.home);
    const netflow9 = await softflowd(capture, ports.netflow9, 9, t.home);
    // IPFIX over TCP (same port number as UDP, as IANA assigns) from another capture, so its totals differ.
    const tcpTraffic = syntheticTraffic({ conversations: 120, seed: 6 });
    const tcpCapture = path.join(t.home, 'traffic-tcp.pcap');
    writeFileSync(tcpCapture, tcpTraffic.pcap);
    const ipfixTcp = await softflowd(tcpCapture, ports.ipfix, 10, t.home, 'tcp');
    expect(ipfixTcp).toEqual({ records: tcpTraffic.expected.flows.length, octets: tcpTraffic.expected.bytes, packets: tcpTraffic.expected.packets });
    // softflowd saw the whole capture: one record per direction of each conversation.
    const whole = { records: traffic.expected.flows.length, octets: traffic.expected.bytes, packets: traffic.expected.packets };
    expect(ipfix).toEqual(whole);
    expect(netflow9).toEqual(whole);

    const stored = () => metricValue(httpPort, 'eastwatch_records_out_total{stage="writer"}');
    await waitFor(async () => ((await stored()) >= ipfix.records + ipfixTcp.records + netflow9.records ? true : undefined), 60_000,
      () => `writer stored too few flows:\n${app.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 500)); // a last datagram in flight would show as a surplus below
    tshark.kill('SIGINT');
    await new Promise((r) => tshark!.once('exit', r));
    app.proc.kill('SIGTERM');
    expect(await app.exited).toEqual({ code: 0, signal: null });

    const byKind = await query<{ source_kind: string; records: string; octets: string; packets: string; errors: string }>(t,
      'SELECT source_kind, count() AS records, sum(bytes) AS octets, sum(packets) AS packets FROM eastwatch.flows GROUP BY source_kind ORDER BY source_kind');
    expect(byKind.map((r) => [r.source_kind, Number(r.records), Number(r.octets), Number(r.packets)])).toEqual([
      ['ipfix', ipfix.records + ipfixTcp.records, ipfix.octets + ipfixTcp.octets, ipfix.packets + ipfixTcp.packets],
      ['netflow9', netflow9.records, netflow9.octets, netflow9.packets],
    ]);
    // Times come from the capture (softflowd -a), not from the clock.
    const [times] = await query<{ first: string; last: string }>(t, 'SELECT toUnixTimestamp64Milli(min(time_start)) AS first, toUnixTimestamp64Milli(max(time_end)) AS last FROM eastwatch.flows');
    const captureStart = Date.UTC(2025, 0, 6, 12);
    expect(Number(times!.first)).toBeGreaterThanOrEqual(captureStart);
    expect(Number(times!.last)).toBeLessThan(captureStart + 10_000);

    // The reference decoder and eastwatch decode the same export into the same records.
    const reference = await tsharkRows(exportCapture, ports);
    expect(reference).toHaveLength(ipfix.records + netflow9.records);
    const ours = (await cli(t, ['decode', exportCapture])).trim().split('\n').map((l) => {
      const f = JSON.parse(l) as Flow;
      return row({
        kind: f.source_kind, src: f.src_addr, dst: f.dst_addr, sport: f.src_port, dport: f.dst_port, proto: f.protocol,
        octets: f.bytes!, packets: f.packets!, flags: f.tcp_flags, durationMs: f.time_end - f.time_start, dir: f.direction,
      });
    }).sort();
    expect(ours).toEqual(reference);
  });
});
