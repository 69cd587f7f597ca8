import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadUsersFile, parseUsers } from '../../registrar/sip/auth/users.ts';
import { computeHa1 } from '../../registrar/sip/auth/hash.ts';

test('users file: comments, blank lines, passwords with colons and spaces, HA1 entries', () => {
  const md5 = computeHa1('MD5', 'carol', 'sipmeet', 'pw');
  const sha = computeHa1('SHA-256', 'carol', 'sipmeet', 'pw');
  const dir = parseUsers(
    [
      '# sipmeet users',
      '',
      'alice:wonderland',
      '  bob:s3cret:with:colons  ',
      'dave:two words',
      `carol:{MD5}${md5.toUpperCase()},{SHA-256}${sha}`,
      'erin:{not-ha1}',
      '',
    ].join('\r\n'),
  );
  assert.equal(dir.size, 5);
  assert.deepEqual(dir.lookup('alice'), { password: 'wonderland' });
  assert.deepEqual(dir.lookup('bob'), { password: 's3cret:with:colons' });
  assert.deepEqual(dir.lookup('dave'), { password: 'two words' });
  assert.deepEqual(dir.lookup('carol'), { ha1: { MD5: md5, 'SHA-256': sha } });
  assert.deepEqual(dir.lookup('erin'), { password: '{not-ha1}' });
  assert.equal(dir.lookup('mallory'), undefined);
});

test('users file: a bad line is a one-line error naming the file and the line', () => {
  const cases: Array<[string, RegExp]> = [
    ['alice:x\nbob\n', /^users file f\.txt: line 2: expected "username:password"/],
    ['alice:x\n\n:pw\n', /^users file f\.txt: line 3: empty username/],
    ['al ice:pw\n', /^users file f\.txt: line 1: username "al ice" contains whitespace/],
    ['# c\nalice:\n', /^users file f\.txt: line 2: user "alice" has an empty password/],
    ['alice:a\nalice:b\n', /^users file f\.txt: line 2: user "alice" is listed twice/],
    ['carol:{MD5}abcd\n', /^users file f\.txt: line 1: user "carol": \{MD5\} HA1 must be 32 hex digits, got 4/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parseUsers(text, 'f.txt'), (err: Error) => {
      assert.match(err.message, re);
      assert.ok(!err.message.includes('\n'), 'one line');
      return true;
    });
  }
});

test('loadUsersFile reads a file; a missing file is a readable error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sipmeet-users-'));
  try {
    const path = join(dir, 'users');
    writeFileSync(path, 'alice:wonderland\n');
    assert.deepEqual(loadUsersFile(path).lookup('alice'), { password: 'wonderland' });
    assert.throws(() => loadUsersFile(join(dir, 'nope')), /^Error: users file .*nope: cannot read: /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
