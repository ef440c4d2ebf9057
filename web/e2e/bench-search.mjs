// The schedule search in the page's worker (run by tools/bench-web search):
// for each model, the page opened with `halo=auto` and the input streamed
// searches every split × grid with recomputed halos, then re-plans them with
// cached halos and per-layer mixtures (the worker's own compute time,
// `data-millis` of the search card); then "Add stages where the peak is"
// searches later patch stages from the schedule auto chose (wall time from
// the click to the worker's answer, applied or "no later stage lowers
// this peak"). RUNS fresh page loads per model.
//
// Env: BASE_URL, RUNS, CHROMIUM, USER_DATA_DIR.
import { chromium } from "playwright-core";

const RUNS = Number(process.env.RUNS ?? 3);
const MODELS = [
    ["mbv2-w1.0-r224", "model=mbv2-w1.0-r224&"],
    ["mbv2-w0.35-r144-int8", "model=mbv2-w0.35-r144-int8&"],
    ["blazeface-short-int8", ""],
];
const context = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ["--no-sandbox"],
});
const page = context.pages()[0] ?? (await context.newPage());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => (ms / 1000).toFixed(2) + " s";
console.log("| model (input streamed) | schedules | search, every halo family (worker) | later stages (worker) | later stages (click to schedule) | total (worker) | schedule |");
console.log("|---|---|---|---|---|---|---|");
for (const [name, param] of MODELS) {
    const search = [], later = [], laterWorker = [], total = [];
    let schedules = 0, chosen = "";
    for (let i = 0; i < RUNS; i++) {
        await page.goto("about:blank");
        await page.goto(`${process.env.BASE_URL}#${param}input=streamed&halo=auto&board=stm32f746g-disco`);
        await page.waitForSelector('[data-testid="search-card"][data-families="true"]', { timeout: 300_000 });
        await page.waitForSelector('[data-testid="analysis"][data-ready="true"]', { timeout: 300_000 });
        const ms = Number(await page.getAttribute('[data-testid="search-card"]', "data-millis"));
        schedules = Number(await page.getAttribute('[data-testid="search-card"]', "data-schedules"));
        const answers = await page.getAttribute('[data-testid="later-stages"]', "data-answers");
        const t0 = Date.now();
        await page.click('[data-testid="add-later"]');
        await page.waitForFunction((n) => document.querySelector('[data-testid="later-stages"]').dataset.answers !== n,
            answers, { timeout: 300_000, polling: 5 });
        const lm = Date.now() - t0;
        const lw = Number(await page.getAttribute('[data-testid="later-stages"]', "data-millis"));
        search.push(ms);
        later.push(lm);
        laterWorker.push(lw);
        total.push(ms + lw);
        chosen = await page.textContent('[data-testid="schedule"]');
    }
    console.log(`| ${name} | ${schedules} | ${s(median(search))} (${s(Math.min(...search))}–${s(Math.max(...search))}) | ${s(median(laterWorker))} | ${s(median(later))} | ${s(median(total))} | ${chosen.trim()} |`);
}
await context.close();
