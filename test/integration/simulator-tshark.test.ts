/**
 * The simulator's IPFIX against the reference decoder: what the DPU emitters send over loopback, captured by
 * tshark, decodes with tshark and with `eastwatch decode` to the same records, which are the simulated flows,
 * times three days in the past (a backfill) included.
 */
import { ChildProcess, execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { Flow } from '../../core/flow';
import { mulberry32 } from '../../simulator/model/random';
import { ExporterAddresses } from '../../simulator/emit/emitter';
import { Emitters } from '../../simulator/emit/emitters';
import { IpfixEmitter } from '../../simulator/emit/ipfix';
import type { SimEvent } from '../../simulator/events';
import { runSimulation } from '../../simulator/run';
import { startCapture } from '../capture';
import { cli, testEnv, TestEnv, waitFor } from '../helpers';

const run = promisify(execFile);
const DAY = 86_400_000;
const NODES = Array.from({ length: 64 }, (_, i) => `gpu${String(i + 1).padStart(3, '0')}`);


interface Row {
  exporter: string; src: string; dst: string; sport: number; dport: number; proto: number; octets: number; packets: number;
  flags: number; start: number; end: number; dir: string;
}
const line = (r: Row) => `${r.exporter} ${r.src} ${r.dst} ${r.sport} ${r.dport} ${r.proto} ${r.octets} ${r.packets} ${r.flags} ${r.start} ${r.end} ${r.dir}`;

/** "Nov 24, 2025 15:59:58.500000000 UTC" to ms. */
const tsharkTime = (s: string) => Date.parse(s.replace(/(\.\d{3})\d*/, '$1'));

async function tsharkRows(capture: string, port: number): Promise<string[]> {
  const { stdout } = await run('tshark', ['-r', capture, '-d', `udp.port==${port},cflow`, '-T', 'json', '--no-duplicate-keys'], { maxBuffer: 256 << 20 });
  const rows: string[] = [];
  for (const pkt of JSON.parse(stdout) as { _source: { layers: { ip: Record<string, string>; cflow?: Record<string, unknown> } } }[]) {
    const { ip, cflow } = pkt._source.layers;
    if (!cflow) continue;
    for (const [setName, set] of Object.entries(cflow)) {
      if (!setName.startsWith('Set ')) continue;
      for (const [name, f] of Object.entries(set as Record<string, Record<string, string> & { 'cflow.timedelta_tree': Record<string, string> }>)) {
        if (!name.startsWith('Flow ')) continue;
        rows.push(line({
          exporter: ip['ip.src']!, src: f['cflow.srcaddr'] ?? f['cflow.srcaddrv6']!, dst: f['cflow.dstaddr'] ?? f['cflow.dstaddrv6']!,
          sport: Number(f['cflow.srcport']), dport: Number(f['cflow.dstport']), proto: Number(f['cflow.protocol']),
          octets: Number(f['cflow.octets']), packets: Number(f['cflow.packets']), flags: Number(f['cflow.tcpflags']),
          start: tsharkTime(f['cflow.timedelta_tree']['cflow.abstimestart']!), end: tsharkTime(f['cflow.timedelta_tree']['cflow.abstimeend']!),
          dir: f['cflow.direction'] === '1' ? 'egress' : 'ingress',
        }));
      }
    }
  }
  return rows.sort();
}

/** DPU flows of all 64 nodes: RoCE on the rails, some TCP with flags, some IPv6, each ending at its event. */
function traffic(from: number, to: number, count: number, seed: number): SimEvent[] {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  return Array.from({ length: count }, (_, i): SimEvent => {
    const time = from + Math.floor(((to - from) * i) / count);
    const a = int(64);
    const b = (a + 1 + int(63)) % 64;
    const packets = 1 + int(1_000_000);
    const tcp = i % 7 === 0;
    const v6 = i % 11 === 0;
    return {
      kind: 'flow', time, flow: {
        start: time - int(60_000), end: time, via: 'dpu', exporter: NODES[a],
        src: v6 ? `fd00:10:244:${a + 1}::17` : `10.200.${i % 8}.${a + 1}`, dst: v6 ? `fd00:10:244:${b + 1}::41` : `10.200.${i % 8}.${b + 1}`,
        srcPort: 49152 + int(16384), dstPort: tcp ? 22 : 4791, protocol: tcp ? 6 : 17, packets, bytes: packets * (64 + int(4032)),
        tcpFlags: tcp ? [0x02, 0x12, 0x1b, 0x18][int(4)]! : 0,
      },
    };
  });
}

describe('simulator IPFIX against tshark', () => {
  let t: TestEnv;
  let tshark: ChildProcess | undefined;
  afterAll(() => {
    tshark?.kill();
    t?.cleanup();
  });

  it('decodes the same with tshark and eastwatch decode, and is what was simulated', async () => {
    t = testEnv();
    const sink = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    let received = 0;
    sink.on('message', () => received++);
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    const port = sink.address().port;
    const capture = path.join(t.home, 'simulator.pcapng');
    tshark = await startCapture(capture, [port]);

    // Three days ago: an hour of backfill, then ten minutes "live" as fast as it goes.
    const start = Math.floor((Date.now() - 3 * DAY) / 1000) * 1000;
    const events = [...traffic(start - 3_600_000, start, 2000, 11), ...traffic(start, start + 600_000, 1000, 12)];
    const slice = (from: number, to: number) => events.filter((e) => e.time >= from && e.time < to);
    const addresses = new ExporterAddresses(NODES);
    const ipfix = new IpfixEmitter({ target: { host: '127.0.0.1', port }, addresses });
    const result = await runSimulation({ events: slice, start, duration: 600_000, backfill: 3_600_000, speed: Infinity, stepMs: 10_000, emitters: new Emitters({ flows: { dpu: ipfix } }) });
    await ipfix.close();
    expect(result).toMatchObject({ flows: 3000, backfillFlows: 2000 });
    await waitFor(() => (received === ipfix.stats.messages ? true : undefined), 10_000, () => `${received} of ${ipfix.stats.messages} datagrams arrived`);
    await new Promise((r) => setTimeout(r, 500));
    tshark.kill('SIGINT');
    await new Promise((r) => tshark!.once('exit', r));
    sink.close();

    const expected = events.map((e) => {
      const f = (e as Extract<SimEvent, { kind: 'flow' }>).flow;
      return line({
        exporter: addresses.dpu(f.exporter!), src: f.src, dst: f.dst, sport: f.srcPort, dport: f.dstPort, proto: f.protocol,
        octets: f.bytes, packets: f.packets, flags: f.tcpFlags, start: f.start, end: f.end, dir: 'egress',
      });
    }).sort();
    const reference = await tsharkRows(capture, port);
    expect(reference).toEqual(expected);
    const ours = (await cli(t, ['decode', capture])).trim().split('\n').map((l) => {
      const f = JSON.parse(l) as Flow;
      return line({
        exporter: f.exporter_address, src: f.src_addr, dst: f.dst_addr, sport: f.src_port, dport: f.dst_port, proto: f.protocol,
        octets: f.bytes!, packets: f.packets!, flags: f.tcp_flags, start: f.time_start, end: f.time_end, dir: f.direction,
      });
    }).sort();
    expect(ours).toEqual(reference);
  });
});
