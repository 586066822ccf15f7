/**
 * `eastwatch decode` as operators run it, the built CLI on files: what a damaged capture's summary says, a file
 * that is not a capture, and a capture far larger than the process's heap read in bounded memory. No broker.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CLI } from '../helpers';
import { IE, type FieldSpec, ipfixMessage, ipv4, set, templateRecord, u16, u32, u64, u8 } from '../ipfix-builder';
import { PcapWriter, TCP_FLAGS, writeRepeated } from '../pcap-writer';

const MS0 = Date.UTC(2025, 0, 6, 12);
const FIELDS: FieldSpec[] = [
  [IE.sourceIPv4Address, 4], [IE.destinationIPv4Address, 4], [IE.sourceTransportPort, 2], [IE.destinationTransportPort, 2],
  [IE.protocolIdentifier, 1], [IE.octetDeltaCount, 8], [IE.packetDeltaCount, 4], [IE.flowStartMilliseconds, 8], [IE.flowEndMilliseconds, 8],
];
const flowRecord = (src: string) => Buffer.concat([ipv4(src), ipv4('10.102.0.20'), u16(49152), u16(4791), u8(17), u64(9000), u32(6), u64(MS0 - 5000), u64(MS0)]);
const withTemplate = (seq: number, ...srcs: string[]) => ipfixMessage({ seq }, set(2, templateRecord(256, FIELDS)), set(256, ...srcs.map(flowRecord)));
const exporter = { src: '192.0.2.10', dst: '192.0.2.1', srcPort: 50000, dstPort: 4739 };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size of the child, sampled from /proc, in MiB. */
  peakRssMiB: number;
}

/** `node [nodeArgs] dist/cli/main.js decode FILE`, sampling the child's peak RSS while it runs. */
function decode(file: string, nodeArgs: string[] = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, 'decode', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let [stdout, stderr, peakKiB] = ['', '', 0];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const sample = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakKiB = Math.max(peakKiB, Number(hwm[1]));
      } catch { /* exited */ }
    }, 10);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      resolve({ code, stdout, stderr, peakRssMiB: peakKiB / 1024 });
    });
  });
}

describe('eastwatch decode', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'eastwatch-decode-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says in its summary what it passed over, why, and where the first of each starts', async () => {
    const w = new PcapWriter();
    const packets: [string, number][] = [];
    const udp = (what: string, payload: Buffer, ends = exporter) => packets.push([what, w.addUdp({ ...ends, timeMs: MS0 + packets.length, payloadLength: payload.length, payload })]);
    udp('ipfix, 2 flows', withTemplate(0, '10.101.0.10', '10.101.0.11'));
    packets.push(['tcp', w.addTcp({ ...exporter, dstPort: 443, timeMs: MS0 + 1, payloadLength: 100, flags: TCP_FLAGS.ACK })]);
    udp('dns', Buffer.alloc(40), { ...exporter, dstPort: 53 });
    const badLength = withTemplate(2, '10.101.0.12');
    badLength.writeUInt16BE(badLength.length + 1, 2);
    udp('ipfix, bad length', badLength);
    udp('ipfix, 1 flow', ipfixMessage({ seq: 2 }, set(256, flowRecord('10.101.0.13'))));
    udp('ipfix, cut off', withTemplate(3, '10.101.0.14'));
    const offsets = packets.map((_, i) => 24 + packets.slice(0, i).reduce((n, [, ipLength]) => n + 16 + 14 + ipLength, 0));
    const file = path.join(dir, 'damaged.pcap');
    const pcap = w.toBuffer();
    writeFileSync(file, pcap.subarray(0, pcap.length - 10));

    const run = await decode(file);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n').map((l) => JSON.parse(l).src_addr)).toEqual(['10.101.0.10', '10.101.0.11', '10.101.0.13']);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stderr)).toEqual({
      packets: 6,
      datagrams: 3,
      flows: 3,
      counters: 0,
      lost: 0,
      errors: { 'bad-length': { count: 1, firstOffset: offsets[3] } },
      skipped: {
        'not-udp': { count: 1, firstOffset: offsets[1] },
        'not-flow-protocol': { count: 1, firstOffset: offsets[2] },
        'captured-length-beyond-file': { count: 1, firstOffset: offsets[5] },
      },
    });
  });

  it('answers a file that is not a capture, or no file, with one line and exit code 2', async () => {
    const notes = path.join(dir, 'notes.txt');
    writeFileSync(notes, 'flows to check on Monday\n');
    expect(await decode(notes)).toMatchObject({ code: 2, stdout: '', stderr: `eastwatch: ${notes}: not a pcap or pcapng file: unknown magic 0x666c6f77\n` });
    const missing = path.join(dir, 'missing.pcap');
    expect(await decode(missing)).toMatchObject({ code: 2, stdout: '', stderr: `eastwatch: ${missing}: ENOENT: no such file or directory, open '${missing}'\n` });
  });

  it('streams a capture three times its heap in bounded memory', async () => {
    // One IPFIX datagram and one 60 kB datagram of something else, repeated to 200 MB.
    const w = new PcapWriter();
    const ipfix = withTemplate(0, '10.101.0.10');
    w.addUdp({ ...exporter, timeMs: MS0, payloadLength: ipfix.length, payload: ipfix });
    w.addUdp({ ...exporter, dstPort: 9000, timeMs: MS0 + 1, payloadLength: 60_000 });
    const file = path.join(dir, 'large.pcap');
    const times = writeRepeated(file, w.toBuffer(), 200 << 20);

    const run = await decode(file, ['--max-old-space-size=64']);
    expect(run.code).toBe(0);
    // The CLI alone takes about 90 MiB; reading the whole file took 280.
    expect(run.peakRssMiB).toBeGreaterThan(40);
    expect(run.peakRssMiB).toBeLessThan(150);
    expect(run.stdout.trim().split('\n')).toHaveLength(times);
    expect(JSON.parse(run.stderr)).toMatchObject({ packets: 2 * times, datagrams: times, flows: times, skipped: { 'not-flow-protocol': { count: times } } });
  });
});
