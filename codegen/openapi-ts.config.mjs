// @hey-api/openapi-ts configuration for the TypeScript SDK (`nox -s codegen` runs it).
// The generator wipes `sdk-typescript/src/generated/` on every run; handwritten code lives in `src/lib/`.
import { fileURLToPath } from 'node:url';

const root = (path) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export default {
  input: root('spec/dist/openapi.json'),
  output: {
    // CI generates into a scratch folder (OG_TS_SDK_OUTPUT) and compares it with the committed code.
    path: process.env.OG_TS_SDK_OUTPUT ?? root('sdk-typescript/src/generated'),
    tsConfigPath: root('sdk-typescript/tsconfig.json'),
    importFileExtension: '.js',
  },
  plugins: [
    // The base URL comes from the handwritten client (`baseUrl` option), never from the spec's `servers`.
    { name: '@hey-api/client-fetch', baseUrl: false },
    '@hey-api/typescript',
    '@hey-api/sdk',
  ],
};
