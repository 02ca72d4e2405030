// Types for scripts/build.mjs, which stays plain JavaScript so `npm run build` needs nothing but Node and esbuild.

export declare const FUNCTIONS: readonly ['ingest', 'deliver'];
export declare const MAX_BUNDLE_BYTES: number;

export interface Bundle {
  name: string;
  /** The entry Lambda loads: `<outdir>/<name>/index.mjs`. */
  file: string;
  /** What a cold start reads: the entry and the chunks it loads at init (`coldStartFiles`). */
  bytes: number;
  entryBytes: number;
  /** Absolute paths, the entry first. */
  coldStartFiles: string[];
  /** The other chunks, loaded only on the paths that need them. */
  lazyBytes: number;
  /** The inputs that take the most room in what a cold start reads, largest first: [path, bytes]. */
  largest: Array<[string, number]>;
}

export declare function buildFunctions(options?: { outdir?: string }): Promise<Bundle[]>;
export declare function smokeTest(name: string, file: string): { ok: boolean; output: string };
