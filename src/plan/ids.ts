// Job identity: a sha256 over the canonical JSON of what would be sent, so ids survive renaming
// image folders, reordering keys and editing comments, and change with anything the provider sees.
import { createHash } from 'node:crypto';
import type { ImageRef, JobRequest } from './schema.js';

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256Hex(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What identifies an image: a local file by its content alone, a URL by its text. */
export function imageIdentity(ref: ImageRef): { sha256: string } | { url: string } {
  return ref.kind === 'file' ? { sha256: ref.sha256 } : { url: ref.url };
}

/** The request as it identifies a job: image references reduced to their identity. */
export function identityOf(request: JobRequest): unknown {
  return {
    ...request,
    image: imageIdentity(request.image),
    image_tail: request.image_tail && imageIdentity(request.image_tail),
    static_mask: request.static_mask && imageIdentity(request.static_mask),
    dynamic_masks: request.dynamic_masks?.map((m) => ({ ...m, mask: imageIdentity(m.mask) })),
  };
}

/** sha256 (hex) of the canonical request, the 1-based repeat index and the manifest's id_salt. */
export function jobId(request: JobRequest, repeat: number, idSalt: string): string {
  return sha256Hex(canonicalJson({ request: identityOf(request), repeat, id_salt: idSalt }));
}

/** What the provider sees as `external_task_id` for attempt 1: 27 characters, within its 32. */
export function externalTaskId(id: string): string {
  return `kr-${id.slice(0, 24)}`;
}
