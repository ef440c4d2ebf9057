// Where the browser's inference time goes, operator by operator: core's
// `op_times` example (wasm32-wasip1, built as the worker is) in a worker of
// headless Chromium, through a minimal WASI shim (the model comes on stdin,
// the clock is performance.now(), 5 µs steps in a cross-origin-isolated page).
// Driven by `tools/bench-web ops`: CHROMIUM, WASM, MODELS, RUNS, EXTRA (env
// assignments for op_times, e.g. "SPLIT=15 GRID=1x2").
import { chromium } from 'playwright-core';
import fs from 'node:fs';

const env = (k, d) => process.env[k] ?? d;
const wasm = fs.readFileSync(env('WASM')).toString('base64');
const extra = env('EXTRA', '').split(' ').filter(Boolean);
const browser = await chromium.launch({ executablePath: env('CHROMIUM', '/usr/bin/chromium'), args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  // Isolated (COOP + COEP), so that the worker's clock has 5 µs steps, not 100 µs.
  const origin = 'http://localhost:9/';
  await page.route(origin + '**', r => r.fulfill({
    status: 200, contentType: 'text/html', body: '<!doctype html><title>op times</title>',
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  }));
  await page.goto(origin);
  if (!(await page.evaluate(() => self.crossOriginIsolated))) console.error('op-times: not cross-origin isolated (100 µs clock)');
  for (const model of env('MODELS', '').split(' ').filter(Boolean)) {
    const out = await page.evaluate(runInWorker, {
      wasm, model: fs.readFileSync(model).toString('base64'), env: [`RUNS=${env('RUNS', '201')}`, ...extra],
    });
    console.log(out.replace(/^-:/, model + ':'));
  }
} finally {
  await browser.close();
}

// In the page: a worker instantiates the module with the shim and runs `_start`.
async function runInWorker({ wasm, model, env }) {
  const worker = () => {
    onmessage = async ({ data: { bytes, input, env } }) => {
      let mem, pos = 0, text = '';
      const args = ['op_times', '-'];
      const enc = new TextEncoder(), dec = new TextDecoder();
      const dv = () => new DataView(mem.buffer), u8 = () => new Uint8Array(mem.buffer);
      const sizes = (list, a, b) => {
        dv().setUint32(a, list.length, true);
        dv().setUint32(b, list.reduce((n, s) => n + enc.encode(s).length + 1, 0), true);
        return 0;
      };
      const strings = (list, ptrs, buf) => {
        for (const [i, s] of list.entries()) {
          dv().setUint32(ptrs + 4 * i, buf, true);
          const e = enc.encode(s + '\0');
          u8().set(e, buf);
          buf += e.length;
        }
        return 0;
      };
      const iovs = (ptr, n, f) => {
        let done = 0;
        for (let i = 0; i < n; i++) {
          const p = dv().getUint32(ptr + 8 * i, true), l = dv().getUint32(ptr + 8 * i + 4, true);
          const k = f(p, l);
          done += k;
          if (k < l) break;
        }
        return done;
      };
      const wasi = {
        args_sizes_get: (a, b) => sizes(args, a, b), args_get: (p, b) => strings(args, p, b),
        environ_sizes_get: (a, b) => sizes(env, a, b), environ_get: (p, b) => strings(env, p, b),
        clock_time_get: (id, precision, ptr) => { dv().setBigUint64(ptr, BigInt(Math.round(performance.now() * 1e6)), true); return 0; },
        fd_write: (fd, ptr, n, written) => {
          dv().setUint32(written, iovs(ptr, n, (p, l) => { text += dec.decode(u8().slice(p, p + l)); return l; }), true);
          return 0;
        },
        fd_read: (fd, ptr, n, read) => {
          dv().setUint32(read, iovs(ptr, n, (p, l) => {
            const k = Math.min(l, input.length - pos);
            u8().set(input.subarray(pos, pos + k), p);
            pos += k;
            return k;
          }), true);
          return 0;
        },
        fd_prestat_get: () => 8, fd_prestat_dir_name: () => 8, fd_close: () => 0,
        fd_fdstat_get: (fd, p) => { u8().fill(0, p, p + 24); return 0; },
        random_get: (p, l) => { crypto.getRandomValues(u8().subarray(p, p + l)); return 0; },
        sched_yield: () => 0,
        proc_exit: code => { throw new Error(`exit ${code}`); },
      };
      const imports = { wasi_snapshot_preview1: new Proxy(wasi, { get: (t, k) => t[k] ?? (() => { text += `op-times: no WASI ${String(k)}\n`; return 52; }) }) };
      const { instance } = await WebAssembly.instantiate(bytes, imports);
      mem = instance.exports.memory;
      try { instance.exports._start(); } catch (e) { if (String(e) !== 'Error: exit 0') text += String(e); }
      postMessage(text);
    };
  };
  const bytes = Uint8Array.from(atob(wasm), c => c.charCodeAt(0));
  const input = Uint8Array.from(atob(model), c => c.charCodeAt(0));
  const w = new Worker(URL.createObjectURL(new Blob([`(${worker})()`], { type: 'text/javascript' })));
  return await new Promise(resolve => { w.onmessage = e => resolve(e.data); w.postMessage({ bytes, input, env }); });
}
