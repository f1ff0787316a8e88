// Reading what a downloaded clip really is from its own MP4 header (ISO BMFF boxes): the movie's
// duration from `moov/mvhd`, and of the first video track the frame size (`tkhd`), the codec (the
// first sample entry of `stsd`), the frame count (`stts`, checked against `stsz`) and the frame
// rate (frames over the track's own duration, `mdhd`). The provider charged for the clip, so a
// wrong length or an unreadable file must be seen, not assumed away. Every read is bounds-checked:
// garbage gives `{ ok: false }`, never an exception. probeMp4File does the same from a file on disk
// reading only the top-level box headers and `moov`, so a clip of any size is probed in little memory.

export interface Mp4Info {
  readonly duration_s: number;
  readonly width: number;
  readonly height: number;
  /** Frames per second, to 3 decimals (an average when frame durations vary). */
  readonly fps: number;
  /** The sample entry's four-character code, e.g. `avc1` (H.264), `hvc1`/`hev1` (H.265), `av01`. */
  readonly codec: string;
  readonly frames: number;
}

export type Mp4Probe = ({ readonly ok: true } & Mp4Info) | { readonly ok: false; readonly reason: string };

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

/**
 * The box whose header starts at `at`, checked against `end` (where its parent, or the file, ends);
 * `origin` is where the view starts in the file, for the messages.
 */
function boxAt(view: DataView, at: number, end: number, origin = 0): Box {
  const where = origin + at;
  if (end - at < 8) throw new Malformed(`${end - at} stray byte(s) at offset ${where} where a box header should start`);
  const typeBytes = [4, 5, 6, 7].map((i) => view.getUint8(at + i));
  if (!typeBytes.every(isTypeChar)) throw new Malformed(`no box header at offset ${where} (not an MP4 file, or a damaged one)`);
  const type = String.fromCharCode(...typeBytes);
  let size = view.getUint32(at);
  let body = at + 8;
  if (size === 1) {
    if (end - at < 16) throw new Malformed(`box '${type}' at offset ${where} is cut off in its 64-bit size`);
    const large = view.getBigUint64(at + 8);
    if (large > BigInt(Number.MAX_SAFE_INTEGER)) throw new Malformed(`box '${type}' at offset ${where} declares an impossible size`);
    size = Number(large);
    body = at + 16;
  } else if (size === 0) {
    size = end - at; // "extends to the end of the file"
  }
  if (size < body - at) throw new Malformed(`box '${type}' at offset ${where} declares ${size} bytes, less than its own header`);
  if (at + size > end) {
    throw new Malformed(`box '${type}' at offset ${where} declares ${size} bytes but only ${end - at} remain (the file is truncated)`);
  }
  return { type, start: at, body, end: at + size };
}

/** The boxes laid end to end in [start, end). */
function readBoxes(view: DataView, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  for (let at = start; at < end; ) {
    const box = boxAt(view, at, end);
    boxes.push(box);
    at = box.end;
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

/** A box found by its path of types below `parent`, or why not. */
function descend(view: DataView, parent: Box, path: readonly string[]): Box {
  let box = parent;
  for (const type of path) {
    const next = child(view, box, type);
    if (!next) throw new Malformed(`no '${type}' box in the video track's '${box.type}'`);
    box = next;
  }
  return box;
}

/** The track's timescale and duration from `mdhd` (same layout as mvhd up to the duration). */
function mediaTime(view: DataView, mdhd: Box): { timescale: number; duration: number } {
  const version = fullBoxVersion(view, mdhd, [20, 32]);
  const timescale = view.getUint32(mdhd.body + (version === 0 ? 12 : 20));
  const duration = version === 0 ? view.getUint32(mdhd.body + 16) : Number(view.getBigUint64(mdhd.body + 24));
  if (timescale === 0) throw new Malformed(`'mdhd' box has a timescale of 0`);
  return { timescale, duration };
}

/** The first sample entry's type in `stsd`: version+flags (4), entry count (4), then the entry box. */
function codecOf(view: DataView, stsd: Box): string {
  if (stsd.end - stsd.body < 8) throw new Malformed(`'stsd' box is too short`);
  if (view.getUint32(stsd.body + 4) === 0) throw new Malformed(`'stsd' box lists no sample entry`);
  const [entry] = readBoxes(view, stsd.body + 8, stsd.end);
  if (!entry) throw new Malformed(`'stsd' box lists no sample entry`);
  return entry.type;
}

/** Frames and their total duration (in the track's timescale) from `stts`: (count, delta) pairs. */
function timeToSample(view: DataView, stts: Box): { frames: number; ticks: number } {
  if (stts.end - stts.body < 8) throw new Malformed(`'stts' box is too short`);
  const entries = view.getUint32(stts.body + 4);
  if (entries > (stts.end - stts.body - 8) / 8) throw new Malformed(`'stts' box declares ${entries} entries but holds fewer`);
  let frames = 0;
  let ticks = 0;
  for (let i = 0; i < entries; i++) {
    const count = view.getUint32(stts.body + 8 + i * 8);
    frames += count;
    ticks += count * view.getUint32(stts.body + 12 + i * 8);
  }
  return { frames, ticks };
}

/** The sample count of `stsz` (version+flags, sample size, sample count). */
function sampleCount(view: DataView, stsz: Box): number {
  if (stsz.end - stsz.body < 12) throw new Malformed(`'stsz' box is too short`);
  return view.getUint32(stsz.body + 8);
}

/** Codec, frame count and frame rate of a video track. */
function trackInfo(view: DataView, trak: Box): Pick<Mp4Info, 'fps' | 'codec' | 'frames'> {
  const mdia = descend(view, trak, ['mdia']);
  const media = mediaTime(view, descend(view, mdia, ['mdhd']));
  const stbl = descend(view, mdia, ['minf', 'stbl']);
  const codec = codecOf(view, descend(view, stbl, ['stsd']));
  const { frames, ticks } = timeToSample(view, descend(view, stbl, ['stts']));
  const stsz = child(view, stbl, 'stsz');
  if (stsz && sampleCount(view, stsz) !== frames) throw new Malformed(`the sample tables disagree: 'stts' counts ${frames} frames, 'stsz' ${sampleCount(view, stsz)}`);
  if (frames === 0) throw new Malformed(`the video track has no frames`);
  // mdhd's duration is the track's length; a muxer that left it 0 still wrote every frame's in stts.
  const length = (media.duration > 0 && media.duration < 0xffffffff ? media.duration : ticks) / media.timescale;
  if (length <= 0) throw new Malformed(`the video track has no duration`);
  return { codec, frames, fps: Math.round((frames / length) * 1000) / 1000 };
}

function isVideoTrack(view: DataView, trak: Box): boolean {
  const mdia = child(view, trak, 'mdia');
  const hdlr = mdia && child(view, mdia, 'hdlr');
  if (!hdlr || hdlr.end - hdlr.body < 12) return false;
  // version+flags (4), pre_defined (4), then the handler type.
  return String.fromCharCode(...[8, 9, 10, 11].map((i) => view.getUint8(hdlr.body + i))) === 'vide';
}

/** What `moov` (in `view`) says of the movie: its header, then its first video track. */
function probeMoov(view: DataView, moov: Box): Mp4Probe {
  const inMoov = readBoxes(view, moov.body, moov.end);
  const mvhd = inMoov.find((b) => b.type === 'mvhd');
  if (!mvhd) return { ok: false, reason: `no 'mvhd' box in 'moov'` };
  const duration_s = movieDuration(view, mvhd);
  const video = inMoov.find((b) => b.type === 'trak' && isVideoTrack(view, b));
  const tkhd = video && child(view, video, 'tkhd');
  if (!video || !tkhd) return { ok: false, reason: `no video track (a 'trak' with a 'vide' handler and a 'tkhd' box)` };
  return { ok: true, duration_s, ...frameSize(view, tkhd), ...trackInfo(view, video) };
}

const NO_MOOV: Mp4Probe = { ok: false, reason: `no 'moov' box (the movie header) among the top-level boxes` };

/** What malformed input threw, as `{ ok: false }`. */
function failedProbe(error: unknown): Mp4Probe {
  if (error instanceof Malformed) return { ok: false, reason: error.message };
  // DataView reads are bounds-checked above; a RangeError here would be a parser bug, still no crash.
  if (error instanceof RangeError) return { ok: false, reason: `unreadable MP4 structure (${error.message})` };
  throw error;
}

/** Duration, frame size, codec, frame count and rate of an MP4, or why it could not be read. */
export function probeMp4(bytes: Uint8Array): Mp4Probe {
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const moov = readBoxes(view, 0, bytes.byteLength).find((b) => b.type === 'moov');
    return moov ? probeMoov(view, moov) : NO_MOOV;
  } catch (error) {
    return failedProbe(error);
  }
}

/** Reads up to `length` bytes of a file at `position` (fewer only at its end). */
export type ReadAt = (position: number, length: number) => Promise<Uint8Array>;

/**
 * A `moov` box larger than this is not read (a 10-minute clip's is a few hundred KB): the probe
 * holds only the movie header in memory, never the media data.
 */
export const MAX_MOOV_BYTES = 64 * 1024 * 1024;

/**
 * probeMp4 for a file on disk of `size` bytes: walks the top-level box headers (16 bytes read
 * each), then reads only `moov`, so a clip of any size is checked in bounded memory.
 */
export async function probeMp4File(read: ReadAt, size: number): Promise<Mp4Probe> {
  try {
    let moov: Box | undefined;
    for (let at = 0; at < size; ) {
      const head = await read(at, 16);
      const box = boxAt(new DataView(head.buffer, head.byteOffset, head.byteLength), 0, size - at, at);
      if (box.type === 'moov' && !moov) moov = { ...box, start: at, body: at + box.body, end: at + box.end };
      at += box.end;
    }
    if (!moov) return NO_MOOV;
    const length = moov.end - moov.start;
    if (length > MAX_MOOV_BYTES) return { ok: false, reason: `the 'moov' box is ${length} bytes, more than the ${MAX_MOOV_BYTES} this check reads` };
    const bytes = await read(moov.start, length);
    if (bytes.length < length) throw new Malformed(`the file ended inside its 'moov' box`);
    return probeMoov(new DataView(bytes.buffer, bytes.byteOffset, length), { ...moov, start: 0, body: moov.body - moov.start, end: length });
  } catch (error) {
    return failedProbe(error);
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
