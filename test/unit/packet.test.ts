import { isIP } from 'node:net';
import { HEADER_ETHERNET, HEADER_IPV4, HEADER_IPV6, ipv4ToString, ipv6ToString, parsePacketHeader } from '../../ingest/packet';
import { ipv6 as v6, u16 } from '../ipfix-builder';
import { ethernet, ipv4Packet, ipv6Packet, tcp, udp, vxlan } from '../sflow-builder';

// Hand-built packets, byte by byte (../sflow-builder), and the IPv6 extension headers only these tests need.

/** An IPv6 hop-by-hop/routing/destination options header of (units + 1) * 8 bytes. */
const ext = (next: number, units: number) => Buffer.concat([Buffer.from([next, units]), Buffer.alloc(units * 8 + 6)]);
const frag6 = (next: number, offset: number, more: boolean) => Buffer.concat([Buffer.from([next, 0]), u16((offset << 3) | (more ? 1 : 0)), Buffer.alloc(4)]);
const SYN = 0x02, ACK = 0x10, PSH = 0x08, NS = 0x100;

describe('parsePacketHeader', () => {
  it('reads Ethernet + IPv4 + TCP: addresses, ports, the 9 flag bits and the IP length', () => {
    const frame = ethernet(0x0800, ipv4Packet('10.101.0.10', '10.101.0.11', 6, tcp(43512, 4791, NS | PSH | ACK, Buffer.alloc(100))));
    expect(parsePacketHeader(frame, HEADER_ETHERNET)).toEqual({
      ipVersion: 4, src: '10.101.0.10', dst: '10.101.0.11', protocol: 6, srcPort: 43512, dstPort: 4791,
      tcpFlags: 0x118, vlan: 0, vni: 0, ipTotalLength: 140,
    });
  });

  it('skips IPv4 options and reads ports only from the first fragment', () => {
    const options = Buffer.from([0x94, 0x04, 0, 0, 1, 1, 1, 0]); // router alert + NOPs + EOL: IHL 7
    const h = parsePacketHeader(ethernet(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, udp(5353, 53), { options })), HEADER_ETHERNET)!;
    expect([h.srcPort, h.dstPort, h.ipTotalLength]).toEqual([5353, 53, 36]);
    const first = parsePacketHeader(ipv4Packet('10.0.0.1', '10.0.0.2', 6, tcp(1000, 2000, SYN), { frag: 0x2000 }), HEADER_IPV4)!;
    expect([first.srcPort, first.dstPort, first.tcpFlags]).toEqual([1000, 2000, SYN]);
    const later = parsePacketHeader(ipv4Packet('10.0.0.1', '10.0.0.2', 6, tcp(1000, 2000, SYN), { frag: 0x2000 | 185 }), HEADER_IPV4)!;
    expect(later).toMatchObject({ src: '10.0.0.1', protocol: 6, srcPort: 0, dstPort: 0, tcpFlags: 0 });
  });

  it('reads IPv6 + UDP through hop-by-hop, routing and destination options headers', () => {
    const payload = Buffer.concat([ext(43, 0), ext(60, 1), ext(17, 0), udp(4791, 4791, Buffer.alloc(12))]);
    const h = parsePacketHeader(ethernet(0x86dd, ipv6Packet('fd00:101::a', 'fd00:101::b', 0, payload)), HEADER_ETHERNET)!;
    expect(h).toEqual({
      ipVersion: 6, src: 'fd00:101::a', dst: 'fd00:101::b', protocol: 17, srcPort: 4791, dstPort: 4791,
      tcpFlags: 0, vlan: 0, vni: 0, ipTotalLength: 40 + 8 + 16 + 8 + 20,
    });
  });

  it('reports the upper protocol of IPv6 fragments, with ports on the first only', () => {
    const first = parsePacketHeader(ipv6Packet('2001:db8::1', '2001:db8::2', 44, Buffer.concat([frag6(6, 0, true), tcp(22, 50000, ACK)])), HEADER_IPV6)!;
    expect([first.protocol, first.srcPort, first.dstPort, first.tcpFlags]).toEqual([6, 22, 50000, ACK]);
    const later = parsePacketHeader(ipv6Packet('2001:db8::1', '2001:db8::2', 44, Buffer.concat([frag6(6, 100, false), tcp(22, 50000, ACK)])), HEADER_IPV6)!;
    expect([later.protocol, later.srcPort, later.dstPort]).toEqual([6, 0, 0]);
  });

  it('returns the outermost VLAN of 802.1Q and 802.1ad (QinQ) frames', () => {
    const ip = ipv4Packet('10.1.0.1', '10.1.0.2', 6, tcp(1, 2, SYN));
    expect(parsePacketHeader(ethernet(0x0800, ip, { vlan: 0x2000 | 101 }), HEADER_ETHERNET)!.vlan).toBe(101); // PCP bits masked
    const qinq = parsePacketHeader(ethernet(0x0800, ip, { tags: [[0x88a8, 300], [0x8100, 42]] }), HEADER_ETHERNET)!;
    expect([qinq.vlan, qinq.src, qinq.dstPort]).toEqual([300, '10.1.0.1', 2]);
    const deep = ethernet(0x0800, ip, { tags: [[0x8100, 1], [0x8100, 2], [0x8100, 3], [0x8100, 4], [0x8100, 5]] });
    expect(parsePacketHeader(deep, HEADER_ETHERNET)).toBeUndefined(); // more tags than any fabric uses
  });

  it('decapsulates VXLAN: the inner 5-tuple, the VNI, the outer VLAN and IP length', () => {
    const inner = ethernet(0x0800, ipv4Packet('172.16.5.1', '172.16.5.2', 6, tcp(33000, 443, SYN | ACK)), { vlan: 999 });
    const outer = ethernet(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, udp(51234, 4789, vxlan(0xabcdef, inner))), { vlan: 20 });
    expect(parsePacketHeader(outer, HEADER_ETHERNET)).toEqual({
      ipVersion: 4, src: '172.16.5.1', dst: '172.16.5.2', protocol: 6, srcPort: 33000, dstPort: 443,
      tcpFlags: SYN | ACK, vlan: 20, vni: 0xabcdef, ipTotalLength: 20 + 8 + 8 + inner.length,
    });
    // IPv6 underlay and overlay: a 128-byte sample ends 4 bytes into the inner TCP header: ports, no flags.
    const inner6 = ethernet(0x86dd, ipv6Packet('fd00::1', 'fd00::2', 6, tcp(1234, 5678, PSH)));
    const outer6 = ethernet(0x86dd, ipv6Packet('2001:db8::a', '2001:db8::b', 17, udp(40000, 4789, vxlan(7, inner6))));
    expect(parsePacketHeader(outer6.subarray(0, 128), HEADER_ETHERNET)).toMatchObject({
      ipVersion: 6, src: 'fd00::1', dst: 'fd00::2', protocol: 6, vni: 7, srcPort: 1234, dstPort: 5678, tcpFlags: 0,
    });
    // Inner frame cut off before its IP header: the outer tuple, still tagged with the VNI.
    expect(parsePacketHeader(outer.subarray(0, 14 + 4 + 20 + 8 + 8 + 10), HEADER_ETHERNET)).toMatchObject({ src: '10.0.0.1', dstPort: 4789, vni: 0xabcdef, vlan: 20 });
    // Without the I flag it is plain UDP to 4789.
    const noI = Buffer.from(outer);
    noI[14 + 4 + 20 + 8] = 0;
    expect(parsePacketHeader(noI, HEADER_ETHERNET)).toMatchObject({ src: '10.0.0.1', dstPort: 4789, vni: 0 });
  });

  it('gives ICMP and ICMPv6 ports 0, and raw IPv4/IPv6 headers parse without Ethernet', () => {
    const icmp = Buffer.from([8, 0, 0, 0, 0, 1, 0, 1]);
    expect(parsePacketHeader(ipv4Packet('10.0.0.1', '10.0.0.9', 1, icmp), HEADER_IPV4)).toMatchObject({ protocol: 1, srcPort: 0, dstPort: 0 });
    expect(parsePacketHeader(ipv6Packet('fe80::1', 'ff02::1', 58, icmp), HEADER_IPV6)).toMatchObject({ ipVersion: 6, src: 'fe80::1', dst: 'ff02::1', protocol: 58, srcPort: 0 });
  });

  it('does not read ports out of Ethernet padding after a short IP packet', () => {
    const short = ipv4Packet('10.0.0.1', '10.0.0.2', 17, Buffer.alloc(0)); // an IP header with no payload, padded to 60
    const frame = ethernet(0x0800, Buffer.concat([short, Buffer.alloc(26, 0xff)]));
    expect(parsePacketHeader(frame, HEADER_ETHERNET)).toMatchObject({ protocol: 17, srcPort: 0, dstPort: 0, ipTotalLength: 20 });
  });

  it('returns undefined for non-IP frames, unknown header protocols and wrong IP versions', () => {
    expect(parsePacketHeader(ethernet(0x0806, Buffer.alloc(28)), HEADER_ETHERNET)).toBeUndefined(); // ARP
    const ip = ipv4Packet('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, 0));
    expect(parsePacketHeader(ip, 7)).toBeUndefined();
    expect(parsePacketHeader(ip, HEADER_IPV6)).toBeUndefined();
    expect(parsePacketHeader(Buffer.alloc(0), HEADER_ETHERNET)).toBeUndefined();
  });

  it('parses any prefix as far as it goes and never reads past the given length', () => {
    const frames = [
      ethernet(0x0800, ipv4Packet('10.1.2.3', '10.4.5.6', 6, tcp(1111, 2222, SYN)), { vlan: 5 }),
      ethernet(0x86dd, ipv6Packet('2001:db8::1', '2001:db8::2', 0, Buffer.concat([ext(17, 0), udp(3333, 4444)]))),
      ethernet(0x0800, ipv4Packet('10.0.0.1', '10.0.0.2', 17, udp(1, 4789, vxlan(9, ethernet(0x0800, ipv4Packet('192.168.0.1', '192.168.0.2', 6, tcp(80, 81, ACK))))))),
    ];
    for (const frame of frames) {
      const full = parsePacketHeader(frame, HEADER_ETHERNET)!;
      for (let cut = 0; cut <= frame.length; cut++) {
        // The whole frame is in the buffer: only `length` stops the parser.
        const h = parsePacketHeader(frame, HEADER_ETHERNET, 0, cut);
        expect(h).toEqual(parsePacketHeader(Buffer.from(frame.subarray(0, cut)), HEADER_ETHERNET));
        if (h === undefined) continue;
        expect(isIP(h.src)).not.toBe(0);
        if (h.src === full.src) expect([0, full.srcPort]).toContain(h.srcPort);
      }
      // At an offset inside a larger buffer too.
      expect(parsePacketHeader(Buffer.concat([Buffer.alloc(7, 0xee), frame, Buffer.alloc(9, 0xee)]), HEADER_ETHERNET, 7, frame.length)).toEqual(full);
    }
  });
});

describe('address text', () => {
  it('prints IPv4 dotted and IPv6 in RFC 5952 form', () => {
    expect(ipv4ToString(Buffer.from([10, 0, 255, 1]))).toBe('10.0.255.1');
    expect(ipv4ToString(Buffer.from([0, 0, 192, 0, 2, 1]), 2)).toBe('192.0.2.1');
    const cases: Array<[string, string]> = [
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
      ['2001:0:0:1:0:0:1:1', '2001::1:0:0:1:1'], // equal runs: the first is compressed
      ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // the longest run wins
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['ABCD:EF01:0:0:0:0:0:0', 'abcd:ef01::'],
      ['0:0:0:0:0:ffff:a00:1', '::ffff:a00:1'],
    ];
    for (const [full, text] of cases) expect(ipv6ToString(v6(full))).toBe(text);
    expect(ipv6ToString(Buffer.concat([Buffer.alloc(3, 0xff), v6('fd00::1:2')]), 3)).toBe('fd00::1:2');
    expect(() => ipv4ToString(Buffer.alloc(6), 3)).toThrow(RangeError);
    expect(() => ipv6ToString(Buffer.alloc(15))).toThrow(RangeError);
  });

  it('agrees with the WHATWG URL serializer and round-trips through net.isIP', () => {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(16);
      for (let g = 0; g < 8; g++) if (rnd() < 0.5) b.writeUInt16BE(Math.floor(rnd() * 65536), 2 * g);
      const text = ipv6ToString(b);
      expect(isIP(text)).toBe(6);
      expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
      expect(v6(text)).toEqual(b);
    }
  });
});
