// Inference speed side by side in one headless Chromium (run by
// tools/bench-web inference): patchwise in the playground's worker (the run
// panel's "Time the inference": the int8 program alone, input bytes already
// in the arena) and tfjs-tflite (TFLite + XNNPACK compiled to wasm SIMD, one
// thread) on the same .tflite files, its interpreter's infer() alone after
// its input tensor is filled. ROUNDS rounds, alternating the two engines;
// each round is 21 runs of each; the figure is the median of all runs.
//
// Env: BASE_URL, ROUNDS, CHROMIUM, USER_DATA_DIR, MODELS (space separated paths), TFJS (node_modules dir).
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PER_ROUND = 21;
const MODELS = process.env.MODELS.split(" ").filter(Boolean);
const TFJS = process.env.TFJS;
const WAIT = 300_000;

const context = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ["--no-sandbox"],
});

// Both pages are cross-origin isolated, so that performance.now() (in the
// page, and in patchwise's worker) steps by 5 µs: elsewhere Chromium coarsens
// it to 100 µs, and a 1.8 ms inference's median moved in 0.1 ms steps, the
// ratio in 5 % steps.
const ISOLATED = { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" };
await context.route(`${process.env.BASE_URL}**`, async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), ...ISOLATED } });
});

// tfjs-tflite and the models are served under BASE_URL/bench/ by the test itself (no server change).
const files = {
    "bench/tf-core.js": join(TFJS, "@tensorflow/tfjs-core/dist/tf-core.js"),
    "bench/tf-backend-cpu.js": join(TFJS, "@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.js"),
    "bench/tf-tflite.js": join(TFJS, "@tensorflow/tfjs-tflite/dist/tf-tflite.js"),
};
for (const f of ["tflite_web_api_cc_simd.js", "tflite_web_api_cc_simd.wasm", "tflite_web_api_cc.js", "tflite_web_api_cc.wasm"]) {
    files[`bench/wasm/${f}`] = join(TFJS, "@tensorflow/tfjs-tflite/wasm", f);
}
for (const m of MODELS) files[`bench/models/${basename(m)}`] = m;
const type = (p) => (p.endsWith(".wasm") ? "application/wasm" : p.endsWith(".js") ? "text/javascript" : p.endsWith(".html") ? "text/html" : "application/octet-stream");
await context.route(`${process.env.BASE_URL}bench/**`, (route) => {
    const path = new URL(route.request().url()).pathname.replace(/^\//, "");
    if (path === "bench/tfjs.html") {
        // In an isolated page tfjs-tflite would load its multi-threaded build
        // (it probes SharedArrayBuffer): without it, the single-threaded SIMD
        // build it runs in any other page.
        return route.fulfill({
            contentType: "text/html",
            headers: ISOLATED,
            body: `<!doctype html><meta charset="utf-8"><title>tfjs-tflite</title>
<script>delete self.SharedArrayBuffer;</script>
<script src="tf-core.js"></script><script src="tf-backend-cpu.js"></script><script src="tf-tflite.js"></script>`,
        });
    }
    const file = files[path];
    if (!file) return route.fulfill({ status: 404, body: "not found" });
    return route.fulfill({ contentType: type(path), headers: ISOLATED, body: readFileSync(file) });
});

// Which tfjs-tflite build the page loads (printed with the table).
const builds = new Set();
context.on("request", (r) => {
    const m = r.url().match(/bench\/wasm\/(tflite_web_api_[a-z_]+\.wasm)/);
    if (m) builds.add(m[1]);
});

const app = context.pages()[0] ?? (await context.newPage());
await app.goto(process.env.BASE_URL);
await app.waitForSelector('[data-testid="analysis"][data-ready="true"]', { timeout: WAIT });
const tfjs = await context.newPage();
await tfjs.goto(`${process.env.BASE_URL}bench/tfjs.html`);
await tfjs.waitForFunction(() => typeof tflite !== "undefined" && typeof tf !== "undefined", null, { timeout: WAIT });
await tfjs.evaluate(() => tflite.setWasmPath("wasm/"));

const median = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    const n = v.length;
    return n === 0 ? NaN : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
};
const ms = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} ms` : "—");

const env = await tfjs.evaluate(() => ({ simd: WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11])), cores: navigator.hardwareConcurrency }));
const isolated = (await app.evaluate(() => self.crossOriginIsolated)) && (await tfjs.evaluate(() => self.crossOriginIsolated));
console.log(`chromium: wasm SIMD ${env.simd ? "yes" : "no"}, hardwareConcurrency ${env.cores}; ${ROUNDS} rounds × ${PER_ROUND} runs of each; clock ${isolated ? "5 µs (cross-origin isolated)" : "100 µs (NOT cross-origin isolated)"}`);
console.log("");
console.log("| model | patchwise layer by layer | patchwise under the board schedule | schedule | tfjs-tflite (XNNPACK, 1 thread) | patchwise / tfjs-tflite |");
console.log("|---|---:|---:|---|---:|---:|");

for (const model of MODELS) {
    const name = basename(model);
    await app.setInputFiles('[data-testid="model-file"]', model);
    await app.waitForSelector(`[data-testid="model-name"]:has-text("${name}")`, { timeout: WAIT });
    await app.waitForSelector('[data-testid="analysis"][data-ready="true"]', { timeout: WAIT });
    await app.waitForSelector('[data-testid="time"]:not([disabled])', { timeout: WAIT });
    const sched = app.locator('[data-testid="schedule"]');
    const splitAttr = await sched.getAttribute("data-split");
    const split = splitAttr === "none" ? null : splitAttr;
    const grid = await sched.getAttribute("data-grid");
    const macs = await app.getAttribute('[data-testid="overhead-pct"]', "data-value").catch(() => null);

    const loaded = await tfjs.evaluate(async (url) => {
        try {
            const m = await tflite.loadTFLiteModel(url, { numThreads: 1 });
            window.bench = m;
            const runner = m.modelRunner;
            if (!runner || typeof runner.infer !== "function") return "tfjs-tflite's model has no modelRunner.infer()";
            // The same bytes every run: a seeded pattern (the kernels' time does not depend on the values).
            let seed = 12345;
            for (const t of runner.getInputs()) {
                const d = t.data();
                for (let i = 0; i < d.length; i++) {
                    seed = (seed * 1103515245 + 12345) >>> 0;
                    d[i] = seed >>> 24;
                }
            }
            runner.infer();
            return "ok";
        } catch (e) {
            return String(e && e.message ? e.message : e);
        }
    }, `models/${name}`);

    const ours = { layer: [], scheduled: [], refused: null };
    const theirs = [];
    for (let r = 0; r < ROUNDS; r++) {
        const before = await app.getAttribute('[data-testid="time-layer-median"]', "data-samples").catch(() => null);
        await app.click('[data-testid="time"]');
        await app.waitForFunction(
            (prev) => {
                const el = document.querySelector('[data-testid="time-layer-median"]');
                const btn = document.querySelector('[data-testid="time"]');
                const refused = document.querySelector('[data-testid="time-error"]');
                return btn && !btn.disabled && (refused || (el && el.getAttribute("data-samples") !== prev));
            },
            before,
            { timeout: WAIT },
        );
        const refused = await app.evaluate(() => document.querySelector('[data-testid="time-error"]')?.textContent ?? null);
        if (refused) {
            ours.refused = refused;
            break;
        }
        const samples = async (id) =>
            ((await app.getAttribute(`[data-testid="${id}"]`, "data-samples").catch(() => null)) ?? "").split(" ").filter(Boolean).map(Number);
        ours.layer.push(...(await samples("time-layer-median")));
        ours.scheduled.push(...(split ? await samples("time-scheduled-median") : []));
        if (loaded === "ok") {
            theirs.push(
                ...(await tfjs.evaluate((n) => {
                    const runner = window.bench.modelRunner;
                    const out = [];
                    for (let i = 0; i < n; i++) {
                        const t0 = performance.now();
                        runner.infer();
                        out.push(performance.now() - t0);
                    }
                    return out;
                }, PER_ROUND)),
            );
        }
    }
    const l = median(ours.layer);
    const s = split ? median(ours.scheduled) : l;
    const t = median(theirs);
    const schedule = split ? `ops 0..=${split}, ${grid.replace("x", "×")} patches (MACs +${Number(macs).toFixed(1)} %)` : "layer by layer";
    const ratio = ours.refused ? `patchwise: ${ours.refused}` : loaded === "ok" ? `${(l / t).toFixed(2)}×` : `tfjs-tflite: ${loaded}`;
    console.log(`| ${name} | ${ms(l)} | ${split ? ms(s) : "(same)"} | ${schedule} | ${loaded === "ok" ? ms(t) : "—"} | ${ratio} |`);
}
console.log("");
console.log(`tfjs-tflite build: ${[...builds].join(", ") || "none loaded"}`);
await context.close();
