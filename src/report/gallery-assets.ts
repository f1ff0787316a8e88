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
`;

/**
 * Lazy playback: every video starts with preload="none" (a batch of hundreds of clips must not load
 * at once); a video plays (and so loads) when it scrolls near the viewport and pauses when it
 * leaves. The markup has controls (for pages opened without scripts); here they show on hover
 * only, so the grid stays clean. Without IntersectionObserver, or when the reader asks for reduced
 * motion, nothing plays by itself and the controls stay.
 */
export const GALLERY_SCRIPT = `
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
