/** Golden files of the encoders: bytes as hex (32 bytes a line), strings as they are. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const GOLDEN_DIR = fileURLToPath(new URL('../../fixtures/golden/', import.meta.url));

export function readGoldenHex(file: string): string {
  return readFileSync(GOLDEN_DIR + file, 'utf8').replace(/\s+/g, '');
}

export function writeGoldenHex(file: string, bytes: Uint8Array): void {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
  writeFileSync(GOLDEN_DIR + file, (hex.match(/.{1,64}/g) ?? []).join('\n') + '\n');
}

export function readGoldenText(file: string): string {
  return readFileSync(GOLDEN_DIR + file, 'utf8');
}
