/**
 * Squid access.log lines ('proxy' flows) in the native format (`%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru
 * %[un %Sh/%<a %mt`), appended to the log eastwatch follows. Logged when the request ends, as Squid does.
 *
 * The flow's bytes go into the size field (native logs have no other), so they come back as the flow's bytes.
 * The simulation knows the origin by name only: the hierarchy field names it as Squid does with
 * `log_ip_on_direct off`, and eastwatch then has no server address (dst 0.0.0.0) unless the host is an IP.
 */
import { isIPv6 } from 'node:net';
import type { SimFlow } from '../events';
import { LineEmitter } from './transport';

/** The host without a port, and the port if it names one (IPv6 literals bare or bracketed with a port). */
function splitHost(host: string): { name: string; port?: string } {
  if (isIPv6(host)) return { name: host };
  const m = /^\[?(.*?)\]?:(\d+)$/.exec(host);
  return m ? { name: m[1]!, port: m[2]! } : { name: host };
}

/** The native access.log line of `f` (which has `proxy` context). */
export function squidLine(f: SimFlow): string {
  const p = f.proxy;
  if (!p) throw new Error(`proxy flow ${f.src} -> ${f.dst} has no proxy context`);
  const { name, port } = splitHost(p.host);
  const bracketed = isIPv6(name) ? `[${name}]` : name;
  const denied = p.status === 403;
  const connect = p.method === 'CONNECT';
  const code = denied ? 'TCP_DENIED' : connect ? 'TCP_TUNNEL' : 'TCP_MISS';
  const url = connect ? `${bracketed}:${port ?? 443}` : `http://${bracketed}${port ? `:${port}` : ''}/`;
  const hierarchy = denied ? 'HIER_NONE/-' : `HIER_DIRECT/${name}`;
  const mime = denied ? 'text/html' : connect ? '-' : 'application/octet-stream';
  const ts = `${Math.floor(f.end / 1000)}.${String(f.end % 1000).padStart(3, '0')}`;
  const elapsed = String(Math.max(0, f.end - f.start)).padStart(6);
  return `${ts} ${elapsed} ${f.src} ${code}/${String(p.status).padStart(3, '0')} ${f.bytes} ${p.method} ${url} - ${hierarchy} ${mime}`;
}

/** Squid's access.log, followed by eastwatch. */
export const squidEmitter = (path: string): LineEmitter => new LineEmitter('squid', path, squidLine);
