// Browser benchmarks of the playground (run by tools/bench-web): the Explore
// view's full sweep, timed by the page itself (`data-millis` of its progress:
// first spec sent to last answer in), RUNS times per board.
//
// Env: BASE_URL, RUNS, CHROMIUM, USER_DATA_DIR.
import { chromium } from "playwright-core";

const RUNS = Number(process.env.RUNS ?? 3);
const context = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ["--no-sandbox"],
});
const page = context.pages()[0] ?? (await context.newPage());
await page.goto(process.env.BASE_URL);
await page.waitForSelector('[data-testid="analysis"][data-ready="true"]', { timeout: 60_000 });
const cores = await page.evaluate(() => navigator.hardwareConcurrency);
await page.click('[data-testid="view-explore"]');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`| sweep | specs | workers | median | range |`);
console.log(`|---|---|---|---|---|`);
for (const board of ["stm32f746g-disco", "nrf52840-dk"]) {
    await page.selectOption('[data-testid="explore-board"]', board);
    const times = [];
    let specs = 0;
    let workers = 0;
    for (let i = 0; i < RUNS; i++) {
        if (i > 0) await page.click('[data-testid="explore-start"]');
        await page.waitForSelector('[data-testid="explore-progress"][data-done="false"]', { timeout: 60_000 });
        await page.waitForSelector('[data-testid="explore-progress"][data-done="true"]', { timeout: 300_000 });
        times.push(Number(await page.getAttribute('[data-testid="explore-progress"]', "data-millis")));
        specs = Number(await page.getAttribute('[data-testid="explore-progress"]', "data-max"));
        workers = Number(await page.getAttribute('[data-testid="explore-progress"]', "data-workers"));
    }
    const s = (ms) => (ms / 1000).toFixed(2) + " s";
    console.log(`| ${board} mbv2, input in SRAM | ${specs} | ${workers} (hardwareConcurrency ${cores}) | ${s(median(times))} | ${s(Math.min(...times))}–${s(Math.max(...times))} |`);
}
await context.close();
