import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** abl-audit's own version, from the package.json beside src/ or dist/. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * Installed versions of the packages a run's results depend on, for reports; a package that cannot be
 * found is left out.
 *
 * @param names - package names.
 * @returns name → version.
 */
export function installedVersions(names: readonly string[]): Record<string, string> {
  const require = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const name of names) {
    try {
      // Resolve the entry point and walk up to the package's own package.json: some packages do not
      // export './package.json'.
      let dir = dirname(require.resolve(name));
      for (let i = 0; i < 6; i++) {
        try {
          const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
            name?: string;
            version?: string;
          };
          if (pkg.name === name && pkg.version) {
            out[name] = pkg.version;
            break;
          }
        } catch {
          // no package.json at this level
        }
        dir = dirname(dir);
      }
    } catch {
      // not installed
    }
  }
  return out;
}
