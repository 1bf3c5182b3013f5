import type * as generated from '../generated/sdk.gen.js';
import { OPERATIONS } from '../surface.gen.js';
import type { OGRecords } from './client.js';

type MethodPath = {
  [Namespace in keyof OGRecords]: OGRecords[Namespace] extends object
    ? `${Namespace}.${Extract<keyof OGRecords[Namespace], string>}`
    : never;
}[keyof OGRecords];

/**
 * Where each operation of the API lives on the client (`operationId → "resource.method"`), generated from
 * codegen/surface.yaml — the Python SDK's names too. The `satisfies` makes the build fail when an operation of the
 * spec has no entry, or when an entry names a method the client does not have.
 */
const CHECKED = OPERATIONS satisfies Record<keyof typeof generated, MethodPath>;
export { CHECKED as OPERATIONS };
