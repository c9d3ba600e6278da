// The one error every component builder throws: what failed, in which folder, and what to do.
// When a toolchain is missing it also carries the packages to install, so `tessera component
// build` can print the exact command.

/** Packages that provide a missing toolchain, and the package manager that installs them. */
export interface MissingToolchain {
  manager: 'apt' | 'npm';
  packages: readonly string[];
  /** Where the command must run (npm installs into the folder it runs in). */
  folder?: string;
}

/** The command that installs a missing toolchain, e.g. `apt-get install clang lld ...`. */
export function installCommand(missing: MissingToolchain): string {
  const install = missing.manager === 'apt' ? 'apt-get install' : 'npm install --save-dev';
  return `${install} ${missing.packages.join(' ')}`;
}

/** The command in backticks, and the folder to run it in when it matters. */
export function installAdvice(missing: MissingToolchain): string {
  return `\`${installCommand(missing)}\`${missing.folder === undefined ? '' : ` in ${missing.folder}`}`;
}

export class ComponentBuildError extends Error {
  override name = 'ComponentBuildError';
  /** Set when the build could not start because a toolchain is absent. */
  readonly missing: MissingToolchain | undefined;

  constructor(message: string, options: { missing?: MissingToolchain; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.missing = options.missing;
  }

  /** A toolchain is absent: `what` names it, and the message ends with the install command. */
  static missingToolchain(what: string, missing: MissingToolchain): ComponentBuildError {
    return new ComponentBuildError(`${what}; install it with ${installAdvice(missing)}`, { missing });
  }
}
