// The gallery's inline style sheet and script: constants, so the page needs no server, no CDN and
// no network, and opens from file:// anywhere the videos are.

export const GALLERY_CSS = `
:root { --bg: #f6f7f9; --card: #fff; --fg: #1d2330; --muted: #667085; --line: #e3e6eb; --head: #eef1f5;
  --ok: #1a7f45; --bad: #c0362c; --warn: #b26b00; --run: #2563c9; --idle: #8a93a3; color-scheme: light dark; }
@media (prefers-color-scheme: dark) { :root { --bg: #111418; --card: #1a1e24; --fg: #e6e9ef; --muted: #98a2b3;
  --line: #2b313a; --head: #20252d; --ok: #4cc38a; --bad: #f07167; --warn: #f0b35a; --run: #6ea8fe; --idle: #7d8696; } }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { margin: 0 0 4px; font-size: 22px; }
h2 { margin: 28px 0 10px; font-size: 16px; }
.sub, .muted { color: var(--muted); }
.totals { display: flex; flex-wrap: wrap; gap: 8px; margin: 14px 0 6px; padding: 0; list-style: none; }
.totals li { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 6px 12px; }
.totals b { font-size: 17px; margin-right: 4px; }
table { border-collapse: separate; border-spacing: 0; }
.variants { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.variants th, .variants td { padding: 7px 12px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
.variants th:first-child, .variants td:first-child { text-align: left; }
.variants thead th { background: var(--head); font-weight: 600; }
.variants tr:last-child td { border-bottom: 0; }
.bar { display: inline-block; width: 60px; height: 6px; margin-left: 8px; border-radius: 3px; background: var(--line); vertical-align: middle; overflow: hidden; }
.bar i { display: block; height: 100%; background: var(--ok); }
.scroll { overflow: auto; width: fit-content; max-width: 100%; border: 1px solid var(--line); border-radius: 8px; background: var(--card); }
.grid th, .grid td { border-bottom: 1px solid var(--line); border-right: 1px solid var(--line); vertical-align: top; padding: 10px; }
.grid thead th { position: sticky; top: 0; z-index: 2; background: var(--head); text-align: left; font-weight: 500; }
.grid .source { text-align: left; font-weight: 400; position: sticky; left: 0; z-index: 1; background: var(--card); width: 220px; min-width: 220px; max-width: 220px; }
.grid thead .source { z-index: 3; background: var(--head); }
.label { display: block; font-size: 12px; }
.label span { color: var(--muted); }
.label b { font-weight: 600; }
.constants .label { display: inline; margin-right: 14px; }
.source img { display: block; width: 100%; border-radius: 6px; margin-bottom: 6px; background: var(--line); }
.source .file { font-weight: 600; word-break: break-all; }
.prompt { margin: 4px 0 0; font-size: 13px; white-space: pre-wrap; overflow-wrap: anywhere; }
.cell { width: 280px; min-width: 280px; }
/* Clips out of view are neither laid out nor painted (a page holds thousands); each keeps its last size. */
.clip { content-visibility: auto; contain-intrinsic-size: auto 260px auto 250px; }
.clip + .clip { margin-top: 10px; padding-top: 10px; border-top: 1px dashed var(--line); }
video, .placeholder { display: block; width: 100%; aspect-ratio: 16 / 9; border-radius: 6px; background: #000; object-fit: contain; }
.placeholder { display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 6px; padding: 12px;
  background: var(--head); color: var(--muted); text-align: center; font-size: 13px; overflow: auto; }
.placeholder.failed, .placeholder.timed_out, .placeholder.orphaned, .placeholder.invalid_output { color: var(--bad); }
.error { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; color: var(--fg); }
.meta { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: center; margin-top: 6px; font-size: 12px; color: var(--muted); }
.meta a { color: inherit; margin-left: auto; }
.warning { color: var(--warn); cursor: help; }
.badge { border-radius: 999px; padding: 1px 8px; font-weight: 600; color: #fff; background: var(--idle); }
.s-succeeded { background: var(--ok); } .s-failed, .s-orphaned, .s-invalid_output { background: var(--bad); }
.s-timed_out, .s-skipped_budget, .s-not_downloaded, .s-unconfirmed { background: var(--warn); } .s-in_flight { background: var(--run); }
.empty { color: var(--muted); font-size: 12px; }
footer { margin-top: 18px; font-size: 12px; color: var(--muted); }
.tools { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: end; margin: 0 0 10px; }
.tools label { display: flex; flex-direction: column; gap: 2px; font-size: 12px; color: var(--muted); }
.tools select, .tools input, .ratebar button { font: inherit; color: var(--fg); background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
.tools input { width: 220px; }
.ratebar { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; margin: 0 0 10px; font-size: 13px; }
.ratebar button { cursor: pointer; font-weight: 600; }
.unsaved { color: var(--warn); }
.alert { padding: 8px 12px; border: 1px solid var(--bad); border-radius: 8px; color: var(--bad); background: var(--card); }
.clip:focus, .clip:focus-within { outline: 2px solid var(--run); outline-offset: 3px; border-radius: 6px; }
.clip.r-keep video, .clip.r-keep .placeholder { box-shadow: 0 0 0 3px var(--ok); }
.clip.r-reject video, .clip.r-reject .placeholder { box-shadow: 0 0 0 3px var(--bad); opacity: .55; }
.rate { display: flex; gap: 6px; margin-top: 6px; }
.rate button { flex: 1; font: inherit; font-size: 12px; padding: 2px 0; cursor: pointer; color: var(--fg); background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
.rate [data-rating=keep][aria-pressed=true] { background: var(--ok); border-color: var(--ok); color: #fff; }
.rate [data-rating=reject][aria-pressed=true] { background: var(--bad); border-color: var(--bad); color: #fff; }
.jid { font-family: ui-monospace, monospace; }
.list { display: flex; flex-wrap: wrap; gap: 14px; }
.list .clip { width: 280px; margin: 0; padding: 10px; border: 1px solid var(--line); border-radius: 8px; background: var(--card); }
.list .clip + .clip { margin-top: 0; padding-top: 10px; border-top: 1px solid var(--line); }
.ctx { font-size: 12px; margin-bottom: 6px; overflow-wrap: anywhere; }
.ctx span { display: block; color: var(--muted); }
.grid .ctx { display: none; }
/* A big batch's clips: fixed-size cards placed by the script, only those near the viewport in the DOM. */
.vlist { position: relative; }
.vlist .clip { position: absolute; top: 0; left: 0; width: 280px; height: 380px; overflow: hidden; margin: 0; padding: 10px;
  border: 1px solid var(--line); border-radius: 8px; background: var(--card); content-visibility: visible; }
.vlist .clip + .clip { margin-top: 0; padding-top: 10px; border-top: 1px solid var(--line); }
.vlist .ctx { white-space: nowrap; } .vlist .ctx > * { overflow: hidden; text-overflow: ellipsis; }
[hidden] { display: none !important; }
`;

/**
 * The page's model of ratings, sorting and filtering: plain functions of plain data, kept apart
 * from the DOM so test/gallery-curation.test.ts runs them as they are. Ratings are the file's
 * (ratings.json, embedded when the page was made) with the page's unsaved edits on top; an edit
 * remembers what the file said when it was made, so when the file has changed that clip since
 * (`klingrun rate`, or the saved file put in the folder) the file's later word wins.
 */
export const GALLERY_MODEL = `
const galleryModel = {
  apply(file, edits) {
    const ratings = { ...file };
    const pending = {};
    for (const [id, edit] of Object.entries(edits)) {
      if (!Array.isArray(edit)) continue;
      const [rating, base] = edit;
      const now = file[id] ?? null;
      if (now !== base || now === rating) continue;
      pending[id] = [rating, base];
      if (rating === null) delete ratings[id];
      else ratings[id] = rating;
    }
    return { ratings, edits: pending };
  },
  edit(file, edits, id, rating) {
    const base = file[id] ?? null;
    const next = { ...edits };
    if (rating === base) delete next[id];
    else next[id] = [rating, base];
    return next;
  },
  fileText(ratings) {
    const sorted = Object.entries(ratings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return JSON.stringify({ version: 1, ratings: Object.fromEntries(sorted) }, null, 2) + '\\n';
  },
  shows(clip, filter, ratings) {
    if (filter.status && clip.status !== filter.status) return false;
    if (filter.variant && clip.variant !== filter.variant) return false;
    if (filter.rating && (ratings[clip.id] ?? 'unrated') !== filter.rating) return false;
    return filter.words.every((word) => clip.text.includes(word));
  },
  words: (query) => query.toLowerCase().split(' ').filter(Boolean),
  sorted(clips, by, ratings, statuses) {
    const last = (x) => (x === null ? -Infinity : x);
    const RATING = { keep: 0, reject: 2 };
    const key = {
      status: (c) => statuses.indexOf(c.status),
      latency: (c) => -last(c.latency),
      cost: (c) => -last(c.cost),
      rating: (c) => RATING[ratings[c.id]] ?? 1,
    }[by];
    return key ? [...clips].sort((a, b) => key(a) - key(b) || a.n - b.n) : [...clips].sort((a, b) => a.n - b.n);
  },
};
`;

/**
 * Ratings as both pages keep them: the file's with the page's edits on top (in localStorage under
 * the batch), the tally, the keys k / r / u on the clip last clicked, and "Save ratings", which
 * downloads every rating (those of clips out of view or filtered out too). onRate(id) repaints.
 */
const RATINGS = `
const galleryRatings = ($, data, onRate) => {
  const storeKey = 'klingrun-ratings:' + data.batch;
  const load = () => { try { return JSON.parse(localStorage.getItem(storeKey) ?? '{}').edits ?? {}; } catch { return {}; } };
  const file = data.ratings ?? {};
  const state = galleryModel.apply(file, load());
  const store = () => { try { localStorage.setItem(storeKey, JSON.stringify({ version: 1, edits: state.edits })); } catch { $('saved').textContent = 'This browser keeps no ratings for the page: save them before closing it.'; } };
  const tally = () => {
    const all = Object.values(state.ratings);
    const kept = all.filter((r) => r === 'keep').length;
    const unsaved = Object.keys(state.edits).length;
    $('rated').textContent = kept + ' kept, ' + (all.length - kept) + ' rejected';
    $('unsaved').textContent = unsaved ? unsaved + " change(s) not in the folder's ratings.json yet" : '';
  };
  const rate = (id, rating) => {
    Object.assign(state, galleryModel.apply(file, galleryModel.edit(file, state.edits, id, rating)));
    store();
    tally();
    onRate(id);
  };
  if (!data.ratings) return { state, rate };
  tally();
  document.addEventListener('keydown', (e) => {
    const key = { k: 'keep', r: 'reject', u: null }[e.key];
    const el = document.activeElement?.closest('.clip');
    if (key === undefined || !el?.querySelector('.rate') || e.ctrlKey || e.metaKey || e.altKey || e.target.closest('input, select, textarea')) return;
    e.preventDefault();
    rate(el.dataset.id, key);
  });
  $('save').addEventListener('click', () => {
    const url = URL.createObjectURL(new Blob([galleryModel.fileText(state.ratings)], { type: 'application/json' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: 'ratings.json' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    $('saved').textContent = 'Downloaded ratings.json: put it in the output folder, or run klingrun rate <output folder> --import ratings.json.';
  });
  return { state, rate };
};
`;

/**
 * Lazy playback: every video starts with preload="none" (a batch of hundreds of clips must not load
 * at once); a video plays (and so loads) when it scrolls near the viewport and pauses when it
 * leaves. The markup has controls (for pages opened without scripts); here they show on hover
 * only, so the grid stays clean. Without IntersectionObserver, or when the reader asks for reduced
 * motion, nothing plays by itself and the controls stay.
 */
const PLAYBACK = `
(() => {
  const videos = document.querySelectorAll('video');
  if (!('IntersectionObserver' in window) || matchMedia('(prefers-reduced-motion: reduce)').matches) {
    videos.forEach((v) => { v.preload = 'metadata'; });
    return;
  }
  videos.forEach((v) => {
    v.controls = false;
    v.addEventListener('mouseenter', () => { v.controls = true; });
    v.addEventListener('mouseleave', () => { v.controls = false; });
  });
  const observer = new IntersectionObserver((entries) => {
    for (const { target, isIntersecting } of entries) {
      if (isIntersecting) target.play().catch(() => {});
      else target.pause();
    }
  }, { rootMargin: '200px' });
  videos.forEach((v) => observer.observe(v));
})();
`;

/**
 * Curation: filters, search and sort over the clips already on the page (none is created; sorting
 * moves them into a flat list, each with a caption of its row and column), and keep / reject per
 * clip (buttons, or k / r / u on the focused clip), kept in localStorage under the batch until
 * "Save ratings" downloads ratings.json for the output folder.
 */
const CURATION = `
(() => {
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($('klingrun-data').textContent);
  const grid = document.querySelector('.grid');
  const scroll = document.querySelector('.scroll');
  const list = $('list');
  const columns = [...grid.querySelectorAll('thead th')].slice(1);
  const number = (text) => (text === undefined || text === '' ? null : Number(text));
  const clips = [...grid.querySelectorAll('.clip')].map((el, n) => ({
    el, n, cell: el.parentNode, row: el.closest('tr'), id: el.dataset.id, status: el.dataset.status, variant: el.dataset.variant,
    latency: number(el.dataset.latency), cost: number(el.dataset.cost), text: null,
  }));
  const byId = new Map(clips.map((c) => [c.id, c]));
  const labelsOf = (el) => [...el.querySelectorAll('.label')].map((l) => l.textContent).join(' · ');
  const variantOf = (c) => columns[c.cell.cellIndex - 1];
  const searchText = (c) => [c.row.querySelector('.source').textContent, labelsOf(variantOf(c)), c.el.querySelector('.details')?.textContent ?? ''].join(' ').toLowerCase();

  const { state, rate } = galleryRatings($, data, (id) => {
    if (byId.has(id)) paint(byId.get(id));
    // A filter by rating applies at once (rated clips leave "unrated"); a sort waits for the next change.
    if ($('f-rating').value) update();
  });

  const paint = (c) => {
    const rating = state.ratings[c.id];
    c.el.classList.toggle('r-keep', rating === 'keep');
    c.el.classList.toggle('r-reject', rating === 'reject');
    c.el.querySelectorAll('.rate button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.rating === rating)));
  };

  const filter = () => ({ status: $('f-status').value, variant: $('f-variant').value, rating: $('f-rating').value, words: galleryModel.words($('f-search').value) });
  const update = () => {
    const f = filter();
    if (f.words.length) for (const c of clips) c.text ??= searchText(c);
    let shown = 0;
    for (const c of clips) {
      const show = galleryModel.shows(c, f, state.ratings);
      c.el.hidden = !show;
      if (show) shown += 1;
    }
    const by = $('f-sort').value;
    scroll.hidden = by !== '';
    list.hidden = by === '';
    if (by) {
      for (const c of galleryModel.sorted(clips, by, state.ratings, data.statuses)) list.append(caption(c));
    } else {
      for (const c of clips) if (c.el.parentNode !== c.cell) c.cell.append(c.el);
      columns.forEach((th, i) => {
        const off = f.variant !== '' && f.variant !== String(i);
        th.hidden = off;
        for (const row of grid.tBodies[0].rows) if (row.cells[i + 1]) row.cells[i + 1].hidden = off;
      });
      for (const row of grid.tBodies[0].rows) row.hidden = ![...row.querySelectorAll('.clip')].some((el) => !el.hidden);
    }
    count(shown);
  };
  const count = (shown) => { $('shown').textContent = 'Showing ' + shown + ' of ' + clips.length + ' clips'; };
  const caption = (c) => {
    if (!c.el.querySelector('.ctx')) {
      const ctx = document.createElement('div');
      ctx.className = 'ctx';
      const source = c.row.querySelector('.source');
      const lines = [source.querySelector('.file').textContent, labelsOf(variantOf(c)), source.querySelector('.prompt').textContent, labelsOf(source)];
      for (const line of lines.filter(Boolean)) ctx.append(Object.assign(document.createElement(ctx.childNodes.length ? 'span' : 'b'), { textContent: line }));
      c.el.prepend(ctx);
    }
    return c.el;
  };

  $('tools').hidden = false;
  $('tools').addEventListener('submit', (e) => e.preventDefault());
  for (const id of ['f-status', 'f-variant', 'f-rating', 'f-sort']) $(id).addEventListener('change', update);
  let typing;
  $('f-search').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(update, 150); });
  // The markup shows every clip and the file's ratings: at load, only the page's own edits are painted.
  count(clips.length);
  if (!data.ratings) return;
  for (const id of Object.keys(state.edits)) if (byId.has(id)) paint(byId.get(id));
  document.addEventListener('click', (e) => {
    const button = e.target.closest('.rate button');
    if (button) rate(button.closest('.clip').dataset.id, button.getAttribute('aria-pressed') === 'true' ? null : button.dataset.rating);
  });
  document.addEventListener('click', (e) => {
    const el = e.target.closest('.clip');
    if (el && !e.target.closest('button, a')) el.focus({ preventScroll: true });
  });
})();
`;

/** The page's one inline script: the model, playback, then curation. */
export const GALLERY_SCRIPT = GALLERY_MODEL + RATINGS + PLAYBACK + CURATION;

/**
 * The page of a big batch (see gallery-rows.ts): loads the data files one after another with
 * script tags, keeps the clips as plain records, filters and sorts them with the same model, and
 * builds cards only for the clips near the viewport (a fixed-size grid of absolutely placed
 * cards), so the DOM and the videos in it stay a few dozen whatever the batch. Ratings are by job
 * id, kept and saved as on a small page. Cards are built with textContent: no report text is markup.
 */
const PAGED = `
(() => {
  const $ = (id) => document.getElementById(id);
  const data = JSON.parse($('klingrun-data').textContent);
  const W = 294, H = 394; // a card and its gap (CSS: 280 × 380 + 14)
  const clips = [];
  const byId = new Map();
  window[data.rows.callback] = (_n, rows) => {
    for (const [id, status, variant, latency, cost, video, image, file, prompt, name, problem, labels, aspect] of rows) {
      const c = { n: clips.length, id, status, variant: String(variant), latency, cost, video, image, file, prompt, name, problem, labels, aspect, text: null };
      clips.push(c);
      byId.set(id, c);
    }
  };
  const list = $('vlist');
  let shown = [];
  let cards = new Map();
  const { state, rate } = galleryRatings($, data, (id) => {
    if (cards.has(id)) paint(cards.get(id));
    if ($('f-rating').value) update();
  });

  const make = (tag, className, text) => Object.assign(document.createElement(tag), className ? { className } : {}, text ? { textContent: text } : {});
  const statusText = (s) => s.replace(/_/g, ' ');
  const seconds = (s) => (s < 10 ? s.toFixed(1) + ' s' : Math.round(s) + ' s');
  const paint = (el) => {
    const rating = state.ratings[el.dataset.id];
    el.classList.toggle('r-keep', rating === 'keep');
    el.classList.toggle('r-reject', rating === 'reject');
    el.querySelectorAll('.rate button').forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.rating === rating)));
  };
  const card = (c) => {
    const el = make('div', 'clip');
    el.tabIndex = -1;
    Object.assign(el.dataset, { id: c.id, status: c.status, variant: c.variant });
    if (c.video) {
      // Nothing loads until the reader plays it, not even a poster: a scroll through 100,000 cards
      // must start no media player apiece, nor keep every source image it passed decoded.
      const v = Object.assign(make('video'), { src: c.video, muted: true, loop: true, playsInline: true, controls: true, preload: 'none', title: c.id });
      if (c.aspect) v.style.aspectRatio = c.aspect;
      el.append(v);
    } else {
      const p = make('div', 'placeholder ' + c.status);
      p.append(make('strong', '', statusText(c.status)), make('p', 'error', c.problem));
      el.append(p);
    }
    const ctx = make('div', 'ctx');
    ctx.append(make('b', '', c.file), make('span', '', data.columns[c.variant]), make('span', '', c.prompt || 'no prompt'), make('span', '', c.labels));
    const meta = make('div', 'meta');
    meta.append(make('span', 'badge s-' + c.status, statusText(c.status)));
    if (c.latency !== null) meta.append(make('span', '', seconds(c.latency)));
    if (c.cost !== null) meta.append(make('span', '', '$' + c.cost.toFixed(2)));
    if (c.name) meta.append(make('span', '', c.name));
    meta.append(make('span', 'jid', c.id.slice(0, 8)));
    if (c.video) meta.append(Object.assign(make('a', '', 'open'), { href: c.video, target: '_blank', rel: 'noopener' }));
    el.append(ctx, meta);
    if (data.ratings && (c.video || state.ratings[c.id])) {
      const rate = make('div', 'rate');
      for (const [value, text] of [['keep', 'Keep'], ['reject', 'Reject']]) {
        const button = Object.assign(make('button', '', text), { type: 'button' });
        button.dataset.rating = value;
        rate.append(button);
      }
      el.append(rate);
    }
    paint(el);
    return el;
  };
  const render = () => {
    const perRow = Math.max(1, Math.floor((list.clientWidth + 14) / W));
    list.style.height = Math.ceil(shown.length / perRow) * H + 'px';
    const top = -list.getBoundingClientRect().top;
    const first = Math.max(0, Math.floor(top / H) - 1) * perRow;
    const last = Math.min(shown.length, (Math.ceil((top + innerHeight) / H) + 1) * perRow);
    const next = new Map();
    for (let i = first; i < last; i++) {
      const c = shown[i];
      const el = cards.get(c.id) ?? card(c);
      el.style.transform = 'translate(' + (i % perRow) * W + 'px, ' + Math.floor(i / perRow) * H + 'px)';
      if (!el.isConnected) list.append(el);
      next.set(c.id, el);
    }
    for (const [id, el] of cards) if (!next.has(id)) el.remove();
    cards = next;
  };
  let frame = 0;
  const later = () => { frame ||= requestAnimationFrame(() => { frame = 0; render(); }); };

  const filter = () => ({ status: $('f-status').value, variant: $('f-variant').value, rating: $('f-rating').value, words: galleryModel.words($('f-search').value) });
  const update = () => {
    const f = filter();
    if (f.words.length) for (const c of clips) c.text ??= [c.file, c.prompt, data.columns[c.variant], c.labels, c.name].join(' ').toLowerCase();
    const kept = clips.filter((c) => galleryModel.shows(c, f, state.ratings));
    const by = $('f-sort').value;
    shown = by ? galleryModel.sorted(kept, by, state.ratings, data.statuses) : kept;
    const loading = clips.length < data.rows.clips ? ' (' + clips.length + ' of ' + data.rows.clips + ' loaded)' : '';
    $('shown').textContent = 'Showing ' + shown.length + ' of ' + clips.length + ' clips' + loading;
    render();
  };

  // One data file after another; the first clips paint as soon as their file is read.
  const next = (n) => {
    if (n >= data.rows.files.length) { $('loading').hidden = true; performance.mark('klingrun-all-clips'); return; }
    const script = Object.assign(document.createElement('script'), { src: data.rows.files[n] });
    script.onload = () => {
      script.remove();
      update();
      if (n === 0) performance.mark('klingrun-first-clips');
      next(n + 1);
    };
    script.onerror = () => { $('loading').textContent = 'Could not load ' + data.rows.files[n] + ': is the gallery folder beside gallery.html?'; };
    document.head.append(script);
  };
  $('tools').hidden = false;
  $('tools').addEventListener('submit', (e) => e.preventDefault());
  for (const id of ['f-status', 'f-variant', 'f-rating', 'f-sort']) $(id).addEventListener('change', update);
  let typing;
  $('f-search').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(update, 150); });
  addEventListener('scroll', later, { passive: true });
  addEventListener('resize', later);
  next(0);
  if (!data.ratings) return;
  list.addEventListener('click', (e) => {
    const el = e.target.closest('.clip');
    const button = e.target.closest('.rate button');
    if (button) rate(el.dataset.id, button.getAttribute('aria-pressed') === 'true' ? null : button.dataset.rating);
    else if (el && !e.target.closest('a')) el.focus({ preventScroll: true });
  });
})();
`;

/** The script of a page whose clips are in data files: the model, then the paged list. */
export const GALLERY_PAGED_SCRIPT = GALLERY_MODEL + RATINGS + PAGED;
