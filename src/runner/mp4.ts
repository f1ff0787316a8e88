// Reading what a downloaded clip really is from its own MP4 header (ISO BMFF boxes): the movie's
// duration from `moov/mvhd` and the frame size from the first video track's `tkhd`. The provider
// charged for the clip, so a wrong length or an unreadable file must be seen, not assumed away.
// Every read is bounds-checked: garbage gives `{ ok: false }`, never an exception.

export type Mp4Probe =
  | { readonly ok: true; readonly duration_s: number; readonly width: number; readonly height: number }
  | { readonly ok: false; readonly reason: string };

interface Box {
  readonly type: string;
  /** Offset of the box's first byte and of its payload, and the end of the box (exclusive). */
  readonly start: number;
  readonly body: number;
  readonly end: number;
}

/** Thrown inside the parser only; probeMp4 turns it into `{ ok: false }`. */
class Malformed extends Error {}

const isTypeChar = (byte: number): boolean => byte >= 0x20 && byte <= 0x7e;

/** The boxes laid end to end in [start, end). */
function readBoxes(view: DataView, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let at = start;
  while (at < end) {
    if (end - at < 8) throw new Malformed(`${end - at} stray byte(s) at offset ${at} where a box header should start`);
    const typeBytes = [4, 5, 6, 7].map((i) => view.getUint8(at + i));
    if (!typeBytes.every(isTypeChar)) throw new Malformed(`no box header at offset ${at} (not an MP4 file, or a damaged one)`);
    const type = String.fromCharCode(...typeBytes);
    let size = view.getUint32(at);
    let body = at + 8;
    if (size === 1) {
      if (end - at < 16) throw new Malformed(`box '${type}' at offset ${at} is cut off in its 64-bit size`);
      const large = view.getBigUint64(at + 8);
      if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw new Malformed(`box '${type}' at offset ${at} declares an impossible size`);
      size = Number(large);
      body = at + 16;
    } else if (size === 0) {
      size = end - at; // "extends to the end of the file"
    }
    if (size < body - at) throw new Malformed(`box '${type}' at offset ${at} declares ${size} bytes, less than its own header`);
    if (at + size > end) {
      throw new Malformed(`box '${type}' at offset ${at} declares ${size} bytes but only ${end - at} remain (the file is truncated)`);
    }
    boxes.push({ type, start: at, body, end: at + size });
    at += size;
  }
  return boxes;
}

const child = (view: DataView, parent: Box, type: string): Box | undefined => readBoxes(view, parent.body, parent.end).find((b) => b.type === type);

/** A full box's version byte, checking that `needed` payload bytes are present. */
function fullBoxVersion(view: DataView, box: Box, needed: readonly [v0: number, v1: number]): 0 | 1 {
  if (box.end - box.body < 4) throw new Malformed(`'${box.type}' box is too short`);
  const version = view.getUint8(box.body);
  if (version !== 0 && version !== 1) throw new Malformed(`'${box.type}' box has unknown version ${version}`);
  if (box.end - box.body < needed[version]) throw new Malformed(`'${box.type}' box (version ${version}) is too short`);
  return version;
}

function movieDuration(view: DataView, mvhd: Box): number {
  // v0: version+flags, creation, modification (4 each), timescale, duration (4); v1: 8-byte times and duration.
  const version = fullBoxVersion(view, mvhd, [20, 32]);
  const timescale = view.getUint32(mvhd.body + (version === 0 ? 12 : 20));
  const duration = version === 0 ? view.getUint32(mvhd.body + 16) : Number(view.getBigUint64(mvhd.body + 24));
  if (timescale === 0) throw new Malformed(`'mvhd' box has a timescale of 0`);
  const unknown = version === 0 ? duration === 0xffffffff : duration >= Number.MAX_SAFE_INTEGER;
  if (unknown) throw new Malformed(`'mvhd' box declares no duration (a fragmented or live MP4)`);
  return duration / timescale;
}

function frameSize(view: DataView, tkhd: Box): { width: number; height: number } {
  // After version+flags and the times/track id/duration (20 or 32 bytes): reserved (8), layer,
  // alternate group, volume, reserved (2 each), matrix (36), then width and height in 16.16.
  const version = fullBoxVersion(view, tkhd, [84, 96]);
  const at = tkhd.body + 4 + (version === 0 ? 20 : 32) + 52;
  return { width: Math.round(view.getUint32(at) / 65536), height: Math.round(view.getUint32(at + 4) / 65536) };
}

function isVideoTrack(view: DataView, trak: Box): boolean {
  const mdia = child(view, trak, 'mdia');
  const hdlr = mdia && child(view, mdia, 'hdlr');
  if (!hdlr || hdlr.end - hdlr.body < 12) return false;
  // version+flags (4), pre_defined (4), then the handler type.
  return String.fromCharCode(...[8, 9, 10, 11].map((i) => view.getUint8(hdlr.body + i))) === 'vide';
}

/** Duration and frame size of an MP4, or why it could not be read. */
export function probeMp4(bytes: Uint8Array): Mp4Probe {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const top = readBoxes(view, 0, bytes.byteLength);
    const moov = top.find((b) => b.type === 'moov');
    if (!moov) return { ok: false, reason: `no 'moov' box (the movie header) among the top-level boxes` };
    const inMoov = readBoxes(view, moov.body, moov.end);
    const mvhd = inMoov.find((b) => b.type === 'mvhd');
    if (!mvhd) return { ok: false, reason: `no 'mvhd' box in 'moov'` };
    const duration_s = movieDuration(view, mvhd);
    const video = inMoov.find((b) => b.type === 'trak' && isVideoTrack(view, b));
    const tkhd = video && child(view, video, 'tkhd');
    if (!tkhd) return { ok: false, reason: `no video track (a 'trak' with a 'vide' handler and a 'tkhd' box)` };
    return { ok: true, duration_s, ...frameSize(view, tkhd) };
  } catch (error) {
    if (error instanceof Malformed) return { ok: false, reason: error.message };
    // DataView reads are bounds-checked above; a RangeError here would be a parser bug, still no crash.
    if (error instanceof RangeError) return { ok: false, reason: `unreadable MP4 structure (${error.message})` };
    throw error;
  }
}

/** Tolerance between the requested and the actual length: providers pad or trim a few frames. */
const DURATION_TOLERANCE_S = 1;

/** Warnings about a downloaded clip compared with what was requested (empty when it matches). */
export function checkClip(probe: Mp4Probe, requestedDuration: string): string[] {
  if (!probe.ok) return [`the video is not a readable MP4: ${probe.reason}`];
  const requested = Number(requestedDuration);
  if (!Number.isFinite(requested) || Math.abs(probe.duration_s - requested) <= DURATION_TOLERANCE_S) return [];
  return [`the video lasts ${probe.duration_s.toFixed(2)} s but ${requestedDuration} s was requested`];
}
