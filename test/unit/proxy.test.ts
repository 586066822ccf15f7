import { FlowSchema, type Flow } from '../../core/flow';
import { parseEnvoyLine } from '../../ingest/proxy/envoy';
import type { ProxyLineResult } from '../../ingest/proxy/common';
import { parseSquidLine } from '../../ingest/proxy/squid';

const NOW = 1764000100000;
const PROXY = '10.0.0.3';

/** The constant part of every proxy flow; each case states the rest. */
const flow = (f: Partial<Flow>): Flow => ({
  time_received: NOW, time_start: 0, time_end: 0, source_kind: 'proxy', exporter_address: PROXY,
  observation_domain: 0, observation_point: 'proxy', src_addr: '0.0.0.0', dst_addr: '0.0.0.0', src_port: 0, dst_port: 0,
  protocol: 6, bytes: null, packets: null, tcp_flags: 0, sampling_rate: 1, direction: 'egress', ...f,
});

function expectFlow(r: ProxyLineResult, expected: Flow): void {
  expect(r).toStrictEqual({ flow: expected });
  expect(FlowSchema.parse(r.flow)).toStrictEqual(expected);
}

const squid = (line: string) => parseSquidLine(line, PROXY, NOW);
const envoy = (line: string | object, hops?: number) =>
  parseEnvoyLine(typeof line === 'string' ? line : JSON.stringify(line), PROXY, NOW, hops === undefined ? {} : { xffTrustedHops: hops });

describe('Squid native access.log', () => {
  it('maps an allowed CONNECT: server from HIER_DIRECT, reply bytes only, time_end = %ts', () => {
    expectFlow(squid('1764000000.123    245 10.1.0.21 TCP_TUNNEL/200 5321 CONNECT huggingface.co:443 - HIER_DIRECT/52.1.2.3 -'), flow({
      time_start: 1763999999878, time_end: 1764000000123, src_addr: '10.1.0.21', dst_addr: '52.1.2.3', dst_port: 443,
      bytes: 5321, verdict: 'FORWARDED', l7_summary: 'CONNECT huggingface.co:443 200',
      proxy_host: 'huggingface.co', proxy_method: 'CONNECT', proxy_status: 200,
    }));
  });

  it('maps a denied CONNECT: no server IP, the asked-for host in proxy_host', () => {
    expectFlow(squid('1764000001.500      0 10.1.0.22 TCP_DENIED/403 3905 CONNECT evil.example:443 - HIER_NONE/- text/html'), flow({
      time_start: 1764000001500, time_end: 1764000001500, src_addr: '10.1.0.22', dst_port: 443, bytes: 3905,
      verdict: 'DENIED', l7_summary: 'CONNECT evil.example:443 403',
      proxy_host: 'evil.example', proxy_method: 'CONNECT', proxy_status: 403,
    }));
  });

  it('maps a plain HTTP GET with the port from the URL', () => {
    expectFlow(squid('1764000002.000     12 10.1.0.23 TCP_MISS/200 1532 GET http://10.20.0.5:8080/data - HIER_DIRECT/10.20.0.5 text/plain'), flow({
      time_start: 1764000001988, time_end: 1764000002000, src_addr: '10.1.0.23', dst_addr: '10.20.0.5', dst_port: 8080,
      bytes: 1532, verdict: 'FORWARDED', l7_summary: 'GET http://10.20.0.5:8080/data 200',
      proxy_host: '10.20.0.5', proxy_method: 'GET', proxy_status: 200,
    }));
  });

  it('maps IPv6 clients and servers, and https default port 443', () => {
    expectFlow(squid('1764000003.250     80 2001:db8:1::21 TCP_MISS/200 900 GET https://pypi.org/simple/torch/ alice HIER_DIRECT/2a04:4e42::223 text/html'), flow({
      time_start: 1764000003170, time_end: 1764000003250, src_addr: '2001:db8:1::21', dst_addr: '2a04:4e42::223', dst_port: 443,
      bytes: 900, verdict: 'FORWARDED', l7_summary: 'GET https://pypi.org/simple/torch/ 200',
      proxy_host: 'pypi.org', proxy_method: 'GET', proxy_status: 200,
    }));
  });

  it('takes an IP-literal destination as dst even when denied; strips ::ffff: from clients', () => {
    expectFlow(squid('1764000004.000      1 ::ffff:10.1.0.24 TCP_DENIED/403 3800 CONNECT 203.0.113.7:22 - HIER_NONE/- text/html'), flow({
      time_start: 1764000003999, time_end: 1764000004000, src_addr: '10.1.0.24', dst_addr: '203.0.113.7', dst_port: 22,
      bytes: 3800, verdict: 'DENIED', l7_summary: 'CONNECT 203.0.113.7:22 403',
      proxy_host: '203.0.113.7', proxy_method: 'CONNECT', proxy_status: 403,
    }));
  });

  it('denies only 403s the proxy made, not ones relayed from the origin', () => {
    const verdict = (line: string) => squid(line).flow?.verdict;
    expect(verdict('1764000005.000 3 10.1.0.25 TCP_MISS/403 210 GET http://repo.example/x - HIER_DIRECT/198.51.100.9 text/html')).toBe('FORWARDED');
    expect(verdict('1764000005.000 0 10.1.0.25 NONE/403 3900 GET http://repo.example/x - HIER_NONE/- text/html')).toBe('DENIED');
    expect(verdict('1764000005.000 0 10.1.0.25 TCP_DENIED_REPLY/403 3900 GET http://repo.example/x - HIER_DIRECT/198.51.100.9 text/html')).toBe('DENIED');
  });

  it('keeps a connection with no request as an ERROR flow with no destination and no status', () => {
    expectFlow(squid('1764000006.000      0 10.1.0.26 NONE_NONE/000 0 - error:transaction-end-before-headers - HIER_NONE/- -'), flow({
      time_start: 1764000006000, time_end: 1764000006000, src_addr: '10.1.0.26', bytes: 0,
      verdict: 'ERROR', l7_summary: '- error:transaction-end-before-headers 0',
    }));
  });
});

describe('Squid JSON logformat', () => {
  it('maps the recommended quoted logformat: client port, server port, bytes both ways', () => {
    const line = '{"time":"1764000000.123","duration_ms":"245","client":"10.1.0.21","client_port":"51234","status":"TCP_TUNNEL",'
      + '"http_status":"200","bytes_sent":"5321","bytes_received":"690","method":"CONNECT","url":"huggingface.co:443",'
      + '"host":"huggingface.co","server":"52.1.2.3","server_port":"443","hier":"HIER_DIRECT"}';
    expectFlow(squid(line), flow({
      time_start: 1763999999878, time_end: 1764000000123, src_addr: '10.1.0.21', src_port: 51234, dst_addr: '52.1.2.3',
      dst_port: 443, bytes: 6011, verdict: 'FORWARDED', l7_summary: 'CONNECT huggingface.co:443 200',
      proxy_host: 'huggingface.co', proxy_method: 'CONNECT', proxy_status: 200,
    }));
  });

  it('accepts bare numbers and "-" for absent values (denied, IPv6 client)', () => {
    const line = JSON.stringify({
      time: 1764000001.5, duration_ms: 0, client: '2001:db8:1::22', client_port: 40000, status: 'TCP_DENIED', http_status: 403,
      bytes_sent: 3905, bytes_received: '-', method: 'CONNECT', url: 'evil.example:443', host: 'evil.example',
      server: '-', server_port: '-', hier: 'HIER_NONE', extra: 'ignored',
    });
    expectFlow(squid(line), flow({
      time_start: 1764000001500, time_end: 1764000001500, src_addr: '2001:db8:1::22', src_port: 40000, dst_port: 443,
      bytes: 3905, verdict: 'DENIED', l7_summary: 'CONNECT evil.example:443 403',
      proxy_host: 'evil.example', proxy_method: 'CONNECT', proxy_status: 403,
    }));
  });
});

describe('Squid bad input', () => {
  it('skips blank lines and names what is wrong with the rest', () => {
    expect(squid('')).toStrictEqual({});
    expect(squid('   \t')).toStrictEqual({});
    expect(squid('garbage')).toStrictEqual({ error: { reason: 'squid-unparsable', detail: 'expected at least 10 fields, got 1' } });
    expect(squid('1764000000.123 245 10.1.0.21 TCP_TUNNEL/2x0 5321 CONNECT h:443 - HIER_DIRECT/52.1.2.3 -').error)
      .toEqual({ reason: 'squid-unparsable', detail: 'bad status field' });
    expect(squid('{"time":').error?.reason).toBe('squid-invalid-json');
    const fields = squid('{"time":"soon","client":"10.1.0.21","status":"TCP_MISS"}').error;
    expect(fields?.reason).toBe('squid-bad-fields');
    expect(fields?.detail).toMatch(/^time:/);
    expect(squid('1764000000.123 245 not-an-ip TCP_TUNNEL/200 5321 CONNECT h:443 - HIER_DIRECT/52.1.2.3 -').error)
      .toEqual({ reason: 'bad-address', detail: 'client address "not-an-ip"' });
    expect(parseSquidLine('1764000000.123 245 10.1.0.21 TCP_TUNNEL/200 5 CONNECT h:443 - HIER_DIRECT/52.1.2.3 -', 'proxy.local', NOW).error?.reason)
      .toBe('bad-address');
    expect(squid('0.100 245 10.1.0.21 TCP_TUNNEL/200 5 CONNECT h:443 - HIER_DIRECT/52.1.2.3 -').error)
      .toEqual({ reason: 'squid-invalid-flow', detail: 'time_start: Too small: expected number to be >=0' });
  });
});

const envoyOk = {
  start_time: '2025-01-06T12:00:00.123Z', method: 'GET', path: '/v1/models', protocol: 'HTTP/1.1', response_code: 200,
  response_flags: '-', bytes_received: 0, bytes_sent: 1234, duration: 45, upstream_host: '10.20.0.9:443',
  downstream_remote_address: '10.1.0.21:53422', downstream_local_address: '10.0.0.3:10000', authority: 'api.example.com',
  upstream_cluster: 'api', requested_server_name: null,
};

describe('Envoy JSON access log', () => {
  it('maps a forwarded request: src from the downstream address, dst from the upstream host', () => {
    expectFlow(envoy(envoyOk), flow({
      time_start: 1736164800123, time_end: 1736164800168, src_addr: '10.1.0.21', src_port: 53422, dst_addr: '10.20.0.9',
      dst_port: 443, bytes: 1234, verdict: 'FORWARDED', l7_summary: 'GET /v1/models 200',
      proxy_host: 'api.example.com', proxy_method: 'GET', proxy_status: 200,
    }));
  });

  it('maps an ext_authz denial (UAEX) with numeric strings and an IPv6 client', () => {
    const line = {
      start_time: '2025-01-06T12:00:01.000Z', method: 'CONNECT', path: null, protocol: 'HTTP/1.1', response_code: '403',
      response_flags: 'UAEX', bytes_received: '0', bytes_sent: '0', duration: '3', upstream_host: null,
      downstream_remote_address: '[2001:db8:1::21]:40100', authority: 'Evil.Example:443', upstream_cluster: '-',
      requested_server_name: '-',
    };
    expectFlow(envoy(line), flow({
      time_start: 1736164801000, time_end: 1736164801003, src_addr: '2001:db8:1::21', src_port: 40100, dst_port: 443,
      bytes: 0, verdict: 'DENIED', l7_summary: 'CONNECT Evil.Example:443 403',
      proxy_host: 'evil.example', proxy_method: 'CONNECT', proxy_status: 403,
    }));
  });

  it('denies UAEX, RBAC and other Envoy-made 403s, not 403s relayed from an upstream', () => {
    const verdict = (over: object) => envoy({ ...envoyOk, ...over }).flow?.verdict;
    expect(verdict({ response_code: 403 })).toBe('FORWARDED');
    expect(verdict({ response_code: 403, upstream_host: null })).toBe('DENIED');
    expect(verdict({ response_code: 403, upstream_host: '-', response_code_details: 'rbac_access_denied_matched_policy[none]' })).toBe('DENIED');
    expect(verdict({ response_code: 401, upstream_host: null, response_flags: 'UAEX' })).toBe('DENIED');
    expect(verdict({ response_code: 503, response_flags: 'UF,URX' })).toBe('FORWARDED');
  });
});

describe('Envoy default text format', () => {
  it('maps the default format; without X-Forwarded-For the client is unknown (0.0.0.0)', () => {
    const line = '[2025-01-06T12:00:00.123Z] "GET /v1/models HTTP/1.1" 200 - 0 1234 45 44 "-" "curl/8.5.0" '
      + '"a1b2c3d4-0000-4000-8000-000000000000" "api.example.com" "10.20.0.9:443"';
    expectFlow(envoy(line), flow({
      time_start: 1736164800123, time_end: 1736164800168, dst_addr: '10.20.0.9', dst_port: 443, bytes: 1234,
      verdict: 'FORWARDED', l7_summary: 'GET /v1/models 200',
      proxy_host: 'api.example.com', proxy_method: 'GET', proxy_status: 200,
    }));
  });

  it('maps a CONNECT with "-" fields, the client from the trusted X-Forwarded-For entry', () => {
    const line = '[2025-01-06T12:00:02.500Z] "CONNECT - HTTP/1.1" 200 - 512 8192 3000 - "10.9.9.9, 10.1.0.21" "-" "-" "huggingface.co:443" "52.1.2.3:443"';
    const expected = flow({
      time_start: 1736164802500, time_end: 1736164805500, src_addr: '10.1.0.21', dst_addr: '52.1.2.3', dst_port: 443,
      bytes: 8704, verdict: 'FORWARDED', l7_summary: 'CONNECT huggingface.co:443 200',
      proxy_host: 'huggingface.co', proxy_method: 'CONNECT', proxy_status: 200,
    });
    expectFlow(envoy(line), expected);
    expectFlow(envoy(line, 1), { ...expected, src_addr: '10.9.9.9' });
  });

  it('parses a user agent holding quotes', () => {
    const line = '[2025-01-06T12:00:03.000Z] "GET /x HTTP/1.1" 403 - 0 19 1 - "10.1.0.30" "evil" agent" "-" "api.example.com" "-"';
    expect(envoy(line).flow).toMatchObject({ src_addr: '10.1.0.30', dst_addr: '0.0.0.0', dst_port: 80, verdict: 'DENIED' });
  });
});

describe('Envoy bad input', () => {
  it('skips blank lines and names what is wrong with the rest', () => {
    expect(envoy('')).toStrictEqual({});
    expect(envoy('{').error?.reason).toBe('envoy-invalid-json');
    expect(envoy('hello').error).toEqual({ reason: 'envoy-unparsable', detail: 'not the default access log format' });
    expect(envoy('[2025-01-06T12:00:00.123Z] "GET / HTTP/1.1" 200 - 0 1 x - "-" "-" "-" "a" "-"').error?.reason).toBe('envoy-unparsable');
    expect(envoy({ ...envoyOk, start_time: 'yesterday' }).error).toEqual({ reason: 'envoy-bad-fields', detail: 'start_time: bad start time "yesterday"' });
    expect(envoy({ ...envoyOk, response_code: 'abc' }).error?.reason).toBe('envoy-bad-fields');
    expect(envoy({ ...envoyOk, downstream_remote_address: 'host:99999' }).error)
      .toEqual({ reason: 'bad-address', detail: 'downstream address "host:99999"' });
    expect(envoy({ ...envoyOk, downstream_remote_address: 'pod-a:5000' }).error).toEqual({ reason: 'bad-address', detail: 'client address "pod-a"' });
  });
});
