/**
 * IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) message decoding: pure functions over bytes plus the explicit
 * per-exporter state (templates, pending sets, sampling, sequence) they read and update.
 */
import type { Flow } from '../../core/flow';
import { Decoded, DecodeError, emptyDecoded } from '../decoded';
import { ipv4ToString, ipv6ToString } from '../packet';
import { DomainState, ExporterStates } from './state';
import { compileTemplate, Helpers, newScratch, RecordScratch, Template, TemplateField, VARIABLE_LENGTH } from './template';

export type Protocol = 'ipfix' | 'netflow9';

export interface DecodeContext {
  /** Address the message came from: the exporter. */
  exporter: string;
  now: number;
  states: ExporterStates;
  /** UDP templates expire; TCP templates live as long as the session. */
  transport: 'udp' | 'tcp';
  /** Names for enterprise elements, "PEN.id" → column name. */
  enterpriseNames?: ReadonlyMap<string, string>;
  /** Key of the template state when it is not the exporter address (an IPFIX-over-TCP session). */
  session?: string;
}

const NTP_EPOCH_OFFSET_S = 2208988800; // 1900-01-01 to 1970-01-01
/** The latest time a Flow column holds (year 275760, JavaScript's Date limit). */
const MAX_TIME_MS = 8.64e15;

const helpers: Helpers = {
  ipv4: ipv4ToString,
  ipv6: ipv6ToString,
  uint(buf, o, len) {
    if (len <= 6) return buf.readUIntBE(o, len);
    const hi = buf.readUIntBE(o, len - 4);
    return Math.min(hi * 4294967296 + buf.readUInt32BE(o + len - 4), Number.MAX_SAFE_INTEGER);
  },
  float: (buf, o, len) => (len === 4 ? buf.readFloatBE(o) : buf.readDoubleBE(o)),
  // RFC 7011 §6.1.9/10: NTP timestamps, seconds since 1900 and a 32-bit fraction.
  ntpMs: (buf, o) => (buf.readUInt32BE(o) - NTP_EPOCH_OFFSET_S) * 1000 + Math.floor((buf.readUInt32BE(o + 4) / 4294967296) * 1000),
  hex: (buf, o, len) => buf.toString('hex', o, o + Math.min(len, 2048)),
  text: (buf, o, len) => buf.toString('utf8', o, o + len),
};

const NO_NAMES: ReadonlyMap<string, string> = new Map();

interface Message {
  protocol: Protocol;
  exporter: string;
  now: number;
  exportMs: number;
  /** NetFlow v9 header sysUptime (ms); -1 for IPFIX. */
  uptimeMs: number;
  state: DomainState;
  domain: number;
  out: Decoded;
  records: number;
}

const err = (out: Decoded, reason: string, detail: string): void => void out.errors.push({ reason, detail });

/** Decodes one IPFIX message (for TCP, one message framed by its length field). */
export function decodeIpfix(buf: Buffer, ctx: DecodeContext): Decoded {
  const out = emptyDecoded();
  if (buf.length < 16) return err(out, 'truncated-header', `${buf.length} bytes, IPFIX header needs 16`), out;
  const version = buf.readUInt16BE(0);
  if (version !== 10) return err(out, 'bad-version', `version ${version}, expected 10`), out;
  const length = buf.readUInt16BE(2);
  if (length < 16 || length > buf.length) return err(out, 'bad-length', `message length ${length}, datagram ${buf.length} bytes`), out;
  const domain = buf.readUInt32BE(12);
  const state = ctx.states.domain(ctx.session ?? ctx.exporter, domain, ctx.now, ctx.transport);
  if (typeof state === 'string') return err(out, state, `exporter ${ctx.exporter} domain ${domain} refused`), out;
  const msg: Message = { protocol: 'ipfix', exporter: ctx.exporter, now: ctx.now, exportMs: buf.readUInt32BE(4) * 1000, uptimeMs: -1, state, domain, out, records: 0 };
  const complete = walkSets(buf, 16, length, msg, ctx, (id) => (id === 2 ? 'template' : id === 3 ? 'options' : id >= 256 ? 'data' : 'reserved'));
  // IPFIX sequence numbers count data records: a gap is records lost on the way.
  const seq = buf.readUInt32BE(8);
  trackSequence(state, seq, complete ? msg.records : -1, out);
  checkAdmitted(ctx, out);
  return out;
}

/** Decodes one NetFlow v9 export packet. */
export function decodeNetflow9(buf: Buffer, ctx: DecodeContext): Decoded {
  const out = emptyDecoded();
  if (buf.length < 20) return err(out, 'truncated-header', `${buf.length} bytes, NetFlow v9 header needs 20`), out;
  const version = buf.readUInt16BE(0);
  if (version !== 9) return err(out, 'bad-version', `version ${version}, expected 9`), out;
  const domain = buf.readUInt32BE(16);
  const state = ctx.states.domain(ctx.session ?? ctx.exporter, domain, ctx.now, ctx.transport);
  if (typeof state === 'string') return err(out, state, `exporter ${ctx.exporter} source id ${domain} refused`), out;
  const msg: Message = { protocol: 'netflow9', exporter: ctx.exporter, now: ctx.now, exportMs: buf.readUInt32BE(8) * 1000, uptimeMs: buf.readUInt32BE(4), state, domain, out, records: 0 };
  walkSets(buf, 20, buf.length, msg, ctx, (id) => (id === 0 ? 'template' : id === 1 ? 'options' : id >= 256 ? 'data' : 'reserved'));
  // NetFlow v9 sequence numbers count export packets: a gap is packets lost.
  trackSequence(state, buf.readUInt32BE(12), 1, out);
  checkAdmitted(ctx, out);
  return out;
}

/** A newcomer to a table full of exporters that sent templates keeps its state only by bringing a valid template. */
function checkAdmitted(ctx: DecodeContext, out: Decoded): void {
  if (ctx.states.refused(ctx.session ?? ctx.exporter)) {
    err(out, 'exporter-limit', `exporter ${ctx.exporter} refused: ${ctx.states.limits.maxExporters} exporters that sent templates are active`);
  }
}

/**
 * Sequence gaps. `records` is what this message adds to the exporter's count (-1 when unknown because a set
 * waited for its template). RFC 7011 has the number count the data records sent before the message; some
 * exporters (softflowd 1.1) count the message's own records too. An exporter whose second message matches
 * that reading is tracked that way, so its messages are not all reported as loss.
 */
function trackSequence(state: DomainState, seq: number, records: number, out: Decoded): void {
  const last = state.lastSequence;
  if (last && records >= 0) {
    if (state.sequenceInclusive === undefined && ((last.seq + records) >>> 0) === seq && ((last.seq + last.records) >>> 0) !== seq) {
      state.sequenceInclusive = true;
    }
    const expected = state.sequenceInclusive ? (last.seq + records) >>> 0 : (last.seq + last.records) >>> 0;
    const gap = (seq - expected) >>> 0;
    if (gap > 0 && gap < 0x80000000) out.lost += gap; // a "negative" gap is reordering, not loss
    else if (state.sequenceInclusive === undefined && gap === 0) state.sequenceInclusive = false;
  }
  state.lastSequence = records >= 0 ? { seq, records } : undefined;
}

type SetKind = 'template' | 'options' | 'data' | 'reserved';

/** Walks the sets of a message; returns false when a data set had to wait for its template. */
function walkSets(buf: Buffer, start: number, end: number, msg: Message, ctx: DecodeContext, kindOf: (id: number) => SetKind): boolean {
  let o = start;
  let complete = true;
  expirePending(msg, ctx);
  while (o + 4 <= end) {
    const setId = buf.readUInt16BE(o);
    const setLen = buf.readUInt16BE(o + 2);
    if (setLen < 4) return err(msg.out, 'bad-set-length', `set ${setId} at ${o} has length ${setLen}`), complete;
    if (o + setLen > end) return err(msg.out, 'set-past-end', `set ${setId} at ${o} of ${setLen} bytes ends past the message (${end})`), complete;
    const body = buf.subarray(o + 4, o + setLen);
    const kind = kindOf(setId);
    if (kind === 'template' || kind === 'options') readTemplates(body, setId, kind === 'options', msg, ctx);
    else if (kind === 'data') complete = readData(body, setId, msg, ctx) && complete;
    else err(msg.out, 'reserved-set-id', `set id ${setId} is reserved`);
    o += setLen;
  }
  return complete;
}

function readTemplates(body: Buffer, setId: number, options: boolean, msg: Message, ctx: DecodeContext): void {
  const { state, out } = msg;
  const limits = ctx.states.limits;
  const v9 = msg.protocol === 'netflow9';
  let o = 0;
  while (o + 4 <= body.length) {
    const id = body.readUInt16BE(o);
    const count = body.readUInt16BE(o + 2);
    if (!v9 && count === 0) {
      // RFC 7011 §8.1: withdrawal; the set id as template id withdraws every template of that kind.
      if (id === setId) for (const [tid, t] of state.templates) { if (t.isOptions === options) state.templates.delete(tid); }
      else state.templates.delete(id);
      o += 4;
      continue;
    }
    if (id < 256) return err(out, 'bad-template-id', `template id ${id} is below 256`);
    let scopeCount = 0;
    let fieldCount = count;
    let p = o + 4;
    if (options) {
      if (v9) {
        // v9 options template: scope length and option length in bytes, 4 bytes per field.
        if (o + 6 > body.length) return err(out, 'template-truncated', `options template ${id} header cut`);
        scopeCount = count / 4;
        fieldCount = scopeCount + body.readUInt16BE(o + 4) / 4;
        p = o + 6;
        if (!Number.isInteger(scopeCount) || !Number.isInteger(fieldCount)) return err(out, 'bad-template', `options template ${id} lengths not multiples of 4`);
      } else {
        if (o + 6 > body.length) return err(out, 'template-truncated', `options template ${id} header cut`);
        scopeCount = body.readUInt16BE(o + 4);
        p = o + 6;
        if (scopeCount === 0 || scopeCount > fieldCount) return err(out, 'bad-template', `options template ${id}: ${scopeCount} scope fields of ${fieldCount}`);
      }
    }
    if (fieldCount === 0) return err(out, 'template-zero-fields', `template ${id} has no fields`);
    if (fieldCount > limits.maxFieldsPerTemplate) return err(out, 'template-too-many-fields', `template ${id} has ${fieldCount} fields (limit ${limits.maxFieldsPerTemplate})`);
    const fields: TemplateField[] = [];
    for (let i = 0; i < fieldCount; i++) {
      if (p + 4 > body.length) return err(out, 'template-truncated', `template ${id} field ${i} of ${fieldCount} cut`);
      const raw = body.readUInt16BE(p);
      const length = body.readUInt16BE(p + 2);
      p += 4;
      let enterprise = 0;
      if (!v9 && raw & 0x8000) {
        if (p + 4 > body.length) return err(out, 'template-truncated', `template ${id} enterprise number cut`);
        enterprise = body.readUInt32BE(p);
        p += 4;
      }
      if (v9 && length === VARIABLE_LENGTH) return err(out, 'bad-template', `template ${id}: NetFlow v9 has no variable-length fields`);
      fields.push({ id: v9 ? raw : raw & 0x7fff, length, enterprise });
    }
    o = p;
    const existing = state.templates.get(id);
    if (!existing && state.templates.size >= limits.maxTemplatesPerDomain) {
      // Evict the template data used least recently rather than refuse the new one: a flood of junk template
      // ids must not lock an exporter's live templates out (they are in use, so they stay).
      let victim: Template | undefined;
      for (const t of state.templates.values()) if (!victim || t.usedAt < victim.usedAt) victim = t;
      state.templates.delete(victim!.id);
      err(out, 'template-evicted', `domain ${msg.domain} holds ${limits.maxTemplatesPerDomain} templates: template ${victim!.id} evicted for ${id}`);
    }
    if (existing && sameFields(existing.fields, fields) && existing.isOptions === options) {
      existing.seenAt = ctx.now; // a refresh
      ctx.states.validate(ctx.session ?? ctx.exporter, ctx.now);
      continue;
    }
    let compiled;
    try {
      compiled = compileTemplate(fields, ctx.enterpriseNames ?? NO_NAMES);
    } catch (e) {
      err(out, 'bad-template', `template ${id}: ${(e as Error).message}`);
      continue;
    }
    state.templates.set(id, { id, fields, scopeCount, isOptions: options, seenAt: ctx.now, usedAt: ctx.now, ...compiled });
    ctx.states.validate(ctx.session ?? ctx.exporter, ctx.now);
    replayPending(id, msg, ctx);
  }
  // Fewer than 4 bytes left is padding.
}

const sameFields = (a: TemplateField[], b: TemplateField[]) =>
  a.length === b.length && a.every((f, i) => f.id === b[i]!.id && f.length === b[i]!.length && f.enterprise === b[i]!.enterprise);

function liveTemplate(state: DomainState, id: number, ctx: DecodeContext, out: Decoded): Template | undefined {
  const t = state.templates.get(id);
  if (t && ctx.transport === 'udp' && ctx.now - t.seenAt > ctx.states.limits.templateTimeoutMs) {
    state.templates.delete(id);
    err(out, 'template-expired', `template ${id} not refreshed for ${Math.round((ctx.now - t.seenAt) / 1000)} s`);
    return undefined;
  }
  return t;
}

/** Returns false when the set had to wait for its template. */
function readData(body: Buffer, setId: number, msg: Message, ctx: DecodeContext): boolean {
  const template = liveTemplate(msg.state, setId, ctx, msg.out);
  if (!template) {
    holdPending(body, setId, msg, ctx);
    return false;
  }
  template.usedAt = ctx.now;
  decodeRecords(body, template, msg);
  return true;
}

function decodeRecords(body: Buffer, t: Template, msg: Message): void {
  let o = 0;
  const end = body.length;
  // Records repeat until fewer bytes than the smallest record remain: the rest is padding.
  while (o + t.minLength <= end) {
    const f = newFlow(msg);
    const s = newScratch();
    const next = t.decode(body, o, end, f, s, helpers);
    if (next < 0) return err(msg.out, 'record-truncated', `template ${t.id} record at ${o} runs past its set`);
    o = next;
    msg.records++;
    if (t.isOptions) applyOptions(s, msg.state);
    else finishFlow(f, s, msg);
  }
}

function newFlow(msg: Message): Record<string, unknown> {
  return {
    time_received: msg.now, time_start: 0, time_end: 0,
    source_kind: msg.protocol, exporter_address: msg.exporter, observation_domain: msg.domain, observation_point: 'dpu',
    src_addr: '', dst_addr: '', src_port: 0, dst_port: 0, protocol: 0,
    bytes: null, packets: null, tcp_flags: 0, sampling_rate: 1, direction: 'unknown',
  };
}

function samplingRateOf(s: RecordScratch): number | undefined {
  if (s.samplingInterval > 0) return s.samplingInterval;
  if (s.samplerRandomInterval > 0) return s.samplerRandomInterval;
  if (s.samplingPacketInterval > 0) return (s.samplingPacketInterval + Math.max(0, s.samplingPacketSpace)) / s.samplingPacketInterval;
  return undefined;
}

function applyOptions(s: RecordScratch, state: DomainState): void {
  const rate = samplingRateOf(s);
  if (rate !== undefined) {
    if (s.selectorId >= 0) state.samplingBySelector.set(s.selectorId, rate);
    else state.samplingRate = rate;
  }
  if (s.systemInitMs >= 0 && s.systemInitMs <= MAX_TIME_MS) state.systemInitMs = s.systemInitMs;
}

function finishFlow(f: Record<string, unknown>, s: RecordScratch, msg: Message): void {
  const { state, out } = msg;
  if (f.src_addr === '' || f.dst_addr === '') {
    return err(out, 'record-without-addresses', `template record has no IP source and destination`);
  }
  const rate = samplingRateOf(s) ?? (s.selectorId >= 0 ? state.samplingBySelector.get(s.selectorId) : undefined) ?? state.samplingRate ?? 1;
  f.sampling_rate = Math.max(1, Math.min(Math.round(rate), 0xffffffff));
  if (f.bytes === null && s.octetTotal >= 0) f.bytes = s.octetTotal;
  if (f.packets === null && s.packetTotal >= 0) f.packets = s.packetTotal;
  const [start, end] = flowTimes(s, msg);
  f.time_start = start;
  f.time_end = end;
  out.flows.push(f as Flow);
}

/** The flow's start and end in ms since epoch, from whichever of the time forms the record carries. */
function flowTimes(s: RecordScratch, msg: Message): [number, number] {
  const uptimeBase = s.systemInitMs >= 0 ? s.systemInitMs
    : msg.state.systemInitMs !== undefined ? msg.state.systemInitMs
      : msg.uptimeMs >= 0 ? msg.exportMs - msg.uptimeMs : -1;
  const pick = (ms: number, sec: number, ntp: number, deltaUs: number, uptime: number): number =>
    ms >= 0 ? ms
      : ntp >= 0 ? ntp
        : sec >= 0 ? sec * 1000
          : deltaUs >= 0 ? msg.exportMs - Math.floor(deltaUs / 1000)
            : uptime >= 0 && uptimeBase >= 0 ? uptimeBase + uptime : -1;
  // A time no clock could show (a hostile or broken exporter) counts as absent.
  const plausible = (t: number) => (t >= 0 && t <= MAX_TIME_MS ? t : -1);
  let start = plausible(pick(s.startMs, s.startSec, s.startNtp, s.startDeltaUs, s.startUptime));
  let end = plausible(pick(s.endMs, s.endSec, s.endNtp, s.endDeltaUs, s.endUptime));
  if (end < 0 && start >= 0 && s.durationMs >= 0) end = start + s.durationMs;
  if (start < 0 && end >= 0 && s.durationMs >= 0) start = end - s.durationMs;
  if (end < 0) end = msg.exportMs;
  if (start < 0 || start > end) start = end;
  return [Math.max(0, start), Math.max(0, end)];
}

function holdPending(body: Buffer, templateId: number, msg: Message, ctx: DecodeContext): void {
  const { state } = msg;
  const limits = ctx.states.limits;
  if (state.pending.length >= limits.maxPendingSets || state.pendingBytes + body.length > limits.maxPendingBytes) {
    return err(msg.out, 'template-missing', `data set for unknown template ${templateId} dropped: pending buffer full`);
  }
  // Copy: the datagram's buffer is reused by the socket layer.
  state.pending.push({ templateId, data: Buffer.from(body), at: ctx.now, exportMs: msg.exportMs, uptimeMs: msg.uptimeMs });
  state.pendingBytes += body.length;
}

function replayPending(templateId: number, msg: Message, ctx: DecodeContext): void {
  const { state } = msg;
  for (let i = 0; i < state.pending.length;) {
    const p = state.pending[i]!;
    if (p.templateId !== templateId) { i++; continue; }
    state.pending.splice(i, 1);
    state.pendingBytes -= p.data.length;
    const t = state.templates.get(templateId)!;
    decodeRecords(p.data, t, { ...msg, exportMs: p.exportMs, uptimeMs: p.uptimeMs, records: 0 });
  }
}

function expirePending(msg: Message, ctx: DecodeContext): void {
  const { state } = msg;
  while (state.pending.length > 0 && ctx.now - state.pending[0]!.at > ctx.states.limits.pendingMs) {
    const p = state.pending.shift()!;
    state.pendingBytes -= p.data.length;
    err(msg.out, 'template-missing', `data set for template ${p.templateId} dropped after ${ctx.states.limits.pendingMs} ms without its template`);
  }
}

export type { DecodeError };
