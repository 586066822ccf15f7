/**
 * sFlow v5 from leaf switches ('switch' flows): the agent of switch `exporter` sends from its own loopback
 * address (ExporterAddresses, also the agent address in the datagram) and samples 1 in N packets per port.
 *
 * A flow enters the switch on the port its source hashes to and leaves on its destination's. Each port keeps
 * the agent's countdown to its next sample, drawn geometrically with mean N from a PRNG seeded per switch:
 * every packet is sampled with probability 1/N independently, so a flow of P packets yields Binomial(P, 1/N)
 * samples, and the sample pool counts exactly the packets the port saw up to each sample (no drops). A sample
 * is the flow's Ethernet/IPv4-or-IPv6/TCP-or-UDP header with frame length bytes/packets. Every
 * `counterIntervalMs` each port the switch has carried traffic on reports its interface counters: all packets
 * and octets, unsampled. Datagrams are batched like IPFIX messages: full, or `flushMs` after their first sample.
 */
import { mulberry32 } from '../model/random';
import {
  counterSample, datagram, ethernet, flowSample, ifCounters, ipv4Packet, ipv6Packet, MAX_HEADER_BYTES, rawHeader, tcp, udp,
} from '../../ingest/sflow/encoder';
import type { SimFlow } from '../events';
import { type Batch, BatchingUdpEmitter } from './batching';
import { type ExporterAddresses, fnv1a } from './emitter';
import type { UdpTarget } from './transport';

export interface SflowEmitterOptions {
  target: UdpTarget;
  addresses: ExporterAddresses;
  /** 1-in-N packet sampling, for every switch or per switch name; default 1024 (a front-end leaf). */
  samplingRate?: number | ((agent: string) => number);
  /** Seeds the sampling; default 1. */
  seed?: number;
  /** Port speed in bits/s, as the counters report it; default 400G. */
  ifSpeed?: bigint;
  /** Simulated ms between counter samples; default 30 s. */
  counterIntervalMs?: number;
  /** Largest datagram in bytes; default 1400. */
  maxDatagram?: number;
  /** Simulated ms a datagram waits for more samples; default 1000. */
  flushMs?: number;
}

interface Port {
  index: number;
  /** Packets until the next sample, this one included. */
  skip: number;
  /** Packets seen: the sample pool, and the input counters. */
  inPackets: number;
  inOctets: number;
  outPackets: number;
  outOctets: number;
  samples: number;
  counterSamples: number;
}

interface Agent extends Batch {
  rate: number;
  random: () => number;
  ports: Map<number, Port>;
  /** Datagrams sent so far. */
  seq: number;
  /** When the agent started: uptime counts from its first flow. */
  bootAt: number;
  nextCounters: number;
  samples: Buffer[];
  size: number;
}

/** Datagram header with an IPv4 agent address: version, address type and address, sub-agent, sequence, uptime, count. */
const DATAGRAM_HEADER = 28;
/** Ethernet header and FCS around the IP packet. */
const ETHERNET_OVERHEAD = 18;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const IF_ETHERNET = 6;
const FULL_DUPLEX = 1;
const ADMIN_AND_OPER_UP = 3;

/** Front-panel ports of a simulated switch. */
const PORTS = 64;

/** The switch port (ifIndex) `address` is reached on: a flow from it enters there, a flow to it leaves there. */
export const switchPort = (address: string): number => 1 + (fnv1a(address) % PORTS);

/**
 * The sampled header of a packet of `f`: a frame of bytes/packets, its IP and transport lengths as on the wire,
 * built only as far as an agent keeps it (the payload beyond MAX_HEADER_BYTES would be cut anyway).
 */
function sampledFrame(f: SimFlow): { header: Buffer; frameLength: number } {
  const v6 = f.src.includes(':');
  const ipHeader = v6 ? 40 : 20;
  const l4Header = f.protocol === 6 ? 20 : f.protocol === 17 ? 8 : 0;
  const frameLength = Math.max(1, Math.round(f.bytes / f.packets));
  const ipLength = Math.max(ipHeader + l4Header, frameLength - ETHERNET_OVERHEAD);
  const payload = Math.min(ipLength - ipHeader - l4Header, MAX_HEADER_BYTES);
  let l4: Buffer;
  if (f.protocol === 6) l4 = tcp(f.srcPort, f.dstPort, f.tcpFlags, payload);
  else if (f.protocol === 17) l4 = udp(f.srcPort, f.dstPort, Buffer.alloc(payload));
  else {
    l4 = Buffer.alloc(payload);
    // ICMP type and code, carried in dstPort the NetFlow way
    if ((f.protocol === 1 || f.protocol === 58) && payload >= 2) l4.writeUInt16BE(f.dstPort & 0xffff);
  }
  const ip = v6 ? ipv6Packet(f.src, f.dst, f.protocol, l4) : ipv4Packet(f.src, f.dst, f.protocol, l4);
  // The lengths of the whole packet, not of the part built (capped at what the 16-bit fields hold).
  const wire = (n: number) => Math.min(n, 0xffff);
  if (v6) ip.writeUInt16BE(wire(ipLength - ipHeader), 4);
  else ip.writeUInt16BE(wire(ipLength), 2);
  if (f.protocol === 17) ip.writeUInt16BE(wire(ipLength - ipHeader), ipHeader + 4);
  return { header: ethernet(v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, ip), frameLength };
}

export class SflowEmitter extends BatchingUdpEmitter<Agent> {
  readonly name = 'sflow';
  private readonly counterIntervalMs: number;

  constructor(private readonly opts: SflowEmitterOptions) {
    super(opts.target, opts.maxDatagram ?? 1400, opts.flushMs ?? 1000);
    this.counterIntervalMs = opts.counterIntervalMs ?? 30_000;
  }

  flow(f: SimFlow, now: number): void {
    if (f.exporter === undefined) throw new Error(`switch flow ${f.src} -> ${f.dst} names no exporter`);
    const a = this.batches.get(f.exporter) ?? this.agent(f.exporter, now);
    this.due(a, now);
    const input = this.port(a, f.src);
    const output = this.port(a, f.dst);
    input.inOctets += f.bytes;
    output.outOctets += f.bytes;
    output.outPackets += f.packets;
    let left = f.packets;
    let record: Buffer | undefined;
    while (input.skip <= left) {
      left -= input.skip;
      input.inPackets += input.skip;
      input.skip = this.skip(a);
      if (!record) {
        const { header, frameLength } = sampledFrame(f);
        record = rawHeader(header, { frameLength });
      }
      this.add(a, flowSample({
        seq: ++input.samples, sourceId: input.index, rate: a.rate, pool: input.inPackets >>> 0, drops: 0,
        input: input.index, output: output.index, records: [record],
      }), now);
      this.stats.records++;
    }
    input.skip -= left;
    input.inPackets += left;
  }

  protected pending(a: Agent): boolean {
    return a.samples.length > 0;
  }

  private agent(name: string, now: number): Agent {
    const rate = typeof this.opts.samplingRate === 'function' ? this.opts.samplingRate(name) : this.opts.samplingRate ?? 1024;
    if (!Number.isInteger(rate) || rate < 1) throw new RangeError(`sampling rate of ${name}: ${rate}`);
    const a: Agent = {
      address: this.opts.addresses.switch(name), rate, random: mulberry32(fnv1a(`${this.opts.seed ?? 1}/${name}`)), ports: new Map(),
      seq: 0, bootAt: now, nextCounters: now + this.counterIntervalMs, samples: [], size: DATAGRAM_HEADER, first: 0,
    };
    this.batches.set(name, a);
    return a;
  }

  private port(a: Agent, address: string): Port {
    const index = switchPort(address);
    let p = a.ports.get(index);
    if (!p) {
      p = { index, skip: this.skip(a), inPackets: 0, inOctets: 0, outPackets: 0, outOctets: 0, samples: 0, counterSamples: 0 };
      a.ports.set(index, p);
    }
    return p;
  }

  /** Packets to the next sample: geometric with mean N, so each packet is sampled with probability 1/N. */
  private skip(a: Agent): number {
    if (a.rate === 1) return 1;
    return 1 + Math.floor(Math.log(1 - a.random()) / Math.log(1 - 1 / a.rate));
  }

  /** Sends what is due at `now`: a batch past its interval, then the counters if their time came. */
  protected override due(a: Agent, now: number): void {
    super.due(a, now);
    if (now < a.nextCounters) return;
    a.nextCounters += this.counterIntervalMs * (Math.floor((now - a.nextCounters) / this.counterIntervalMs) + 1);
    const speed = this.opts.ifSpeed ?? 400_000_000_000n;
    for (const p of [...a.ports.values()].sort((x, y) => x.index - y.index)) {
      this.add(a, counterSample(++p.counterSamples, p.index, [ifCounters({
        index: p.index, type: IF_ETHERNET, speed, direction: FULL_DUPLEX, status: ADMIN_AND_OPER_UP,
        inOctets: BigInt(p.inOctets), inUcast: p.inPackets >>> 0, inMulti: 0, inBroad: 0, inDiscards: 0, inErrors: 0,
        outOctets: BigInt(p.outOctets), outUcast: p.outPackets >>> 0, outMulti: 0, outBroad: 0, outDiscards: 0, outErrors: 0,
      })]), now);
    }
  }

  private add(a: Agent, sample: Buffer, now: number): void {
    if (a.size + sample.length > this.maxDatagram && a.samples.length > 0) this.send(a, now);
    if (a.samples.length === 0) a.first = now;
    a.samples.push(sample);
    a.size += sample.length;
  }

  protected send(a: Agent, at: number): void {
    this.datagram(a, datagram({ agent: a.address, subAgent: 0, seq: ++a.seq, uptime: (at - a.bootAt) >>> 0 }, a.samples));
    a.samples = [];
    a.size = DATAGRAM_HEADER;
  }
}
