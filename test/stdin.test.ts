/**
 * Standard input is read only where the user asked for it, as bytes, and `-` means stdin for an
 * input file and stdout for an output path in every command. The CLI tests need `npm run build`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { commands } from '../src/commands/index.js';

describe('positional arguments never read stdin', () => {
  test('every argument of every command sets ignoreStdin (oclif would fill a missing one from a pipe)', () => {
    const missing: string[] = [];
    for (const [id, command] of Object.entries(commands)) {
      for (const [name, arg] of Object.entries((command as { args?: Record<string, { ignoreStdin?: boolean }> }).args ?? {})) {
        if (arg.ignoreStdin !== true) missing.push(`${id} ${name}`);
      }
    }
    assert.deepEqual(missing, []);
  });
});
