/**
 * Requests through the egress proxy. One request makes three flows: the client's connection to the proxy on
 * 3128 (exported like anything else the client sends), the proxy's access-log entry (via 'proxy', for the
 * Squid line) and the proxy's own connection to the origin on 443 (sampled at the proxy's leaf). Bytes are what
 * the sender sent (the record's direction): an upload is large, a download is a small request with a large
 * `replyBytes` on the log entry.
 *
 * Origins have no DNS here, so a host name gets a documentation address (RFC 5737): the approved hosts
 * 203.0.113.10 onwards in list order, any other host one in 198.51.100.16-239 by a hash of its name.
 */
import type { SimEvent } from '../events';
import { FLAGS, flowEvent, type FlowPath, TCP } from './flows';
import type { ClusterView, FrontHost } from './hosts';
import { hash32, type Rng } from './random';

export const PROXY_PORT = 3128;

export interface ProxyRequest {
  client: string;
  /** How the client's connection to the proxy is seen; pods of the inference tier by Hubble and their leaf both. */
  paths: FlowPath[];
  host: string;
  start: number;
  end: number;
  up: number;
  down: number;
  method: 'CONNECT' | 'GET' | 'PUT' | 'POST';
  label?: string;
}

export class Egress {
  private readonly approvedIndex: Map<string, number>;

  constructor(private readonly view: ClusterView, readonly approved: readonly string[]) {
    this.approvedIndex = new Map(approved.map((h, i) => [h, i]));
  }

  address(host: string): string {
    const i = this.approvedIndex.get(host);
    return i !== undefined ? `203.0.113.${10 + i}` : `198.51.100.${16 + (hash32(host) % 224)}`;
  }

  /** The proxy a client uses (the same one every time), when one exists that the client's zone may reach. */
  proxyFor(client: string): FrontHost | undefined {
    const reachable = this.view.proxies.filter((p) => this.view.allows(client, p.frontend, TCP, PROXY_PORT));
    return reachable.length === 0 ? undefined : reachable[hash32(client) % reachable.length];
  }

  /** The three flows of a request (none when the client may reach no proxy). */
  request(r: ProxyRequest, rng: Rng, out: SimEvent[]): void {
    const proxy = this.proxyFor(r.client);
    if (!proxy) return;
    const server = this.address(r.host);
    const srcPort = rng.ephemeral();
    const overhead = 600;
    for (const path of r.paths) {
      out.push(flowEvent({ ...r, src: r.client, dst: proxy.frontend, srcPort, dstPort: PROXY_PORT, protocol: TCP, bytes: r.up + overhead, packetSize: 1200 }, path));
    }
    const log = flowEvent({ ...r, src: r.client, dst: proxy.frontend, srcPort, dstPort: PROXY_PORT, protocol: TCP, bytes: r.up, packetSize: 1200 }, { via: 'proxy' });
    log.flow.proxy = { host: r.host, method: r.method, status: 200, server, replyBytes: r.down };
    out.push(log);
    out.push(flowEvent({
      ...r, start: r.start + 5, src: proxy.frontend, dst: server, srcPort: rng.ephemeral(), dstPort: 443, protocol: TCP,
      bytes: r.up + overhead, packetSize: 1200, tcpFlags: FLAGS.whole,
    }, proxy.route));
  }
}
