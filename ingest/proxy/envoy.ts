/**
 * Envoy HTTP access log lines to Flows: json_format (Istio's field names) or Envoy's default text format,
 * told apart per line by a leading '{'. Mapping as for Squid (see squid.ts): src the client, dst the
 * upstream host Envoy connected to (0.0.0.0 when none, unless the authority is an IP literal), proxy_host
 * the authority without its port, bytes = bytes_received + bytes_sent (HTTP bodies), time_start =
 * START_TIME and time_end = START_TIME + DURATION.
 *
 * Recommended json_format (numbers are accepted as numbers or numeric strings; '-' and null as absent):
 *
 *   start_time: "%START_TIME%"            method: "%REQ(:METHOD)%"
 *   path: "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"  protocol: "%PROTOCOL%"
 *   response_code: "%RESPONSE_CODE%"      response_flags: "%RESPONSE_FLAGS%"
 *   bytes_received: "%BYTES_RECEIVED%"    bytes_sent: "%BYTES_SENT%"    duration: "%DURATION%"
 *   upstream_host: "%UPSTREAM_HOST%"      upstream_cluster: "%UPSTREAM_CLUSTER%"
 *   downstream_remote_address: "%DOWNSTREAM_REMOTE_ADDRESS%"
 *   downstream_local_address: "%DOWNSTREAM_LOCAL_ADDRESS%"
 *   authority: "%REQ(:AUTHORITY)%"        requested_server_name: "%REQUESTED_SERVER_NAME%"
 *   x_forwarded_for: "%REQ(X-FORWARDED-FOR)%"
 *
 * The default text format has no downstream address, only X-Forwarded-For. With use_remote_address: true
 * Envoy appends the address it saw to that header before logging, so the trusted client is the entry
 * xffTrustedHops from the end (Envoy's own xff_num_trusted_hops rule); earlier entries are whatever the
 * client sent and would let a node pose as another. Without the header src is 0.0.0.0: prefer JSON.
 *
 * DENIED: response flag UAEX (ext_authz denied, whatever status it chose) or a 403 with no upstream host,
 * i.e. made by Envoy itself. There is no RBAC response flag: the RBAC filter answers 403 before routing
 * (details rbac_access_denied_matched_policy[...]), so it is the second case. A 403 relayed from an
 * upstream is the origin's answer, so FORWARDED.
 */
import { z } from 'zod';
import { zodDetail } from '../../core/error-text';
import {
  countField, fail, isAddress, parseJsonLine, proxyFlow, splitHostPort, sumKnown, textField,
  type ProxyLineResult,
} from './common';
import { plainAddress } from '../address';

export interface EnvoyOptions {
  /** Envoy's xff_num_trusted_hops: which X-Forwarded-For entry, counted from the end, is the client. */
  xffTrustedHops?: number;
}

/** START_TIME as Envoy's default ISO form, or epoch seconds from %START_TIME(%s.%3f)%. */
const startTime = z.union([z.number().min(0), z.string()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? Math.round(v * 1000)
    : /^\d+(\.\d+)?$/.test(v) ? Math.round(Number(v) * 1000)
      : /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) ctx.issues.push({ code: 'custom', message: `bad start time ${JSON.stringify(v)}`, input: v });
  return ms;
});

const EnvoyEntry = z.looseObject({
  start_time: startTime,
  method: textField,
  path: textField,
  protocol: textField,
  response_code: countField,
  response_flags: textField,
  bytes_received: countField,
  bytes_sent: countField,
  duration: countField,
  upstream_host: textField,
  upstream_cluster: textField,
  downstream_remote_address: textField,
  downstream_local_address: textField,
  authority: textField,
  requested_server_name: textField,
  x_forwarded_for: textField,
});
type EnvoyEntry = z.infer<typeof EnvoyEntry>;

/** The default format; user-agent is the one free-text field, so it alone may hold quotes. */
const TEXT = /^\[([^\]]+)\] "(\S+) (\S+) (\S+)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) "([^"]*)" "(.*)" "([^"]*)" "([^"]*)" "([^"]*)"$/;
const TEXT_KEYS = [
  'start_time', 'method', 'path', 'protocol', 'response_code', 'response_flags', 'bytes_received', 'bytes_sent',
  'duration', 'upstream_service_time', 'x_forwarded_for', 'user_agent', 'request_id', 'authority', 'upstream_host',
] as const;

function envoyFlow(e: EnvoyEntry, proxyAddress: string, now: number, opts: EnvoyOptions): ProxyLineResult {
  let src = '0.0.0.0';
  let srcPort = 0;
  if (e.downstream_remote_address) {
    const a = splitHostPort(e.downstream_remote_address);
    if (!a) return fail('bad-address', `downstream address ${JSON.stringify(e.downstream_remote_address)}`);
    [src, srcPort] = [a.host, a.port ?? 0];
  } else if (e.x_forwarded_for) {
    const hops = e.x_forwarded_for.split(',').map((h) => h.trim());
    const hop = hops[Math.max(0, hops.length - 1 - (opts.xffTrustedHops ?? 0))] ?? '';
    src = splitHostPort(hop)?.host ?? hop;
  }
  const up = e.upstream_host ? splitHostPort(e.upstream_host) : undefined;
  const upIp = up && isAddress(plainAddress(up.host)) ? up : undefined;
  const auth = e.authority ? splitHostPort(e.authority) : undefined;
  const connect = e.method === 'CONNECT';
  const flags = e.response_flags?.split(',') ?? [];
  const denied = flags.includes('UAEX') || (e.response_code === 403 && !upIp);
  const start = e.start_time;
  return proxyFlow({
    proxy: proxyAddress, now, timeStart: start, timeEnd: start + (e.duration ?? 0), src, srcPort,
    server: upIp?.host, serverPort: upIp?.port,
    host: auth?.host ?? e.requested_server_name,
    port: auth?.port ?? (connect || e.requested_server_name ? 443 : 80),
    bytes: sumKnown(e.bytes_received, e.bytes_sent), method: e.method, status: e.response_code,
    verdict: denied ? 'DENIED' : 'FORWARDED',
    // The request target as on the request line: CONNECT's is the authority.
    summary: `${e.method ?? '-'} ${(connect ? e.authority : e.path) ?? e.authority ?? '-'} ${e.response_code ?? 0}`,
  }, 'envoy');
}

/** One Envoy access log line (JSON or the default text format) to a Flow. */
export function parseEnvoyLine(line: string, proxyAddress: string, now: number, opts: EnvoyOptions = {}): ProxyLineResult {
  const text = line.trim();
  if (!text) return {};
  if (!text.startsWith('{')) {
    const m = TEXT.exec(text);
    if (!m) return fail('envoy-unparsable', 'not the default access log format');
    const e = EnvoyEntry.safeParse(Object.fromEntries(TEXT_KEYS.map((k, i) => [k, m[i + 1]])));
    return e.success ? envoyFlow(e.data, proxyAddress, now, opts) : fail('envoy-unparsable', zodDetail(e.error, '(line)'));
  }
  const j = parseJsonLine(text, EnvoyEntry, 'envoy');
  return 'error' in j ? j : envoyFlow(j.data, proxyAddress, now, opts);
}
