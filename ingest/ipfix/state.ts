/**
 * What an IPFIX / NetFlow v9 collector remembers per (exporter address, observation domain): templates,
 * data sets waiting for their template, sampling announced in options data, the next sequence number.
 * Every part is bounded so a noisy or hostile exporter cannot exhaust the collector's memory.
 */
import type { Template } from './template';

export interface Limits {
  maxExporters: number;
  maxDomainsPerExporter: number;
  maxTemplatesPerDomain: number;
  maxFieldsPerTemplate: number;
  /** Data sets held while their template has not arrived, per domain. */
  maxPendingSets: number;
  maxPendingBytes: number;
  pendingMs: number;
  /** UDP templates not refreshed for this long expire (RFC 7011 §8.4). */
  templateTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxExporters: 10_000,
  maxDomainsPerExporter: 64,
  maxTemplatesPerDomain: 512,
  maxFieldsPerTemplate: 512,
  maxPendingSets: 128,
  maxPendingBytes: 1 << 20,
  pendingMs: 10_000,
  templateTimeoutMs: 30 * 60_000,
};

export interface PendingSet {
  templateId: number;
  data: Buffer;
  at: number;
  /** Export time (ms) and NetFlow v9 sysUptime of the message the set came in. */
  exportMs: number;
  uptimeMs: number;
}

export class DomainState {
  readonly templates = new Map<number, Template>();
  readonly pending: PendingSet[] = [];
  pendingBytes = 0;
  /** The last message's sequence number and the records it carried (undefined: not trackable). */
  lastSequence: { seq: number; records: number } | undefined;
  /** The exporter's sequence numbers include the message's own records (see trackSequence). */
  sequenceInclusive: boolean | undefined;
  /** Domain-wide sampling rate, and per selector/sampler id, from options data. */
  samplingRate: number | undefined;
  readonly samplingBySelector = new Map<number, number>();
  systemInitMs: number | undefined;
}

export class ExporterStates {
  private readonly exporters = new Map<string, Map<number, DomainState>>();

  constructor(readonly limits: Limits = DEFAULT_LIMITS) {}

  /** The domain's state, or a reason it cannot have one. */
  domain(exporter: string, domain: number): DomainState | 'exporter-limit' | 'domain-limit' {
    let domains = this.exporters.get(exporter);
    if (!domains) {
      if (this.exporters.size >= this.limits.maxExporters) return 'exporter-limit';
      domains = new Map();
      this.exporters.set(exporter, domains);
    }
    let state = domains.get(domain);
    if (!state) {
      if (domains.size >= this.limits.maxDomainsPerExporter) return 'domain-limit';
      state = new DomainState();
      domains.set(domain, state);
    }
    return state;
  }

  /** Forgets an exporter, e.g. when its IPFIX-over-TCP session closes (templates are per session there). */
  forget(exporter: string): void {
    this.exporters.delete(exporter);
  }

  /** Every domain's state, for inspection (tests, diagnostics). */
  *domains(): IterableIterator<DomainState> {
    for (const domains of this.exporters.values()) yield* domains.values();
  }

  get size(): { exporters: number; templates: number; pendingBytes: number } {
    let templates = 0;
    let pendingBytes = 0;
    for (const domains of this.exporters.values()) {
      for (const d of domains.values()) {
        templates += d.templates.size;
        pendingBytes += d.pendingBytes;
      }
    }
    return { exporters: this.exporters.size, templates, pendingBytes };
  }
}
