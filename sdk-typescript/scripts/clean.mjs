// Removes the previous build (portable: no `rm -rf` on Windows).
import { rmSync } from 'node:fs';

for (const folder of ['dist', 'dist-test']) rmSync(new URL(`../${folder}`, import.meta.url), { recursive: true, force: true });
