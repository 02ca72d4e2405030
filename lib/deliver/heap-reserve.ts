/**
 * An inert block of old-generation heap, held for the life of a warm deliver function.
 *
 * V8 sets the old generation's next collection limit from what survived the last mark-compact, a little above it
 * when collections are cheap. A deliver function keeps ~20 MB between batches, and Lambda's runtime puts each
 * event's JSON text in the old generation (a 1,000-message event is ~4.6 MB): with a limit that close above, nearly
 * every large batch starts a mark-compact that finishes mid-batch and promotes everything the batch holds at that
 * moment, ~40 ms of marking threads on the function's share of CPU. Held memory raises the limit by as much again
 * times V8's growth factor, while costing a collection nothing to mark: a flat one-byte string has no pointers, and
 * large objects are never moved. Lambda bills the configured memory, not the used.
 */
let reserve: string | undefined;

/** Holds `mb` MiB (once; later calls keep the first reserve). Returns the bytes held. */
export function reserveOldGeneration(mb: number): number {
  if (reserve === undefined && mb > 0) {
    const text = 'x'.repeat(mb * 1024 * 1024);
    // repeat() builds a tree of concatenations; reading it flattens it into one string, which holds the bytes.
    text.charCodeAt(text.length - 1);
    reserve = text;
  }
  return heapReserveBytes();
}

/** Bytes held now. */
export function heapReserveBytes(): number {
  return reserve?.length ?? 0;
}
