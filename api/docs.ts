/** The OpenAPI document, generated from the routes' schemas, served at /docs (Swagger UI) and /docs/json. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { productVersion } from '../core/paths';

const docsPlugin: FastifyPluginAsync = async (app) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'eastwatch API', version: productVersion(), description: 'SOC triage, evidence and incident-response feeds for east-west traffic of AI clusters' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A token from `eastwatch tokens create --role viewer|analyst|admin`' } } },
    },
    // Each API route documents the token and the least role it takes.
    transform: (doc) => {
      const out = jsonSchemaTransform(doc);
      const role = doc.route.config?.role;
      if (role) Object.assign(out.schema, { security: [{ bearer: [] }], 'x-role': role, description: [doc.schema?.description, `Role: ${role} or higher.`].filter(Boolean).join('. ') });
      return out;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, uiConfig: { deepLinking: false } });
};

export const docs = fp(docsPlugin, { name: 'eastwatch-docs' });
