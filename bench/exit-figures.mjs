// Preloaded into the CLI the bench measures (`node --import`): as the process ends, writes its
// CPU time and peak RSS (getrusage, what GNU time reports) to the file KLINGRUN_BENCH_FIGURES names.
import { writeFileSync } from 'node:fs';

const file = process.env.KLINGRUN_BENCH_FIGURES;
if (file) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    writeFileSync(file, JSON.stringify({ cpuMs: (user + system) / 1000, rssKb: process.resourceUsage().maxRSS }));
  });
}
