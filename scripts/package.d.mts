// Types for scripts/package.mjs.

export declare class PackageError extends Error {
  stage: string;
  exitCode: number | null;
  output: string;
}

export declare function offlineEnv(region: string): Record<string, string>;

export interface PackageOptions {
  stage: string;
  outdir: string;
  region?: string;
  params?: Record<string, string | number | boolean>;
  /** Run the CLI in a network namespace with no interfaces (`unshare -n`), proving it needs no network. */
  isolateNetwork?: boolean;
}

/** The parsed CloudFormation update-stack template. */
export declare function packageStage(options: PackageOptions): Promise<any>;
