/**
 * Bearer-token authentication and roles for the API scope. Every route there names the least role it needs
 * (`config: { role }`); a route without one is refused when it is added, so no route is open by mistake.
 * No token or an unknown one answers 401, a token of too low a role 403.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiRole, Principal, roleAtLeast, TokenVerifier } from './tokens';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a route needs. */
    role?: ApiRole;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface AuthOptions {
  tokens: TokenVerifier;
}

const problem = (reply: FastifyReply, statusCode: number, message: string) =>
  reply.code(statusCode).send({ statusCode, error: statusCode === 401 ? 'Unauthorized' : 'Forbidden', message });

/** The principal of an authenticated request (its route needed a role, so it has one). */
export const principalOf = (req: FastifyRequest): Principal => req.principal!;

export const auth = fp<AuthOptions>(async (app, o) => {
  app.addHook('onRoute', (route) => {
    if (!route.config?.role) throw new Error(`API route ${route.method} ${route.url} names no role`);
  });
  app.addHook('onRequest', async (req, reply) => {
    const need = req.routeOptions.config.role;
    if (!need) return; // the 404 handler
    const m = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    const principal = m ? o.tokens.verify(m[1]!) : undefined;
    if (!principal) {
      reply.header('www-authenticate', 'Bearer realm="eastwatch"');
      return problem(reply, 401, m ? 'the bearer token is not valid (unknown, revoked or expired)' : 'this API needs a bearer token: eastwatch tokens create --role viewer|analyst|admin');
    }
    if (!roleAtLeast(principal.role, need)) return problem(reply, 403, `this needs the ${need} role; token ${principal.name} has ${principal.role}`);
    req.principal = principal;
  });
}, { name: 'eastwatch-auth' });
