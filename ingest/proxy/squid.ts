/**
 * Squid access.log lines to Flows, one line at a time: the native format and a JSON logformat. Also holds
 * (what both proxy parsers share is in common.ts).
 *
 * A proxy flow is the request as the client asked for it: src is the client, dst the server the proxy
 * connected to (%<a: with cache_peer that is the parent proxy) and, when the proxy never connected (denied,
 * failed, cache hit), 0.0.0.0, unless the requested host is itself an IP literal. The host the client asked
 * for is always in proxy_host, so a denied request still says where the client was going.
 *
 * Native format (`logformat squid %ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt`) logs only
 * %<st, the reply size: there `bytes` counts what the proxy sent to the client, not the request. It has no
 * client port (src_port 0). %ts is when the entry was logged, the end of the transaction.
 *
 * JSON: every value is quoted because Squid logs an absent value as a bare `-` (`"server_port":-` would not
 * parse); %"X escapes quotes and backslashes inside strings. Recommended squid.conf:
 *
 *   logformat eastwatch {"time":"%ts.%03tu","duration_ms":"%tr","client":"%>a","client_port":"%>p","status":"%Ss","http_status":"%>Hs","bytes_sent":"%<st","bytes_received":"%>st","method":"%"rm","url":"%"ru","host":"%">rd","server":"%<a","server_port":"%<p","hier":"%Sh"}
 *   access_log daemon:/var/log/squid/eastwatch.log eastwatch
 *
 * %<st is the reply sent to the client, %>st the request received from it (so bytes is both directions),
 * %>rd the requested domain, %<a/%<p the server or peer address and port, %>a/%>p the client's.
 */
import { z } from 'zod';
import type { DecodeError } from '../decoded';
import { countField, parseJsonLine, type ProxyLineResult, proxyFlow, splitHostPort, sumKnown, textField } from './common';


/** "1764000000.123" (%ts.%03tu) to milliseconds, without float rounding. */
const TS = /^(\d+)(?:\.(\d{1,3})\d*)?$/;
const tsMillis = (s: string): number => {
  const [, sec = '0', frac = ''] = TS.exec(s) ?? [];
  return Number(sec) * 1000 + Number(frac.padEnd(3, '0'));
};

const SquidJson = z.looseObject({
  time: z.union([z.number().min(0).transform((n) => tsMillis(n.toFixed(3))), z.string().regex(TS).transform(tsMillis)]),
  duration_ms: countField,
  client: z.string(),
  client_port: countField,
  status: z.string().min(1),
  http_status: countField,
  bytes_sent: countField,
  bytes_received: countField,
  method: textField,
  url: textField,
  host: textField,
  server: textField,
  server_port: countField,
  hier: textField,
});

interface SquidEntry {
  time: number;
  duration?: number;
  client: string;
  clientPort?: number;
  status: string;
  httpStatus?: number;
  replyBytes?: number;
  requestBytes?: number;
  method?: string;
  url?: string;
  host?: string;
  server?: string;
  serverPort?: number;
  hier?: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'ftp:': 21 };

/** Host and port the client asked for: a CONNECT authority or an absolute URL; port 0 when neither. */
function requestTarget(method?: string, url?: string): { host?: string; port: number } {
  if (!url) return { port: 0 };
  if (method === 'CONNECT') {
    const a = splitHostPort(url);
    return a ? { host: a.host, port: a.port ?? 443 } : { port: 0 };
  }
  try {
    const u = new URL(url);
    return { ...(u.hostname ? { host: u.hostname } : {}), port: u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol] ?? 0 };
  } catch {
    return { port: 0 };
  }
}

function squidFlow(e: SquidEntry, proxyAddress: string, now: number): ProxyLineResult {
  const target = requestTarget(e.method, e.url);
  // A 403 the proxy made itself (nothing fetched) is a denial; a 403 relayed from the origin is not.
  const proxyMade = e.hier === 'HIER_NONE' || e.status.startsWith('NONE');
  const denied = e.status.includes('DENIED') || (e.httpStatus === 403 && proxyMade);
  return proxyFlow({
    proxy: proxyAddress, now, timeEnd: e.time, timeStart: e.time - (e.duration ?? 0),
    src: e.client, srcPort: e.clientPort ?? 0, server: e.server, serverPort: e.serverPort,
    host: e.host ?? target.host, port: target.port,
    bytes: sumKnown(e.replyBytes, e.requestBytes), method: e.method, status: e.httpStatus,
    // error:invalid-request and friends: Squid saw a connection but no request to forward.
    verdict: denied ? 'DENIED' : e.url?.startsWith('error:') ? 'ERROR' : 'FORWARDED',
    summary: `${e.method ?? '-'} ${e.url ?? '-'} ${e.httpStatus ?? 0}`,
  }, 'squid');
}

const dash = (s: string): string | undefined => (s === '-' || s === '' ? undefined : s);

function parseNative(line: string): SquidEntry | DecodeError {
  const t = line.split(/\s+/);
  if (t.length < 10) return { reason: 'squid-unparsable', detail: `expected at least 10 fields, got ${t.length}` };
  const [ts = '', tr = '', client = '', code = '', size = '', method = '', url = '', , hier = ''] = t;
  const c = /^([A-Z_]+)\/(\d{3})$/.exec(code);
  const h = /^([A-Z_]+)\/(.*)$/.exec(hier);
  const bad = !TS.test(ts) ? 'timestamp' : !/^\d+$/.test(tr) ? 'duration' : !c ? 'status' : !/^(\d+|-)$/.test(size) ? 'size' : !h ? 'hierarchy' : undefined;
  if (bad || !c || !h) return { reason: 'squid-unparsable', detail: `bad ${bad} field` };
  return {
    time: tsMillis(ts), duration: Number(tr), client, status: c[1] ?? '', httpStatus: Number(c[2]),
    replyBytes: size === '-' ? undefined : Number(size), method: dash(method), url: dash(url),
    server: dash(h[2] ?? ''), hier: h[1],
  };
}

/** One Squid access.log line (native or JSON, told apart by a leading '{') to a Flow. */
export function parseSquidLine(line: string, proxyAddress: string, now: number): ProxyLineResult {
  const text = line.trim();
  if (!text) return {};
  if (!text.startsWith('{')) {
    const e = parseNative(text);
    return 'reason' in e ? { error: e } : squidFlow(e, proxyAddress, now);
  }
  const j = parseJsonLine(text, SquidJson, 'squid');
  if ('error' in j) return j;
  const d = j.data;
  const entry: SquidEntry = {
    time: d.time, duration: d.duration_ms, client: d.client, clientPort: d.client_port, status: d.status,
    httpStatus: d.http_status, replyBytes: d.bytes_sent, requestBytes: d.bytes_received, method: d.method,
    url: d.url, host: d.host, server: d.server, serverPort: d.server_port, hier: d.hier,
  };
  return squidFlow(entry, proxyAddress, now);
}
