import type { Conversion } from './series.ts';

/** One conversion from several (job series and converted metrics): points and warnings in order, families once. */
export function mergeConversions(...parts: Conversion[]): Conversion {
  const merged: Conversion = { families: [], points: [] };
  const familyNames = new Set<string>();
  const warnings: string[] = [];
  for (const part of parts) {
    for (const f of part.families) {
      if (!familyNames.has(f.name)) {
        familyNames.add(f.name);
        merged.families.push(f);
      }
    }
    // A loop, not push(...points): spreading 100k+ arguments overflows the stack.
    for (const p of part.points) merged.points.push(p);
    for (const w of part.warnings ?? []) warnings.push(w);
    if (part.jobEnded) merged.jobEnded = true;
  }
  if (warnings.length > 0) merged.warnings = warnings;
  return merged;
}
