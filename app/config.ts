/**
 * The whole configuration: core's keys and every module's own section, assembled in one zod schema. Each
 * module receives only its section; this is the one place that knows them all.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { coreConfigShape, envMarkdownOf, envVars, EnvVar, loadConfigWith, redactedWith, section, unknownVariables } from '../core/config';
import { AllocationSourcesConfigSchema } from '../allocations/config';
import { HttpConfigSchema } from '../api/config';
import { WebhooksConfigSchema } from '../alerts/webhooks/config';
import { DetectorsConfigSchema } from '../detectors/config';
import { CollectorConfigSchema, HubbleConfigSchema, LogsConfigSchema } from '../ingest/config';
import { InventoryConfigSchema } from '../inventory/config';
import { WriterConfigSchema } from '../writer/config';

export const ConfigSchema = z.strictObject({
  ...coreConfigShape,
  writer: section(WriterConfigSchema),
  collectors: section(CollectorConfigSchema),
  logs: section(LogsConfigSchema),
  hubble: section(HubbleConfigSchema),
  inventory: section(InventoryConfigSchema),
  allocations: section(AllocationSourcesConfigSchema),
  detectors: section(DetectorsConfigSchema),
  http: section(HttpConfigSchema),
  webhooks: section(WebhooksConfigSchema),
});

export type Config = z.infer<typeof ConfigSchema>;

/** Loads and validates the configuration (defaults < YAML file < environment); throws ConfigError naming each bad key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, file = env.EASTWATCH_CONFIG): Config {
  const cfg = loadConfigWith(ConfigSchema, env, file);
  cfg.home = path.resolve(cfg.home);
  return cfg;
}

/** The config with secrets replaced, for logs and `eastwatch config`. */
export const redacted = (cfg: Config): Config => redactedWith(ConfigSchema, cfg);

/** Every variable of the configuration. */
export const configVars = (): EnvVar[] => envVars(ConfigSchema);

/** Markdown table of the environment variables, for the README. */
export const envMarkdown = (): string => envMarkdownOf(ConfigSchema);

/** EASTWATCH_ variables that are not config leaves: the config file, the crash tests' failpoint, the test script's switch. */
const OTHER_VARIABLES = ['EASTWATCH_CONFIG', 'EASTWATCH_FAILPOINT', 'EASTWATCH_NO_INSTALL'];

/** A warning for every EASTWATCH_ variable eastwatch does not know, with the closest known name. */
export const configWarnings = (env: NodeJS.ProcessEnv): string[] => unknownVariables(ConfigSchema, env, OTHER_VARIABLES)
  .map((u) => `${u.variable} is not an eastwatch variable and is ignored${u.closest ? `; did you mean ${u.closest}?` : ''}`);
