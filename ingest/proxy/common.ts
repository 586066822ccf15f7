/** What the proxy log parsers share: the result type, address and field helpers, and the Flow builder. */
import { isIP } from 'node:net';
import { z } from 'zod';
import { FlowSchema, type Flow } from '../../core/flow';
import { zodDetail } from '../../core/error-text';
import { plainAddress } from '../address';
import type { DecodeError } from '../decoded';

/** One log line's outcome: a flow, an error, or neither (a blank line). Parsers never throw. */
export interface ProxyLineResult {
  flow?: Flow;
  error?: DecodeError;
}

export const fail = (reason: string, detail: string): ProxyLineResult => ({ error: { reason, detail } });

/** IPv4 peers of dual-stack sockets are logged as ::ffff:a.b.c.d; flows name them as plain IPv4. */
export const isAddress = (a: string): boolean => isIP(a) !== 0;
const unbracket = (h: string): string => (h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h);

/** "host:port", "[v6]:port", "host" or a bare IPv6 address; undefined when the port is malformed. */
export function splitHostPort(s: string): { host: string; port?: number } | undefined {
  let host = s;
  let port: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(s);
  if (v6) [, host = '', port] = v6;
  else if (s.includes(':') && s.indexOf(':') === s.lastIndexOf(':')) [host = '', port] = s.split(':');
  if (!host) return undefined;
  if (port === undefined) return { host };
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) return undefined;
  return { host, port: Number(port) };
}

/** A count logged as a number or a numeric string; '-', '' and null mean not logged. */
export const countField = z
  .union([z.number().int().min(0), z.string().regex(/^\d+$/).transform(Number), z.enum(['-', '']), z.null()])
  .optional()
  .transform((v) => (typeof v === 'number' ? v : undefined));

/** A string where '-', '' and null mean not logged. */
export const textField = z
  .union([z.string(), z.null()])
  .optional()
  .transform((v) => (v === null || v === undefined || v === '-' || v === '' ? undefined : v));

/** What both proxies log about one request, already in Flow terms. */
export interface ProxyRequest {
  proxy: string;
  now: number;
  timeStart: number;
  timeEnd: number;
  src: string;
  srcPort: number;
  /** Server IP the proxy connected to, if any. */
  server?: string;
  serverPort?: number;
  /** The host (and port) the client asked for. */
  host?: string;
  port: number;
  bytes: number | null;
  method?: string;
  status?: number;
  verdict: 'FORWARDED' | 'DENIED' | 'ERROR';
  summary: string;
}

export const sumKnown = (a?: number, b?: number): number | null =>
  a === undefined && b === undefined ? null : (a ?? 0) + (b ?? 0);

/** Builds the Flow and checks it against FlowSchema, so a parser's output always passes it. */
export function proxyFlow(r: ProxyRequest, prefix: string): ProxyLineResult {
  const src = plainAddress(r.src);
  const proxy = plainAddress(r.proxy);
  if (!isAddress(proxy)) return fail('bad-address', `proxy address ${JSON.stringify(r.proxy)}`);
  if (!isAddress(src)) return fail('bad-address', `client address ${JSON.stringify(r.src)}`);
  const host = r.host === undefined ? undefined : unbracket(r.host).toLowerCase();
  const server = r.server === undefined ? undefined : plainAddress(r.server);
  const known = server !== undefined && isAddress(server) ? server : undefined;
  const flow: Flow = {
    time_received: r.now, time_start: r.timeStart, time_end: r.timeEnd,
    source_kind: 'proxy', exporter_address: proxy, observation_domain: 0, observation_point: 'proxy',
    src_addr: src, dst_addr: known ?? (host !== undefined && isAddress(host) ? host : '0.0.0.0'),
    src_port: r.srcPort, dst_port: known !== undefined && r.serverPort !== undefined ? r.serverPort : r.port,
    protocol: 6, bytes: r.bytes, packets: null, tcp_flags: 0, sampling_rate: 1, direction: 'egress',
    verdict: r.verdict,
    l7_summary: r.summary.slice(0, 2048),
    ...(host ? { proxy_host: host.slice(0, 253) } : {}),
    ...(r.method ? { proxy_method: r.method.slice(0, 32) } : {}),
    ...(r.status ? { proxy_status: r.status } : {}),
  };
  const checked = FlowSchema.safeParse(flow);
  return checked.success ? { flow } : fail(`${prefix}-invalid-flow`, zodDetail(checked.error, '(line)'));
}

/** A JSON log line validated by `schema`; errors are `PREFIX-invalid-json` (syntax) or `PREFIX-bad-fields`. */
export function parseJsonLine<T>(text: string, schema: z.ZodType<T>, prefix: string): { data: T } | { error: DecodeError } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { error: { reason: `${prefix}-invalid-json`, detail: (err as Error).message } };
  }
  const r = schema.safeParse(raw);
  return r.success ? { data: r.data } : { error: { reason: `${prefix}-bad-fields`, detail: zodDetail(r.error, '(line)') } };
}
