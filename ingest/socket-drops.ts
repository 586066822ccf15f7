/**
 * What the kernel dropped on a UDP socket because its receive buffer was full: the `drops` column of
 * /proc/net/udp and /proc/net/udp6 (Linux), the only place such loss shows. Node gives no socket option for it
 * (SO_RXQ_OVFL needs recvmsg), so the table is read when metrics are scraped. Elsewhere it reads as unknown.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import ipaddr from 'ipaddr.js';

/** The kernel's spelling of a local address in /proc/net/udp{,6}: each 32-bit word in host (little-endian) order. */
export function procAddress(addr: string): string {
  const bytes = ipaddr.parse(addr).toByteArray();
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) out += Buffer.from(bytes.slice(i, i + 4)).reverse().toString('hex').toUpperCase();
  return out;
}

/** Drops counted on the UDP socket bound to host:port, or undefined where the table cannot be read or lacks it. */
export function udpSocketDrops(host: string, port: number, read: (file: string) => string = (f) => readFileSync(f, 'utf8')): number | undefined {
  const file = net.isIPv6(host) ? '/proc/net/udp6' : '/proc/net/udp';
  let table: string;
  try {
    table = read(file);
  } catch {
    return undefined;
  }
  const local = `${procAddress(host)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === local) return Number(cols.at(-1));
  }
  return undefined;
}
