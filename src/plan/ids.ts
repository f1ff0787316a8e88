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
    return `{${members(object, Object.keys(object).sort())}}`;
  }
  return JSON.stringify(value);
}

/** The canonical `"key":value` members of `object` for `keys` (already sorted), comma-separated. */
function members(object: Readonly<Record<string, unknown>>, keys: readonly string[]): string {
  let out = '';
  for (const key of keys) {
    if (object[key] === undefined) continue;
    out += `${out ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(object[key])}`;
  }
  return out;
}

/** One-shot hashing: no Hash object per call, which a 100,000-job plan notices. */
export function sha256Hex(text: string | Uint8Array): string {
  return hash('sha256', text, 'hex');
}

/** What identifies an image: a local file by its content alone, a URL by its text. */
export function imageIdentity(ref: ImageRef): { sha256: string } | { url: string } {
  return ref.kind === 'file' ? { sha256: ref.sha256 } : { url: ref.url };
}

/** The fields besides `image` as they identify a job: image references reduced to their identity. */
function othersIdentity(fields: Omit<JobRequest, 'image'>): Readonly<Record<string, unknown>> {
  if (!fields.image_tail && !fields.static_mask && !fields.dynamic_masks) return fields;
  return {
    ...fields,
    image_tail: fields.image_tail && imageIdentity(fields.image_tail),
    static_mask: fields.static_mask && imageIdentity(fields.static_mask),
    dynamic_masks: fields.dynamic_masks?.map((m) => ({ ...m, mask: imageIdentity(m.mask) })),
  };
}

/** The request as it identifies a job: image references reduced to their identity (an end-frame-only job has no `image`, and its text no key for it). */
export function identityOf(request: JobRequest): unknown {
  return { ...othersIdentity(request), image: request.image && imageIdentity(request.image) };
}

/** Canonical text of an image's identity; an image is one object however many jobs use it. */
const imageTexts = new WeakMap<ImageRef, string>();
function imageText(image: ImageRef): string {
  let text = imageTexts.get(image);
  if (text === undefined) imageTexts.set(image, (text = canonicalJson(imageIdentity(image))));
  return text;
}

/**
 * canonicalJson(identityOf(request)) for every `image` with the same other fields: their text is
 * made once, and each image's slotted into its sorted place. One matrix combination over a
 * folder of 1,000 images is one text and 1,000 joins, not 1,000 canonicalisations. An
 * end-frame-only entry slots its images as `image_tail` (`fields` then has neither image).
 */
export function identityAround(fields: Omit<JobRequest, 'image'>, slot: 'image' | 'image_tail' = 'image'): (image: ImageRef) => string {
  const identity = othersIdentity(fields);
  const keys = Object.keys(identity).sort();
  const head = members(identity, keys.filter((key) => key < slot));
  const tail = members(identity, keys.filter((key) => key > slot));
  const open = `{${head}${head ? ',' : ''}"${slot}":`;
  const close = `${tail ? ',' : ''}${tail}}`;
  return (image) => `${open}${imageText(image)}${close}`;
}

/** canonicalJson(identityOf(request)), computed once per request: repeats of it share the text. */
export function requestIdentity(request: JobRequest): string {
  if (request.image === undefined) return canonicalJson(identityOf(request));
  return identityAround(request)(request.image);
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
  // One flat string (a template literal makes a pair of pieces): a plan holds one per job.
  return ['kr-', id.slice(0, 24)].join('');
}
