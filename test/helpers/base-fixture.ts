/**
 * Throwaway commands that exercise BaseCommand's envelope and error paths; run under tsx by
 * test/base.test.ts as `node --import tsx test/helpers/base-fixture.ts <name> [args…]`.
 */

import { fileURLToPath } from 'node:url';

import { Flags } from '@oclif/core';

import { BaseCommand } from '../../src/cli/base.js';
import { TreePathError, UsageError } from '../../src/errors.js';

class Big extends BaseCommand<{ small: bigint; big: bigint; negBig: bigint; nested: { list: bigint[] } }> {
  async run() {
    await this.parse(Big);
    this.log('human output is silent under --json');
    return { small: 42n, big: 2n ** 64n, negBig: -(2n ** 60n), nested: { list: [1n, 9007199254740993n] } };
  }
}

class Warns extends BaseCommand<{ ok: boolean }> {
  async run() {
    await this.parse(Warns);
    this.warnUser('first warning');
    this.warn('oclif-style warning');
    return { ok: true };
  }
}

class Boom extends BaseCommand<object> {
  async run(): Promise<object> {
    await this.parse(Boom);
    throw new TypeError('cannot read properties of undefined\nsecond line that might quote input');
  }
}

class Located extends BaseCommand<object> {
  async run(): Promise<object> {
    await this.parse(Located);
    throw new TreePathError('key not found', {
      file: 'secrets.yaml',
      path: ['db', 'hosts', 0, 'password'],
      line: 7,
      col: 3,
      hint: 'list keys with `sealant keys`',
    });
  }
}

class FlagParse extends BaseCommand<object> {
  static override flags = {
    age: Flags.string({
      parse: async (input) => {
        if (!input.startsWith('age1')) throw new UsageError('not an age recipient');
        return input;
      },
    }),
    mode: Flags.string({ options: ['a', 'b'] }),
    one: Flags.boolean({ exclusive: ['two'] }),
    two: Flags.boolean(),
  };
  async run() {
    const { flags } = await this.parse(FlagParse);
    return { age: flags.age ?? null };
  }
}

class Exits extends BaseCommand<object> {
  async run(): Promise<object> {
    await this.parse(Exits);
    this.exit(7);
  }
}

const all = { big: Big, warns: Warns, boom: Boom, located: Located, flagparse: FlagParse, exits: Exits };
const [name, ...argv] = process.argv.slice(2);
const Cmd = all[name as keyof typeof all];
try {
  // A root without commands, so loading the config does not import dist/ (which may not be built).
  await Cmd.run(argv, fileURLToPath(new URL('./fixture-root/package.json', import.meta.url)));
} catch (err) {
  // Only ExitError reaches here (BaseCommand.catch reports everything else).
  if (process.env.FIXTURE_DEBUG) console.error(err);
  const code = (err as { oclif?: { exit?: number } }).oclif?.exit;
  process.exitCode = code ?? 99;
}
