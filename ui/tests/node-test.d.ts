// The little of Node's test runner the UI tests use (no @types/node in this package).
declare module "node:test" {
  export default function test(name: string, fn: () => void | Promise<void>): void;
}
declare module "node:assert/strict" {
  interface Assert {
    equal(actual: unknown, expected: unknown, message?: string): void;
    deepEqual(actual: unknown, expected: unknown, message?: string): void;
    ok(value: unknown, message?: string): void;
    match(value: string, re: RegExp, message?: string): void;
    doesNotMatch(value: string, re: RegExp, message?: string): void;
    rejects(promise: Promise<unknown>, check?: (e: never) => boolean, message?: string): Promise<void>;
  }
  const assert: Assert;
  export default assert;
}
