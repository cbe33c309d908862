import { createHash } from 'node:crypto';
import type { AslDefinition } from './asl';

/** A journey's version is the hash of its compiled definition: any change that alters behaviour changes it. */
export function journeyVersion(asl: AslDefinition): string {
  return createHash('sha256').update(JSON.stringify(asl)).digest('hex').slice(0, 12);
}
