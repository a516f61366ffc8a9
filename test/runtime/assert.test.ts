import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assert as invariant, assertNever, InvariantError } from '../../src/runtime/assert.js';

test('assert passes when the condition holds and throws InvariantError with the message when not', () => {
  invariant(true, 'never shown');
  assert.throws(() => invariant(false, 'high watermark moved back'), (error: unknown) => {
    assert.ok(error instanceof InvariantError);
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'InvariantError');
    assert.equal(error.message, 'high watermark moved back');
    return true;
  });
});

test('a message builder runs only when the assertion fails', () => {
  let built = 0;
  const message = () => {
    built++;
    return `built ${built}`;
  };
  invariant(1 + 1 === 2, message);
  assert.equal(built, 0);
  assert.throws(() => invariant(false, message), { name: 'InvariantError', message: 'built 1' });
});

test('assertNever reports the value the types ruled out', () => {
  const Kind = { A: 'a', B: 'b' } as const;
  const describe = (kind: (typeof Kind)[keyof typeof Kind]): string => {
    switch (kind) {
      case Kind.A:
        return 'first';
      case Kind.B:
        return 'second';
      default:
        return assertNever(kind, 'kind');
    }
  };
  assert.equal(describe('a'), 'first');
  assert.throws(() => describe('c' as never), { name: 'InvariantError', message: 'unexpected kind: "c"' });
});
