// Browser test of the patchwise playground: drives Debian's headless Chromium
// with playwright-core and compares the page's numbers with the CLI's
// `patchwise plan --json`. Run by tools/web-test, which builds and serves dist/.
//
// Env: BASE_URL (the served dist/), PATCHWISE_BIN (the CLI), MODEL (the bundled
// model's path), CHROMIUM (browser binary), OUT_DIR (screenshots), USER_DATA_DIR.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const BASE_URL = process.env.BASE_URL;
const BIN = process.env.PATCHWISE_BIN;
const MODEL = process.env.MODEL;
const OUT_DIR = process.env.OUT_DIR ?? "target/web-test";
const WAIT = 60_000; // per wait
const TOTAL = 300_000; // whole test

let passed = 0;
let failed = 0;
const t0 = Date.now();

function log(msg) {
    console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}
function check(name, ok, detail = "") {
    if (ok) {
        passed++;
        log(`ok   ${name}`);
    } else {
        failed++;
        log(`FAIL ${name}${detail ? ": " + detail : ""}`);
    }
    return ok;
}
function finish(code) {
    console.log(`web: ${passed} passed, ${failed} failed`);
    process.exit(code ?? (failed ? 1 : 0));
}
const watchdog = setTimeout(() => {
    failed++;
    log(`FAIL the whole test took longer than ${TOTAL / 1000}s`);
    finish(1);
}, TOTAL);

let currentModel = MODEL;
/** `patchwise plan MODEL ARGS --json` for the model the page has loaded. */
function cli(args) {
    const out = execFileSync(BIN, ["plan", currentModel, ...args, "--json"], { encoding: "utf8", timeout: 60_000 });
    return JSON.parse(out);
}
function cliFor(sched) {
    const args = sched.split === "none" ? [] : ["--split", sched.split, "--grid", sched.grid];
    if (sched.mode === "streamed") args.push("--streamed-input");
    return cli(args);
}

/** The page's `data-split` for a CLI schedule. */
const splitAttr = (s) => (s.split === null ? "none" : String(s.split));

const FIELDS = [
    ["layer-peak", "layer_peak_bytes"],
    ["patch-peak", "patch_peak_bytes"],
    ["overhead-pct", "overhead_pct"],
    ["macs", "macs"],
    ["flash", "flash_bytes"],
];

async function numbers(page) {
    const out = {};
    for (const [id] of FIELDS) {
        out[id] = await page.getAttribute(`[data-testid="${id}"]`, "data-value", { timeout: WAIT });
    }
    return out;
}
async function schedule(page) {
    const el = page.locator('[data-testid="schedule"]');
    return {
        split: await el.getAttribute("data-split", { timeout: WAIT }),
        grid: await el.getAttribute("data-grid", { timeout: WAIT }),
        mode: await el.getAttribute("data-mode", { timeout: WAIT }),
    };
}
/** The page's numbers equal the CLI's for the page's own schedule. */
async function matchesCli(page, label) {
    const s = await schedule(page);
    const got = await numbers(page);
    const want = cliFor(s);
    let all = true;
    for (const [id, field] of FIELDS) {
        const ok = Number(got[id]) === Number(want[field]);
        all &&= ok;
        if (!ok) check(`${label}: ${id}`, false, `page ${got[id]} != CLI ${field} ${want[field]} (split ${s.split}, grid ${s.grid})`);
    }
    return check(`${label}: numbers equal the CLI's (split ${s.split}, grid ${s.grid}, input ${s.mode})`, all) ? want : null;
}
async function waitReady(page) {
    await page.waitForSelector('[data-testid="analysis"][data-ready="true"]', { timeout: WAIT });
}
async function waitSchedule(page, split, grid) {
    const sel = `[data-testid="schedule"][data-split="${split}"]` + (grid ? `[data-grid="${grid}"]` : "");
    await page.waitForSelector(sel, { timeout: WAIT });
}

const pageErrors = [];
let context;
try {
    mkdirSync(OUT_DIR, { recursive: true });
    context = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
        executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
        headless: true,
        timeout: WAIT,
        viewport: { width: 1440, height: 1000 },
        acceptDownloads: true,
        args: [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    });
    context.setDefaultTimeout(WAIT);
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("console", (m) => {
        if (m.type() === "error") pageErrors.push(m.text());
    });

    // 1. First open: the bundled model and image, analysed, best schedule for the STM32F746.
    const tLoad = Date.now();
    await page.goto(BASE_URL, { timeout: WAIT });
    await waitReady(page);
    log(`analysis ready ${((Date.now() - tLoad) / 1000).toFixed(1)}s after navigation`);
    const auto = cli(["--board", "stm32f746g-disco"]);
    const s0 = await schedule(page);
    check(
        "default view is the search's best schedule for stm32f746g-disco",
        s0.split === splitAttr(auto.schedule) && s0.grid === `${auto.schedule.grid[0]}x${auto.schedule.grid[1]}`,
        `page split ${s0.split} grid ${s0.grid}, CLI ${JSON.stringify(auto.schedule)}`,
    );
    const defaults = await matchesCli(page, "default");
    check("default fits the board", (await page.getAttribute('[data-testid="fits"]', "data-value")) === "true");
    check("the URL carries the settings", page.url().includes(`split=${s0.split}`) && page.url().includes(`grid=${s0.grid}`), page.url());
    const patches = await page.getAttribute('[data-testid="patch-view"]', "data-patches");
    const [r0, c0] = s0.grid.split("x").map(Number);
    check("the image shows one region per patch", Number(patches) === r0 * c0, `data-patches ${patches}`);
    const pareto = await page.locator(".pareto circle.front").count();
    check("the Pareto chart shows the CLI's front", pareto === auto.pareto.length, `${pareto} vs ${auto.pareto.length}`);

    // 2. Run: byte-identical outputs, measured arena == planned arena.
    await page.click('[data-testid="run"]');
    await page.waitForSelector('[data-testid="run-identical"]', { timeout: 120_000 });
    check("run: outputs byte-identical", (await page.getAttribute('[data-testid="run-identical"]', "data-value")) === "true");
    const measured = await page.getAttribute('[data-testid="run-measured"]', "data-value");
    const predicted = await page.getAttribute('[data-testid="run-predicted"]', "data-value");
    check("run: measured high-water mark == planned arena", measured === predicted && Number(measured) > 0, `${measured} vs ${predicted}`);
    check("run: planned arena == patch-based peak", defaults && Number(predicted) === defaults.patch_peak_bytes, `${predicted}`);
    const lm = await page.getAttribute('[data-testid="run-layer-measured"]', "data-value");
    const lp = await page.getAttribute('[data-testid="run-layer-predicted"]', "data-value");
    check("run: layer-by-layer measured == planned", lm === lp, `${lm} vs ${lp}`);
    log(`run times: layer ${await page.getAttribute('[data-testid="run-layer-time"]', "data-value")} ms, patch ${await page.getAttribute('[data-testid="run-time"]', "data-value")} ms`);
    // Detection: the faces drawn on the image are the CLI's `detect` faces.
    const faces = JSON.parse(execFileSync(BIN, ["detect", currentModel, join(process.env.ASSETS, "astronaut-128.png"), "--json"], { encoding: "utf8", timeout: 60_000 })).detections;
    await page.waitForSelector('[data-testid="detections"]', { timeout: 30_000 });
    const drawn = Number(await page.getAttribute('[data-testid="detections"]', "data-count"));
    check("detect: boxes drawn on the image == CLI detect", drawn === faces.length && drawn >= 1, `${drawn} vs ${faces.length}`);

    // Hover a patch-stage layer so the screenshot shows the regions there.
    const bars = page.locator(".memory g.bar.in-stage");
    await page.mouse.move(1, 1);
    if ((await bars.count()) > 3) await bars.nth(3).dispatchEvent("mouseenter");
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(OUT_DIR, "screenshot.png"), fullPage: true });
    log(`screenshot: ${join(OUT_DIR, "screenshot.png")}`);
    await page.locator('[data-testid="memory-chart"]').dispatchEvent("mouseleave");

    // 3. Change the grid: numbers update and still match the CLI.
    await page.selectOption('[data-testid="grid-rows"]', "2");
    await page.selectOption('[data-testid="grid-cols"]', "2");
    await waitSchedule(page, s0.split, "2x2");
    const g2 = await matchesCli(page, "grid 2x2");
    check("grid change updates the numbers", !!(g2 && defaults && (g2.patch_peak_bytes !== defaults.patch_peak_bytes || g2.macs !== defaults.macs)));
    await page.waitForFunction(() => location.hash.includes("grid=2x2"), null, { timeout: WAIT });
    check("the URL follows the grid", true);

    // 4. No patching (slider to 0) and the input-mode switch.
    await page.locator('[data-testid="split"]').evaluate((el) => {
        el.value = "0";
        el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await waitSchedule(page, "none");
    const lbl = await matchesCli(page, "no patching");
    check("no patching: patch-based peak == layer-by-layer peak", lbl && lbl.patch_peak_bytes === lbl.layer_peak_bytes);
    await page.locator('[data-testid="split"]').evaluate((el) => {
        el.value = "3";
        el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await page.waitForSelector('[data-testid="schedule"]:not([data-split="none"])', { timeout: WAIT });
    await page.click(".switch");
    await page.waitForSelector('[data-testid="schedule"][data-mode="streamed"]', { timeout: WAIT });
    await matchesCli(page, "streamed input");
    await page.click(".switch");
    await page.waitForSelector('[data-testid="schedule"][data-mode="sram"]', { timeout: WAIT });
    await waitReady(page);

    // 5. Pareto chart: clicking the smallest-peak point applies it.
    await page.locator(".pareto circle.front").first().dispatchEvent("click");
    const p0 = auto.pareto[0];
    await waitSchedule(page, String(p0.split), `${p0.grid[0]}x${p0.grid[1]}`);
    const pp = await matchesCli(page, "Pareto click");
    check("Pareto click: peak is the front's smallest", pp && pp.patch_peak_bytes === p0.peak_bytes);

    // 6. Auto brings back the default.
    await page.click('[data-testid="auto"]');
    await waitSchedule(page, s0.split, s0.grid);
    check("auto re-applies the best schedule for the budget", true);

    // 7. A link reproduces the view.
    const link = `${BASE_URL}#split=${s0.split}&grid=2x2&input=sram&board=stm32f746g-disco`;
    await page.goto("about:blank");
    await page.goto(link, { timeout: WAIT });
    await waitReady(page);
    await waitSchedule(page, s0.split, "2x2");
    const linked = await matchesCli(page, "shared link");
    check("shared link reproduces the grid-2x2 numbers", linked && g2 && linked.patch_peak_bytes === g2.patch_peak_bytes);

    // 8. Export: the JSON download has plan --json's fields.
    const [dl] = await Promise.all([page.waitForEvent("download", { timeout: WAIT }), page.click('[data-testid="export"]')]);
    const exported = JSON.parse(readFileSync(await dl.path(), "utf8"));
    const want = cliFor(await schedule(page));
    const keys = ["macs", "flash_bytes", "layer_peak_bytes", "patch_peak_bytes", "overhead_macs", "overhead_pct", "schedule", "pareto"];
    const diff = keys.filter((k) => JSON.stringify(exported[k]) !== JSON.stringify(want[k]));
    check("export equals plan --json on " + keys.join(", "), diff.length === 0, `differs on ${diff.join(", ")}`);

    // 9. Bad files: an inline error, the numbers stay.
    const before = await numbers(page);
    await page.setInputFiles('[data-testid="model-file"]', {
        name: "corrupt.tflite",
        mimeType: "application/octet-stream",
        buffer: Buffer.from("this is not a flatbuffer at all, just text"),
    });
    await page.waitForSelector('[data-testid="error"]', { timeout: WAIT });
    const err = await page.textContent('[data-testid="error"]');
    check("corrupt .tflite: the error names the file and the problem", err.includes("corrupt.tflite") && /flatbuffer|TFL3/.test(err), err);
    check("corrupt .tflite: the numbers stay", JSON.stringify(await numbers(page)) === JSON.stringify(before));
    check("corrupt .tflite: the model stays", (await page.textContent('[data-testid="model-name"]')).includes("blazeface"));
    const real = readFileSync(MODEL);
    await page.setInputFiles('[data-testid="model-file"]', {
        name: "truncated.tflite",
        mimeType: "application/octet-stream",
        buffer: real.subarray(0, 4096),
    });
    await page.waitForSelector('[data-testid="error"]:has-text("truncated.tflite")', { timeout: WAIT });
    check("truncated .tflite: an error, not a crash", JSON.stringify(await numbers(page)) === JSON.stringify(before));
    await page.setInputFiles('[data-testid="image-file"]', {
        name: "broken.png",
        mimeType: "image/png",
        buffer: Buffer.from("\x89PNG\r\n\x1a\n not really"),
    });
    await page.waitForSelector('[data-testid="error"]:has-text("broken.png")', { timeout: WAIT });
    check("broken image: an error, the image stays", (await page.textContent('[data-testid="image-name"]')).includes("astronaut"));
    await page.screenshot({ path: join(OUT_DIR, "error.png"), fullPage: false });

    // 10. The page still works after the errors: a different grid, a run.
    await page.selectOption('[data-testid="grid-rows"]', "1");
    await waitSchedule(page, s0.split, "1x2");
    await matchesCli(page, "after errors");
    await page.click('[data-testid="run"]');
    await page.waitForSelector('[data-testid="run-identical"][data-value="true"]', { timeout: 120_000 });
    check("run after errors: identical", true);

    // 11. Another image (512×512, letterboxed into the input) and another model.
    await page.setInputFiles('[data-testid="image-file"]', join(process.env.ASSETS, "astronaut.png"));
    await page.waitForSelector('[data-testid="image-name"]:has-text("astronaut.png")', { timeout: WAIT });
    check("a 512×512 PNG loads", (await page.textContent(".patch-card")).includes("512×512"));
    await page.click('[data-testid="run"]');
    await page.waitForSelector('[data-testid="run-identical"][data-value="true"]', { timeout: 120_000 });
    check("run on the new image: identical", true);
    // Drag and drop: a PNG dropped on the page replaces the image.
    const png = readFileSync(join(process.env.ASSETS, "astronaut-128.png")).toString("base64");
    await page.evaluate(async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], "dropped.png", { type: "image/png" }));
        const zone = document.querySelector(".drop-zone");
        zone.dispatchEvent(new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: dt }));
        zone.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, png);
    await page.waitForSelector('[data-testid="image-name"]:has-text("dropped.png")', { timeout: WAIT });
    check("a dropped PNG replaces the image", true);

    const other = process.env.OTHER_MODEL;
    if (other) {
        currentModel = other;
        await page.setInputFiles('[data-testid="model-file"]', other);
        await page.waitForSelector(`[data-testid="model-name"]:has-text("${other.split("/").pop()}")`, { timeout: WAIT });
        await waitReady(page);
        const want = cli(["--board", "stm32f746g-disco"]);
        const s1 = await schedule(page);
        check(
            "second model: default is the CLI's best for the board",
            s1.split === splitAttr(want.schedule) && s1.grid === `${want.schedule.grid[0]}x${want.schedule.grid[1]}`,
            `page ${s1.split} ${s1.grid}, CLI ${JSON.stringify(want.schedule)}`,
        );
        await matchesCli(page, "second model");
        await page.click('[data-testid="run"]');
        await page.waitForSelector('[data-testid="run-identical"]', { timeout: 120_000 });
        check("second model run: identical", (await page.getAttribute('[data-testid="run-identical"]', "data-value")) === "true");
        const m = await page.getAttribute('[data-testid="run-measured"]', "data-value");
        const p = await page.getAttribute('[data-testid="run-predicted"]', "data-value");
        check("second model run: measured == planned", m === p, `${m} vs ${p}`);
        check("second model: a classifier shows its top classes", (await page.locator('[data-testid="top-classes"]').count()) > 0);
        await page.evaluate(() => window.scrollTo(0, 0));
        await page.screenshot({ path: join(OUT_DIR, "second-model.png"), fullPage: true });
    }

    const panics = pageErrors.filter((e) => /panicked|RuntimeError|unreachable/.test(e));
    check("no panics or uncaught errors in the page", panics.length === 0, panics.join(" | "));
    if (pageErrors.length) log(`console errors: ${pageErrors.join(" | ")}`);
} catch (e) {
    check("test ran to the end", false, String(e?.stack ?? e));
    try {
        const page = context?.pages()[0];
        if (page) {
            await page.screenshot({ path: join(OUT_DIR, "failure.png"), fullPage: true, timeout: 10_000 });
            writeFileSync(join(OUT_DIR, "failure.html"), await page.content());
            log(`failure screenshot: ${join(OUT_DIR, "failure.png")}`);
        }
        if (pageErrors.length) log(`console errors: ${pageErrors.join(" | ")}`);
    } catch {}
} finally {
    clearTimeout(watchdog);
    try {
        await Promise.race([context?.close(), new Promise((r) => setTimeout(r, 10_000))]);
    } catch {}
}
finish();
