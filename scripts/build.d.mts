// Types for scripts/build.mjs, which stays plain JavaScript so `npm run build` needs nothing but Node and esbuild.

export declare const FUNCTIONS: readonly ['ingest', 'deliver'];
export declare const MAX_BUNDLE_BYTES: number;

export interface Bundle {
  name: string;
  file: string;
  bytes: number;
  /** The inputs that take the most room in the bundle, largest first: [path, bytes]. */
  largest: Array<[string, number]>;
}

export declare function buildFunctions(options?: { outdir?: string }): Promise<Bundle[]>;
export declare function smokeTest(name: string, file: string): { ok: boolean; output: string };
