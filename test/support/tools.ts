// The optional system tools some tests need: Debian's clang for wasm32 (C++ components),
// Debian's Rust toolchain (Rust components), redis-server (pubsub.redis, many sidecars on
// one Redis) and the openssl command (test certificates for mTLS). On a machine without one, the tests that need it are skipped with the Debian
// packages to install (test/support/skip-summary.ts lists them at the end of the run); with
// TESSERA_TEST_REQUIRE_TOOLS=1, as CI runs, a missing tool fails the run instead.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { CPP_PACKAGES } from '../../host/toolchain/cpp.ts';
import { DEBIAN_RUST, RUST_PACKAGES } from '../../host/toolchain/rust.ts';

export type Tool = 'clang' | 'rust' | 'redis' | 'prometheus' | 'openssl';

const TOOLS: Record<Tool, { what: string; packages: readonly string[]; present: () => boolean }> = {
  clang: {
    what: "Debian's clang for wasm32 (C++ components)",
    packages: CPP_PACKAGES.packages,
    present: () => runs('clang++', ['--version']) && isDir('/usr/include/wasm32-wasi') && isDir('/usr/lib/wasm32-wasi'),
  },
  rust: {
    what: "Debian's Rust toolchain for wasm32 (Rust components)",
    packages: RUST_PACKAGES.packages,
    present: () => {
      if (!executable(DEBIAN_RUST.cargo) || !executable(DEBIAN_RUST.rustc)) return false;
      const sysroot = spawnSync(DEBIAN_RUST.rustc, ['--print', 'sysroot'], { encoding: 'utf8' });
      return sysroot.status === 0 && isDir(join(sysroot.stdout.trim(), 'lib', 'rustlib', 'wasm32-unknown-unknown', 'lib'));
    },
  },
  redis: { what: 'redis-server', packages: ['redis-server'], present: () => runs('redis-server', ['--version']) },
  prometheus: { what: "Debian's Prometheus server", packages: ['prometheus'], present: () => runs('prometheus', ['--version']) },
  openssl: { what: 'the openssl command (install the Debian package openssl)', packages: ['openssl'], present: () => runs('openssl', ['version']) },
};

function runs(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Tools a run pretends are missing (`TESSERA_TEST_WITHOUT=clang,redis`), to check what a bare machine sees. */
const pretendMissing = new Set((process.env.TESSERA_TEST_WITHOUT ?? '').split(',').map((t) => t.trim()).filter(Boolean));
const requireTools = process.env.TESSERA_TEST_REQUIRE_TOOLS === '1';

const known = new Map<Tool, boolean>();
export function hasTool(tool: Tool): boolean {
  let present = known.get(tool);
  if (present === undefined) {
    present = !pretendMissing.has(tool) && TOOLS[tool].present();
    known.set(tool, present);
  }
  return present;
}

/** The skip reason of a test needing a missing tool: what it is and the apt-get line. */
export function skipReason(tools: readonly Tool[]): string {
  const packages = [...new Set(tools.flatMap((t) => TOOLS[t].packages))];
  return `needs ${tools.map((t) => TOOLS[t].what).join(' and ')}: apt-get install ${packages.join(' ')}`;
}

const reportedRequired = new Set<Tool>();

/**
 * Options for a `test` or `describe` that needs `tools`: `{ skip: reason }` when one is
 * missing. Under TESSERA_TEST_REQUIRE_TOOLS=1 the test is not skipped, and a failing test
 * names each missing tool instead.
 */
export function needs(...tools: Tool[]): { skip?: string } {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return {};
  if (!requireTools) return { skip: skipReason(missing) };
  for (const tool of missing) {
    if (reportedRequired.has(tool)) continue;
    reportedRequired.add(tool);
    test(`${TOOLS[tool].what} is installed (TESSERA_TEST_REQUIRE_TOOLS=1)`, () => {
      throw new Error(`${TOOLS[tool].what} is missing, and TESSERA_TEST_REQUIRE_TOOLS=1 requires every tool: ${skipReason([tool])}`);
    });
  }
  return {};
}
