/**
 * What "weaker" means (`checks/authority.ts`), decided per key path: a rule is weaker than the
 * reference when some key path the reference encrypts stays in clear under it. The suffix cases
 * are exact (checked here against the Selector itself on witness paths); any other difference
 * counts as weaker.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authorityFindings, ruleCovers, sameProtection, weakerProtection } from '../src/checks/authority.js';
import type { EnvironmentConfig } from '../src/config/model.js';
import type { KeyGroup, SopsMetadata } from '../src/format/metadata.js';
import { Selector, type CryptRule } from '../src/format/selectors.js';

const A = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const B = 'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg';

const rule = (field: CryptRule['field'], value: string): CryptRule => ({ field, value });

function group(...age: string[]): KeyGroup {
  return { age: age.map((recipient) => ({ recipient, enc: 'x' })), kms: [], pgp: [], other: [] };
}

function meta(over: Partial<SopsMetadata> = {}): SopsMetadata {
  return {
    keyGroups: [group(A)],
    usesKeyGroups: false,
    shamirThreshold: undefined,
    lastmodified: 'x',
    mac: 'x',
    rule: undefined,
    macOnlyEncrypted: false,
    version: '3.13.2',
    ...over,
  };
}

function env(over: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return { name: 'prod', files: ['**'], groups: [{ age: [A], kms: [] }], ...over };
}

describe('ruleCovers', () => {
  const cases: [CryptRule, CryptRule, boolean, string[]][] = [
    // [file's rule, reference, covers?, a key path the reference encrypts and the file's rule leaves in clear (when not)]
    [rule('unencrypted_suffix', '_unencrypted'), rule('unencrypted_suffix', '_unencrypted'), true, []],
    [rule('unencrypted_suffix', '_really_unencrypted'), rule('unencrypted_suffix', '_unencrypted'), true, []],
    [rule('unencrypted_suffix', '_token'), rule('unencrypted_suffix', '_unencrypted'), false, ['github_token']],
    [rule('unencrypted_suffix', 'ed'), rule('unencrypted_suffix', '_unencrypted'), false, ['seed']],
    [rule('encrypted_suffix', '_secret'), rule('encrypted_suffix', '_secret'), true, []],
    [rule('encrypted_suffix', 'secret'), rule('encrypted_suffix', '_secret'), true, []],
    [rule('encrypted_suffix', '_db_secret'), rule('encrypted_suffix', '_secret'), false, ['api_secret']],
    [rule('encrypted_regex', '^db$'), rule('unencrypted_suffix', '_unencrypted'), false, ['api', 'token']],
    [rule('encrypted_regex', '^(db|api)$'), rule('encrypted_regex', '^(db|api)$'), true, []],
    [rule('encrypted_regex', '^(api|db)$'), rule('encrypted_regex', '^(db|api)$'), false, []],
    [
      rule('unencrypted_suffix', '_unencrypted'),
      rule('encrypted_suffix', '_secret'),
      false,
      ['a_secret', 'b_unencrypted'],
    ],
  ];
  for (const [have, want, covers, witness] of cases) {
    test(`${have.field} ${have.value} vs ${want.field} ${want.value}: ${covers ? 'covers' : 'weaker'}`, () => {
      assert.equal(ruleCovers(have, want), covers);
      if (witness.length > 0) {
        assert.equal(new Selector(want).shouldEncrypt(witness, [[]], false), true);
        assert.equal(new Selector(have).shouldEncrypt(witness, [[]], false), false);
      }
    });
  }
});

describe('weakerProtection and sameProtection', () => {
  test("undefined means SOPS's default on both sides", () => {
    assert.deepEqual(weakerProtection({}, { rule: rule('unencrypted_suffix', '_unencrypted') }, 'x'), []);
    assert.equal(
      sameProtection({}, { rule: rule('unencrypted_suffix', '_unencrypted'), macOnlyEncrypted: false }),
      true,
    );
  });

  test('mac_only_encrypted on where the reference has it off is weaker; off where it is on is not', () => {
    const [f] = weakerProtection({ macOnlyEncrypted: true }, {}, 'environment "prod"');
    assert.deepEqual([f?.kind, f?.field], ['weaker-rule', 'mac_only_encrypted']);
    assert.deepEqual(weakerProtection({}, { macOnlyEncrypted: true }, 'x'), []);
    assert.equal(sameProtection({}, { macOnlyEncrypted: true }), false);
  });

  test('the message names the field and both rules', () => {
    const [f] = weakerProtection({ rule: rule('encrypted_regex', '^db$') }, {}, 'environment "prod"');
    assert.equal(
      f?.message,
      'sops.encrypted_regex "^db$" may leave in clear values that environment "prod" encrypts (it has unencrypted_suffix "_unencrypted" (SOPS\'s default))',
    );
  });
});

describe('authorityFindings', () => {
  test('a file equal to its environment has none; a recipient it lacks is not one', () => {
    assert.deepEqual(authorityFindings(meta(), env()), []);
    assert.deepEqual(authorityFindings(meta(), env({ groups: [{ age: [A, B], kms: [] }] })), []);
  });

  test('a recipient the environment does not name, and stanza types sealant does not manage', () => {
    const m = meta({ keyGroups: [{ ...group(A, B), other: [{ type: 'gcp_kms', count: 1 }] }] });
    assert.deepEqual(
      authorityFindings(m, env()).map((f) => [f.kind, f.field, f.recipient]),
      [
        ['added-recipient', 'key_groups', B],
        ['added-recipient', 'key_groups', 'gcp_kms'],
      ],
    );
    // A .sops.yaml rule that names gcp_kms keys (sealant cannot use them) expects such stanzas.
    assert.deepEqual(
      authorityFindings(m, env({ unsupportedKeys: ['gcp_kms'] })).map((f) => f.recipient),
      [B],
    );
  });

  test("fewer key groups needed than the environment's threshold", () => {
    const prod = env({
      groups: [
        { age: [A], kms: [] },
        { age: [B], kms: [] },
      ],
      shamirThreshold: 2,
    });
    const one = meta({ keyGroups: [group(A, B)] });
    assert.deepEqual(
      authorityFindings(one, prod).map((f) => [f.kind, f.field]),
      [['weaker-threshold', 'shamir_threshold']],
    );
    const lowered = meta({ keyGroups: [group(A), group(B)], usesKeyGroups: true, shamirThreshold: 1 });
    assert.deepEqual(
      authorityFindings(lowered, prod).map((f) => f.field),
      ['shamir_threshold'],
    );
    assert.deepEqual(authorityFindings(meta({ keyGroups: [group(A), group(B)], usesKeyGroups: true }), prod), []);
  });
});
