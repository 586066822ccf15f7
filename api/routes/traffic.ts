/** Context for triage: a node's and a job's timelines, top talkers, the zone matrix, a node's allocations. */
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { allocationHistory, jobTimeline, nodeTimeline, TALKER_KEYS, topTalkers, zoneMatrix } from '../queries/traffic';
import type { ApiDeps } from '../server';
import { ErrorSchema, limit, name, WINDOW_INVALID, windowOf, windowShape, windowValid } from '../schemas/common';

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema };
const windowed = <S extends z.ZodRawShape>(extra: S) => z.strictObject({ ...windowShape, ...extra }).refine(windowValid, WINDOW_INVALID);
const span = { since: z.string(), until: z.string() };
const iso = (ms: number) => new Date(ms).toISOString();

const TimelineRowSchema = z.object({
  bucket: z.string().describe('Start of the 5 minutes'), node: z.string().optional().describe('The job\'s node (job timelines)'),
  dir: z.enum(['out', 'in']).describe('out: sent by the node; in: received'), peer: z.string().describe('The other end: its node, else its address'),
  peer_node: z.string().optional(), peer_zone: z.string(), peer_job: z.string().optional(), port: z.number().int(), protocol: z.number().int(),
  flows: z.number().int(), bytes: z.number().describe('Scaled by sampling'),
});

export const trafficRoutes: FastifyPluginAsync<ApiDeps> = async (plain, { store }) => {
  const app = plain.withTypeProvider<ZodTypeProvider>();

  app.get('/nodes/:node/timeline', {
    config: { role: 'viewer' },
    schema: {
      tags: ['context'], summary: "A node's traffic per 5 minutes: who it talked to, when, how much, in which zone",
      params: z.strictObject({ node: name(253) }), querystring: windowed({ limit: limit(10_000, 1000) }),
      response: { 200: z.object({ node: z.string(), ...span, rows: z.array(TimelineRowSchema) }), ...errors },
    },
  }, async (req) => {
    const w = windowOf(req.query);
    return { node: req.params.node, since: iso(w.since), until: iso(w.until), rows: await nodeTimeline(store, req.params.node, w, req.query.limit) };
  });

  app.get('/jobs/:job/timeline', {
    config: { role: 'viewer' },
    schema: {
      tags: ['context'], summary: "A job's traffic per 5 minutes, by its nodes: peers of another job (or none) are outside its allocation",
      params: z.strictObject({ job: name(128) }), querystring: windowed({ limit: limit(10_000, 1000) }),
      response: { 200: z.object({ job: z.string(), ...span, rows: z.array(TimelineRowSchema) }), ...errors },
    },
  }, async (req) => {
    const w = windowOf(req.query);
    return { job: req.params.job, since: iso(w.since), until: iso(w.until), rows: await jobTimeline(store, req.params.job, w, req.query.limit) };
  });

  app.get('/nodes/:node/allocations', {
    config: { role: 'viewer' },
    schema: {
      tags: ['context'], summary: 'The jobs a node held in a window', params: z.strictObject({ node: name(253) }), querystring: windowed({ limit: limit(1000, 100) }),
      response: {
        200: z.object({
          node: z.string(), ...span,
          allocations: z.array(z.object({ job_id: z.string(), pod: z.string().optional(), start: z.string(), end: z.string().optional(), pattern: z.string(), source: z.string() })),
        }),
        ...errors,
      },
    },
  }, async (req) => {
    const w = windowOf(req.query);
    return { node: req.params.node, since: iso(w.since), until: iso(w.until), allocations: await allocationHistory(store, req.params.node, w, req.query.limit) };
  });

  app.get('/traffic/top-talkers', {
    config: { role: 'viewer' },
    schema: {
      tags: ['context'], summary: 'The biggest senders of a window, by node, zone or job',
      querystring: windowed({ by: z.enum(TALKER_KEYS).default('node'), limit: limit(100, 20) }),
      response: {
        200: z.object({ by: z.enum(TALKER_KEYS), ...span, talkers: z.array(z.object({ key: z.string(), zone: z.string().optional(), bytes: z.number(), flows: z.number().int(), peers: z.number().int() })) }),
        ...errors,
      },
    },
  }, async (req) => {
    const w = windowOf(req.query);
    return { by: req.query.by, since: iso(w.since), until: iso(w.until), talkers: await topTalkers(store, req.query.by, w, req.query.limit) };
  });

  app.get('/traffic/zone-matrix', {
    config: { role: 'viewer' },
    schema: {
      tags: ['context'], summary: 'Traffic between every pair of zones in a window', querystring: windowed({}),
      response: { 200: z.object({ ...span, pairs: z.array(z.object({ src_zone: z.string(), dst_zone: z.string(), bytes: z.number(), flows: z.number().int() })) }), ...errors },
    },
  }, async (req) => {
    const w = windowOf(req.query);
    return { since: iso(w.since), until: iso(w.until), pairs: await zoneMatrix(store, w) };
  });
};
