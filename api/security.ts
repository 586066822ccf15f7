/**
 * What every response of the server gets: security headers (helmet), a per-client rate limit on the API, CORS
 * only toward configured origins, and errors that say what was wrong with the request but never leak SQL,
 * stack traces or internals (those go to the log under the request id).
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { Conflict, NotFound, UserError } from '../core/error-text';
import type { HttpConfig } from './config';

/** The body of every error response. */
const problem = (statusCode: number, error: string, message: string) => ({ statusCode, error, message });

const securityPlugin: FastifyPluginAsync<{ cfg: HttpConfig }> = async (app, { cfg }) => {
  await app.register(helmet, {
    // Swagger UI at /docs runs its own scripts and styles from this origin; nothing else is served as a page.
    contentSecurityPolicy: { directives: { 'script-src': ["'self'"], 'style-src': ["'self'", 'https:', "'unsafe-inline'"], 'img-src': ["'self'", 'data:'] } },
  });
  await app.register(rateLimit, { max: cfg.rateLimit, timeWindow: 60_000 });
  if (cfg.corsOrigins.length > 0) await app.register(cors, { origin: cfg.corsOrigins, methods: ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'] });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'request';
      const detail = err.validation.slice(0, 5).map((v) => `${where}${v.instancePath ? v.instancePath.replace(/\//g, '.') : ''}: ${v.message}`).join('; ');
      return reply.code(400).send(problem(400, 'Bad Request', detail));
    }
    if (err instanceof NotFound) return reply.code(404).send(problem(404, 'Not Found', err.message));
    if (err instanceof Conflict) return reply.code(409).send(problem(409, 'Conflict', err.message));
    if (err instanceof UserError) return reply.code(400).send(problem(400, 'Bad Request', err.message));
    // Fastify's own client errors (malformed JSON, body too large, rate limited) say nothing internal.
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send(problem(err.statusCode, err.name === 'FastifyError' ? 'Bad Request' : err.name, err.message));
    }
    req.log.error({ err, url: req.url }, 'request failed');
    return reply.code(500).send(problem(500, 'Internal Server Error', `the request failed; the server log has the detail under request id ${req.id}`));
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send(problem(404, 'Not Found', `no route ${req.method} ${req.url.split('?')[0]}`)));
};

export const security = fp(securityPlugin, { name: 'eastwatch-security' });
