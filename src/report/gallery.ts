// gallery.html: one static, self-contained page comparing the variants of a batch side by side.
// A pure function of the report (itself a function of plan + journal), so it works for partial
// runs too: pending and in-flight cells say so, and a rerun of `report --html` fills them in.
import { join } from 'node:path';
import { GALLERY_CSS, GALLERY_PAGED_SCRIPT, GALLERY_SCRIPT } from './gallery-assets.js';
import { frameOf } from '../plan/schema.js';
import { type ReportSummary, type StreamedReport, asStream } from './build.js';
import { buildGrid, clipLabels, type ColumnStats, type GalleryColumn, type GalleryGrid, type GalleryRow, type GridJob, type Labels } from './gallery-grid.js';
import { RowFiles, type RowFilesInfo, ROWS_CALLBACK, ROWS_PER_FILE, rowsFileName } from './gallery-rows.js';
import { type SafeHtml, hrefOf, html, trusted } from './html.js';
import { REPORT_STATUSES, type Report, type ReportStatus } from './schema.js';
import { type Rating, RATINGS_FILE, readRatings } from './ratings.js';
import { imageFromOutput } from './source-paths.js';
import { unitPriceText } from './unit-price.js';
import { writeFileAtomic } from './write.js';

export const GALLERY_FILE = 'gallery.html';

const seconds = (s: number | null): string =>
  s === null ? '–' : s < 10 ? `${s.toFixed(1)} s` : s < 600 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
const usd = (n: number | null): string => (n === null ? 'unknown' : `$${n.toFixed(2)}`);
const percent = (n: number | null): string => (n === null ? '–' : `${Math.round(n * 100)}%`);
const statusText = (status: string): string => status.replace(/_/g, ' ');

/** Long values (a prompt sweep) are cut in labels, whole in their tooltip. */
const MAX_LABEL_VALUE = 60;

function labels(pairs: Labels, bold: boolean): SafeHtml[] {
  return pairs.map(([field, value]) => {
    const shown = value.length > MAX_LABEL_VALUE ? `${value.slice(0, MAX_LABEL_VALUE - 1)}…` : value;
    const title = shown === value ? null : html` title="${value}"`;
    return html`<span class="label"${title}><span>${field}</span> ${bold ? html`<b>${shown}</b>` : shown}</span>`;
  });
}

const labelOf = (column: GalleryColumn): SafeHtml[] => (column.label.length === 0 ? [html`<span class="label"><b>all jobs</b></span>`] : labels(column.label, true));

/** What a cell without a video is waiting for, when there is no error to show. */
const WAITING: Partial<Record<ReportStatus, string>> = {
  pending: 'not submitted yet',
  in_flight: 'generating…',
  unconfirmed: 'submit unconfirmed; a rerun reconciles it',
  not_downloaded: 'succeeded; a rerun downloads the video',
  skipped_budget: 'skipped: over the budget',
  timed_out: 'timed out; a rerun checks it again',
  invalid_output: 'the file is not a playable MP4',
};

function placeholder(job: GridJob): SafeHtml {
  const problem = job.error ? `${String(job.error.code)}: ${job.error.message}` : job.warnings.join('\n');
  const error = problem ? html`<p class="error">${problem}</p>` : null;
  return html`<div class="placeholder ${job.status}"><strong>${statusText(job.status)}</strong>${error ?? WAITING[job.status]}</div>`;
}

/**
 * The folder's ratings as the page starts from them, or why ratings.json could not be read (the
 * page then says so and offers no rating, so it never saves over the file).
 */
export type PageRatings = ReadonlyMap<string, Rating> | { readonly error: string };

/**
 * Keep / reject toggles, pressed as the folder's ratings say; the page's script keeps them current.
 * Short markup: a page holds thousands (the keys are told once, above the grid).
 */
function rateButtons(job: GridJob, rating: Rating | undefined): SafeHtml {
  const button = (value: Rating, text: string) => html`<button type="button" data-rating="${value}" aria-pressed="${String(rating === value)}">${text}</button>`;
  return html`<div class="rate" role="group" aria-label="rating of clip ${job.id.slice(0, 8)}">${button('keep', 'Keep')}${button('reject', 'Reject')}</div>`;
}

/** What a clip says of itself to the page's filters and sorts. */
interface ClipPlace {
  readonly column: number;
  readonly fields: readonly string[];
  readonly extra: readonly string[];
  /** Undefined when the page offers no rating (ratings.json could not be read). */
  readonly ratings: ReadonlyMap<string, Rating> | undefined;
}

function clip(job: GridJob, place: ClipPlace): SafeHtml {
  const src = job.status === 'succeeded' && job.video?.path ? hrefOf(job.video.path) : null;
  // The clip's own size when probed, else the source image's (Kling keeps its aspect ratio).
  const image = frameOf(job.params);
  const size = job.video?.width && job.video.height ? job.video : image.kind === 'file' ? image : null;
  const aspect = size ? `aspect-ratio: ${size.width} / ${size.height}` : null;
  const media = src
    ? html`<video src="${src}" muted loop playsinline controls preload="none" style="${aspect}" title="${job.external_task_id ?? job.id}"></video>`
    : placeholder(job);
  const latency = job.latency_s === null ? null : html`<span title="submit to finish">${seconds(job.latency_s)}</span>`;
  const cost = job.cost_usd === null ? null : html`<span title="estimated cost">${usd(job.cost_usd)}</span>`;
  const charged = job.measured_usd === null ? null : html`<span class="charged" title="${chargedTitle(job)}">${usd(job.measured_usd)} charged</span>`;
  const open = src ? html`<a href="${src}" target="_blank" rel="noopener">open</a>` : null;
  const name = job.name ? html`<span>${job.name}</span>` : null;
  const warning = src && job.warnings.length ? html`<span class="warning" title="${job.warnings.join('\n')}">⚠ ${job.warnings.length} warning(s)</span>` : null;
  const own = clipLabels(job, place.fields, place.extra);
  const details = own.length ? html`<div class="details">${labels(own, false)}</div>` : null;
  const rating = place.ratings?.get(job.id);
  const rated = rating ? ` r-${rating}` : '';
  const id = html`<span class="jid">${job.id.slice(0, 8)}</span>`;
  const data = html`data-id="${job.id}" data-status="${job.status}" data-variant="${place.column}" data-latency="${job.latency_s ?? ''}" data-cost="${job.measured_usd ?? job.cost_usd ?? ''}"`;
  // A clip is rated once there is one to watch; a rating given before (klingrun rate) can be cleared.
  const rateable = place.ratings && (src !== null || rating !== undefined);
  return html`<div class="clip${rated}" tabindex="-1" ${data}>${media}<div class="meta"><span class="badge s-${job.status}">${statusText(job.status)}</span>${latency}${cost}${charged}${name}${warning}${id}${open}</div>${details}${
    rateable ? rateButtons(job, rating) : null
  }</div>`;
}

/** What the provider said the task cost, as a clip's tooltip. */
function chargedTitle(job: GridJob): string {
  const units = job.units === null ? 'its list price' : `${job.units} unit(s)`;
  const list = job.list_price == null ? '' : `; list price ${usd(job.list_price)}`;
  return `what the provider says it charged: ${units}${list}`;
}

function row(report: ReportSummary, columns: readonly GalleryColumn[], r: GalleryRow, ratings: ClipPlace['ratings']): SafeHtml {
  const file = r.image.kind === 'file' ? r.image.path : r.image.url;
  // The page sits in the output folder, like every path of the report.
  const src = hrefOf(imageFromOutput(report.manifest.path, r.image));
  const cells = columns.map((c, column) => {
    const jobs = r.cells.get(c.key);
    const place: ClipPlace = { column, fields: r.clipFields, extra: r.clipExtra, ratings };
    return html`<td class="cell">${jobs ? jobs.map((job) => clip(job, place)) : html`<span class="empty">not in this variant</span>`}</td>`;
  });
  const prompt = r.promptVaries
    ? html`<p class="prompt muted">prompt: see each column</p>`
    : r.prompt !== null
      ? html`<p class="prompt">${r.prompt}</p>`
      : html`<p class="prompt muted">no prompt</p>`;
  return html`<tr><th class="source" scope="row">${src ? html`<img src="${src}" alt="" loading="lazy">` : null}<div class="file">${file}</div>${
    r.repeat !== null ? html`<span class="label"><span>repeat</span> <b>${r.repeat}</b></span>` : null
  }${labels(r.details, false)}${labels(r.extra, false)}${prompt}</th>${cells}</tr>`;
}

function statsRow(column: GalleryColumn, s: ColumnStats): SafeHtml {
  const rate = s.success_rate === null ? null : html`<span class="bar"><i style="width: ${Math.round(s.success_rate * 100)}%"></i></span>`;
  return html`<tr><td>${labelOf(column)}</td><td>${s.jobs}</td><td>${s.succeeded}</td><td>${s.failed}</td><td>${percent(s.success_rate)}${rate}</td><td>${seconds(s.latency_p50)}</td><td>${seconds(s.latency_p95)}</td><td>${
    s.usd_per_second !== null ? `$${s.usd_per_second.toFixed(3)}` : s.succeeded > 0 ? 'unknown price' : '–'
  }</td></tr>`;
}

function header(report: ReportSummary): SafeHtml {
  const t = report.totals;
  const counts = REPORT_STATUSES.filter((s) => t[s] > 0).map((s) => html`<li><b>${t[s]}</b>${statusText(s)}</li>`);
  const { cost } = report;
  const unknown = cost.unknown_price_tasks > 0 ? ` + ${cost.unknown_price_tasks} task(s) of unknown price` : '';
  const possible = cost.possible_usd > 0 ? html`<li><b>${usd(cost.possible_usd)}</b>possible</li>` : '';
  const adopted = cost.certain_adopted_usd
    ? html`<li title="tasks made by a run from another folder or machine with the same ids: paid before, not by this folder"><b>${usd(cost.certain_adopted_usd)}</b>of it adopted</li>`
    : '';
  const measured = cost.measured_jobs > 0 ? html`<li title="at ${unitPriceText(cost.unit_price)}"><b>${usd(cost.measured_usd)}</b>charged (${cost.measured_jobs} job(s))</li>` : '';
  const when = report.started_at ? ` · run ${report.started_at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` : '';
  return html`<h1>${report.manifest.name}</h1><div class="sub">${report.manifest.path} · klingrun ${report.tool.version}${when}</div>
<ul class="totals"><li><b>${t.jobs}</b>jobs</li>${counts}<li><b>${usd(cost.certain_usd)}</b>certain${unknown}</li>${adopted}${possible}${measured}</ul>`;
}

/**
 * Clips on one page, in whole rows: a browser shows a few thousand videos, not 100,000 (nor can
 * the page be built in little memory: 100,000 clips are ~100 MB of HTML). The variants table
 * still counts every job, and report.json lists them all.
 */
export const GALLERY_MAX_CLIPS = 5_000;

/** Says how much of the grid a capped page shows; null when it shows all of it. */
function capNote(grid: GalleryGrid): SafeHtml | null {
  if (grid.rows.length === grid.rowCount) return null;
  const clips = grid.rows.reduce((sum, r) => sum + [...r.cells.values()].reduce((n, jobs) => n + jobs.length, 0), 0);
  return html`<p class="muted">Showing the first ${grid.rows.length} of ${grid.rowCount} rows (${clips} of ${grid.clipCount} clips): a page of every clip would be too big for a browser. The variants table counts every job, and report.json lists them all.</p>`;
}

/** A select of the curation tools: its options are [value, text]; the first shows every clip. */
function select(id: string, label: string, options: readonly (readonly [string, string])[]): SafeHtml {
  return html`<label>${label} <select id="${id}">${options.map(([value, text]) => html`<option value="${value}">${text}</option>`)}</select></label>`;
}

/**
 * Filters, search and sort over the clips, and the ratings' save button. Hidden until the script
 * runs: without it they would do nothing.
 */
function tools(grid: GalleryGrid, ratings: PageRatings, rows: RowFilesInfo | null): SafeHtml {
  const counts = new Map<ReportStatus, number>(rows ? (Object.entries(rows.statuses) as [ReportStatus, number][]) : []);
  if (!rows) for (const r of grid.rows) for (const jobs of r.cells.values()) for (const job of jobs) counts.set(job.status, (counts.get(job.status) ?? 0) + 1);
  const statuses = REPORT_STATUSES.filter((s) => counts.has(s)).map((s) => [s, `${statusText(s)} (${counts.get(s) ?? 0})`] as const);
  const variants = grid.columns.map((c, i) => [String(i), c.label.length ? c.label.map(([field, value]) => `${field} ${value}`).join(' · ') : 'all jobs'] as const);
  const rated = 'error' in ratings
    ? html`<p class="alert" role="alert">Rating is off: ${RATINGS_FILE} could not be read (${ratings.error}). Fix or remove it, then run klingrun report on this folder with --html.</p>`
    : html`<div class="ratebar"><span id="rated"></span><button type="button" id="save" title="download ratings.json for the output folder">Save ratings</button><span id="unsaved" class="unsaved"></span><span id="saved" role="status"></span></div>
<p class="muted">Keep or reject a clip with its buttons, or with the keys k, r (and u to clear) on the clip last clicked. The 8 hex digits under a clip start its job id, as <code>klingrun rate</code> takes it.</p>`;
  return html`<form class="tools" id="tools" hidden role="search" aria-label="filter and sort the clips">
${select('f-status', 'Status', [['', 'all statuses'], ...statuses])}
${select('f-variant', 'Variant', [['', 'all variants'], ...variants])}
${select('f-rating', 'Rating', [['', 'all'], ['keep', 'kept'], ['reject', 'rejected'], ['unrated', 'unrated']])}
<label>Search prompts <input type="search" id="f-search" placeholder="words of a prompt"></label>
${select('f-sort', 'Sort', [['', 'manifest order (grid)'], ['status', 'status'], ['latency', 'latency, slowest first'], ['cost', 'cost, highest first'], ['rating', 'rating: kept, unrated, rejected']])}
<span id="shown" aria-live="polite"></span>
</form>
${rated}`;
}

/**
 * What the script reads: the batch (the key of the page's unsaved ratings in localStorage), the
 * folder's ratings (null: rating is off) and the status order. JSON in a script element, with `<`
 * escaped so no text can close it.
 */
function pageData(report: ReportSummary, ratings: PageRatings, paged: Paged | null): SafeHtml {
  const data = {
    batch: `${report.manifest.name}:${report.manifest.sha256}`,
    ratings: 'error' in ratings ? null : Object.fromEntries(ratings),
    statuses: REPORT_STATUSES,
    ...(paged && {
      rows: { files: Array.from({ length: paged.rows.files }, (_, n) => `${paged.rows.dir}/${rowsFileName(n)}`), clips: paged.rows.clips, callback: ROWS_CALLBACK },
      columns: paged.grid.columns.map((c) => (c.label.length ? c.label.map(([field, value]) => `${field} ${value}`).join(' · ') : 'all jobs')),
    }),
  };
  return trusted(`<script type="application/json" id="klingrun-data">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`);
}

/**
 * The whole page. Every text from the report is escaped (see html.ts). A streamed report's jobs
 * are read once, and only those of the rows shown are kept. `ratings` are the folder's
 * ratings.json, every one of them (those of clips past the cap too), so a saved file keeps them.
 */
export function renderGallery(full: Report | StreamedReport, maxClips = GALLERY_MAX_CLIPS, ratings: PageRatings = new Map()): string {
  const { summary: report, jobs } = asStream(full);
  return page(report, buildGrid(jobs(), maxClips), ratings, null);
}

/** A page whose clips are in data files (see gallery-rows.ts), with the grid they were read with. */
interface Paged {
  readonly grid: GalleryGrid;
  readonly rows: RowFilesInfo;
}

/** The grid of the rows kept, or, paged, an empty list the script fills from the data files. */
function clipsSection(report: ReportSummary, grid: GalleryGrid, ratings: PageRatings, paged: boolean): SafeHtml {
  if (paged) return html`<p class="muted" id="loading">Loading the clips… (this page needs JavaScript; report.json lists them all)</p><div class="vlist" id="vlist"></div>`;
  const rowRatings = 'error' in ratings ? undefined : ratings;
  return html`${capNote(grid)}
<div class="scroll"><table class="grid">
<thead><tr><th class="source">source image · prompt</th>${grid.columns.map((c) => html`<th>${labelOf(c)}</th>`)}</tr></thead>
<tbody>${grid.rows.map((r) => row(report, grid.columns, r, rowRatings))}</tbody>
</table></div>
<div class="list" id="list" hidden></div>`;
}

function page(report: ReportSummary, grid: GalleryGrid, ratings: PageRatings, rows: RowFilesInfo | null): string {
  const paged = rows && { grid, rows };
  const constants = labels(grid.constants, true);
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${report.manifest.name} · klingrun gallery</title>
<style>${trusted(GALLERY_CSS)}</style>
</head>
<body>
${header(report)}
<h2>Variants</h2>
${constants.length ? html`<p class="muted constants">Same for every job: ${constants}</p>` : null}
<table class="variants">
<thead><tr><th>variant</th><th>jobs</th><th>succeeded</th><th>failed</th><th>success rate</th><th>latency p50</th><th>latency p95</th><th title="estimated spend on tasks that succeeded or timed out ÷ seconds of succeeded video (failed tasks are in the cost above)">cost / s of video</th></tr></thead>
<tbody>${grid.columns.map((c) => statsRow(c, c.stats))}</tbody>
</table>
<h2>Clips</h2>
${tools(grid, ratings, rows)}
${clipsSection(report, grid, ratings, paged !== null)}
<footer>Latency: submit to finish. Estimated costs come from the price table. Generated from report.json by klingrun ${report.tool.version}.</footer>
${pageData(report, ratings, paged)}
<script>${trusted(paged ? GALLERY_PAGED_SCRIPT : GALLERY_SCRIPT)}</script>
</body>
</html>
`;
  return page.text;
}

/** The folder's ratings for its page; a file that cannot be read turns rating off rather than failing a run. */
function folderRatings(outputDir: string): PageRatings {
  try {
    return readRatings(outputDir);
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * Writes gallery.html into the output folder (atomically), with the folder's ratings; returns its
 * path. The report's jobs are read once: as the grid counts them, each is written to the data
 * files; when there are more than `maxClips`, the page loads its clips from those files.
 */
export function writeGallery(outputDir: string, report: Report | StreamedReport, { maxClips = GALLERY_MAX_CLIPS, rowsPerFile = ROWS_PER_FILE } = {}): string {
  const file = join(outputDir, GALLERY_FILE);
  const { summary, jobs } = asStream(report);
  const rows = new RowFiles(outputDir, summary.manifest.path, rowsPerFile);
  const grid = buildGrid(jobs(), maxClips, rows.add);
  const ratings = folderRatings(outputDir);
  if (grid.clipCount <= maxClips) {
    rows.discard();
    writeFileAtomic(file, page(summary, grid, ratings, null));
  } else {
    writeFileAtomic(file, page(summary, grid, ratings, rows.commit()));
  }
  return file;
}
