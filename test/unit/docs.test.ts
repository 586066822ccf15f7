/** The README's generated tables must match the schemas they document. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { columnsMarkdown } from '../../core/columns';
import { envMarkdown } from '../../core/config';
import { FlowSchema } from '../../core/flow';

const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

describe('README', () => {
  it('documents every configuration variable as the schema defines it', () => {
    expect(readme).toContain(envMarkdown());
  });
  it('documents every flows column as the Flow schema defines it', () => {
    expect(readme).toContain(columnsMarkdown(FlowSchema));
  });
  it('starts with the two commands', () => {
    expect(readme).toMatch(/```sh\nnpm ci && npm start .*\nnpm ci && npm test .*\n```/);
  });
});
