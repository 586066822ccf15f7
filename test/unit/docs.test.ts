/** The README's generated tables must match the schemas they document, and its test command be what CI runs. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { columnsMarkdown } from '../../core/columns';
import { AlertSchema } from '../../core/records';
import { envMarkdown } from '../../app/config';
import { metricsMarkdown } from '../../app/metrics-doc';
import { FlowSchema } from '../../core/flow';

const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

describe('README', () => {
  it('documents every configuration variable as the schema defines it', () => {
    expect(readme).toContain(envMarkdown());
  });
  it('documents every flows column as the Flow schema defines it', () => {
    expect(readme).toContain(columnsMarkdown(FlowSchema));
  });
  it('documents every alert field as the Alert schema defines it', () => {
    expect(readme).toContain(columnsMarkdown(AlertSchema));
  });
  it('documents every metric as the registry holds it, each with the bound on its series', () => {
    expect(metricsMarkdown()).not.toContain('(unstated)');
    expect(readme).toContain(metricsMarkdown());
  });
  it('starts with the two commands', () => {
    expect(readme).toMatch(/```sh\nnpm ci && npm start .*\nnpm ci && npm test .*\n```/);
  });
  it('gives the test command CI runs: .ci/run runs it verbatim', () => {
    const command = /^([^#\n]*\bnpm test)\s*#/m.exec(readme)?.[1];
    expect(command).toBeDefined();
    expect(readFileSync(path.resolve(__dirname, '../../.ci/run'), 'utf8').split('\n')).toContain(command);
  });
});
