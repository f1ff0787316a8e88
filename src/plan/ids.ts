// Job identity: a sha256 over the canonical JSON of what would be sent, so ids survive renaming
// image folders, reordering keys and editing comments, and change with anything the provider sees.
import { hash } from 'node:crypto';
import type { ImageRef, JobRequest } from './schema.js';

/**
 * JSON with object keys sorted at every level (by UTF-16 code units) and no whitespace: one text
 * per value. Written as plain loops: it runs for every job, and a 100,000-row plan feels it.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    let out = '{';
    for (const key of Object.keys(object).sort()) {
      if (object[key] === undefined) continue;
      out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(object[key])}`;
    }
    return `${out}}`;
  }
  return JSON.stringify(value);
}

/** One-shot hashing: no Hash object per call, which a 100,000-job plan notices. */
export function sha256Hex(text: string | Uint8Array): string {
  return hash('sha256', text, 'hex');
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

/** canonicalJson(identityOf(request)), computed once per request: repeats of it share the text. */
export function requestIdentity(request: JobRequest): string {
  return canonicalJson(identityOf(request));
}

/**
 * sha256 (hex) of the canonical request, the 1-based repeat index and the manifest's id_salt,
 * i.e. of canonicalJson({ request: identityOf(request), repeat, id_salt }). The text is written
 * out with its keys already in canonical order, so a request's identity is built only once.
 */
export function jobId(request: JobRequest, repeat: number, idSalt: string, identity: string = requestIdentity(request)): string {
  return sha256Hex(`{"id_salt":${JSON.stringify(idSalt)},"repeat":${canonicalJson(repeat)},"request":${identity}}`);
}

/** What the provider sees as `external_task_id` for attempt 1: 27 characters, within its 32. */
export function externalTaskId(id: string): string {
  return `kr-${id.slice(0, 24)}`;
}
