//! `patchwise explore`: which networks of a family fit a board layer by layer,
//! which only patch-based, and the largest (most MACs) that fits either way.

use std::fmt::Write as _;

use anyhow::{bail, Context, Result};
use patchwise_core::boards::Board;
use patchwise_core::explore::{self, Family, Frontier, SpecPoint, Sweep};
use patchwise_core::patch::InputMode;
use serde::Serialize;

pub struct Request {
    pub board: String,
    pub family: String,
    pub streamed_input: bool,
    /// Arena budget in bytes instead of the board's SRAM less the stack reserve.
    pub budget: Option<usize>,
    /// `LO:HI:STEP` or a comma-separated list.
    pub resolutions: Option<String>,
    /// A comma-separated list.
    pub widths: Option<String>,
    /// `off`, `on` or `both`.
    pub rd: String,
    pub classes: Option<usize>,
}

/// The `explore --json` document.
#[derive(Serialize)]
pub struct Document<'a> {
    pub board: &'a str,
    pub family: Family,
    pub budget_bytes: usize,
    pub flash_limit_bytes: usize,
    pub code_bytes: usize,
    pub input_in_sram: bool,
    pub specs: &'a [SpecPoint],
    pub frontier: FrontierDoc<'a>,
}

#[derive(Serialize)]
pub struct FrontierDoc<'a> {
    pub layer: Option<&'a SpecPoint>,
    pub patch: Option<&'a SpecPoint>,
}

fn parse_resolutions(s: &str) -> Result<Vec<usize>> {
    let parts: Vec<&str> = s.split(':').collect();
    if let [lo, hi, step] = parts[..] {
        let (lo, hi, step): (usize, usize, usize) = (
            lo.trim().parse().context("--resolutions LO:HI:STEP: LO is not a number")?,
            hi.trim().parse().context("--resolutions LO:HI:STEP: HI is not a number")?,
            step.trim().parse().context("--resolutions LO:HI:STEP: STEP is not a number")?,
        );
        if step == 0 {
            bail!("--resolutions {s}: the step must be at least 1");
        }
        return Ok((lo..=hi).step_by(step).collect());
    }
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim().parse().with_context(|| format!("--resolutions: {p:?} is not a number")))
        .collect()
}

fn parse_widths(s: &str) -> Result<Vec<f32>> {
    s.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| p.trim().parse().with_context(|| format!("--widths: {p:?} is not a number")))
        .collect()
}

impl Request {
    pub fn sweep(&self) -> Result<Sweep> {
        let mut sweep = Sweep::new(
            Family::parse(&self.family)
                .map_err(|_| anyhow::anyhow!("unknown family {:?} (known: mbv2, mcunet)", self.family))?,
        );
        if let Some(r) = &self.resolutions {
            sweep.resolutions = parse_resolutions(r)?;
        }
        if let Some(w) = &self.widths {
            sweep.widths = parse_widths(w)?;
        }
        if let Some(c) = self.classes {
            sweep.classes = c;
        }
        sweep.rd = match self.rd.as_str() {
            "off" => vec![false],
            "on" => vec![true],
            "both" => vec![false, true],
            other => bail!("--rd {other:?}: expected off, on or both"),
        };
        Ok(sweep)
    }
}

/// Evaluates every spec of `sweep`, on every core, in the sweep's order.
pub fn evaluate_all(sweep: &Sweep, board: &Board, budget: usize, mode: InputMode) -> Result<Vec<SpecPoint>> {
    let points = sweep.points()?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(points.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<patchwise_core::Result<SpecPoint>>> = (0..points.len()).map(|_| None).collect();
    let results = std::sync::Mutex::new(&mut out);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&p) = points.get(i) else { break };
                let r = explore::evaluate(sweep, p, board, budget, mode);
                results.lock().expect("no thread panics holding the lock")[i] = Some(r);
            });
        }
    });
    out.into_iter()
        .zip(&points)
        .map(|(r, (res, w, rd))| {
            r.expect("every spec evaluated")
                .with_context(|| format!("{} r{res} w{w}{}", sweep.family.name(), if *rd { " rd" } else { "" }))
        })
        .collect()
}

fn kb(b: usize) -> String {
    format!("{:.1} kB", b as f64 / 1000.0)
}

fn describe(p: &SpecPoint) -> String {
    let sched = match p.schedule.split {
        None => "layer by layer".to_string(),
        Some(s) => format!("ops 0..={s} in {}x{} patches", p.schedule.grid.0, p.schedule.grid.1),
    };
    format!(
        "r{} w{}{}: {:.1} M MACs, flash {}, peak {} layer by layer / {} ({sched}, +{:.1} % MACs)",
        p.resolution,
        p.width,
        if p.rd { " RD" } else { "" },
        p.macs as f64 / 1e6,
        kb(p.flash_bytes),
        kb(p.layer_peak_bytes),
        kb(p.patch_peak_bytes),
        (p.patch_macs.saturating_sub(p.macs)) as f64 * 100.0 / p.macs.max(1) as f64,
    )
}

/// One cell of the grid: `L` its SRAM fits layer by layer, `P` only
/// patch-based, `.` neither; `*` its weights and code do not fit the flash.
pub fn cell(p: &SpecPoint, budget: usize) -> String {
    let sram = if p.layer_peak_bytes <= budget {
        "L"
    } else if p.patch_peak_bytes <= budget {
        "P"
    } else {
        "."
    };
    format!("{sram}{}", if p.flash_fits { "" } else { "*" })
}

/// The text report: a resolution × width grid per RD choice, then the frontier.
pub fn text(sweep: &Sweep, board: &Board, budget: usize, points: &[SpecPoint], f: Frontier) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} networks ({} classes) for {}: arena budget {} of SRAM; flash {} for the weights and about {} of code",
        sweep.family.name(),
        sweep.classes,
        board.name,
        kb(budget),
        kb(board.flash_bytes as usize),
        kb(explore::code_bytes(board)),
    );
    let _ =
        writeln!(s, "SRAM: L fits layer by layer, P fits only patch-based, . does not fit; * the flash does not fit");
    for &rd in &sweep.rd {
        let _ = writeln!(s, "\n{}", if rd { "with RD" } else { "without RD" });
        let _ = write!(s, "{:>6}", "width");
        for w in &sweep.widths {
            let _ = write!(s, "{w:>6}");
        }
        let _ = writeln!(s);
        for &r in &sweep.resolutions {
            let _ = write!(s, "{:>6}", format!("r{r}"));
            for &w in &sweep.widths {
                let p = points.iter().find(|p| p.resolution == r && p.width == w && p.rd == rd);
                let c = p.map_or_else(|| "?".to_string(), |p| cell(p, budget));
                let _ = write!(s, "{c:>6}");
            }
            let _ = writeln!(s);
        }
    }
    let _ = writeln!(s, "\nlargest that fits (most MACs):");
    for (what, i) in [("layer by layer", f.layer), ("patch-based", f.patch)] {
        match i {
            Some(i) => {
                let _ = writeln!(s, "  {what:<15} {}", describe(&points[i]));
            }
            None => {
                let smallest = points.iter().map(|p| p.patch_peak_bytes).min().unwrap_or(0);
                let _ = writeln!(
                    s,
                    "  {what:<15} nothing fits (the smallest peak of the sweep is {}; budget {})",
                    kb(smallest),
                    kb(budget)
                );
            }
        }
    }
    s
}

pub fn explore(req: &Request, json: bool) -> Result<()> {
    let board = explore::board(&req.board).map_err(anyhow::Error::msg)?;
    let sweep = req.sweep()?;
    let budget = explore::arena_budget(board, req.budget);
    let mode = if req.streamed_input { InputMode::Streamed } else { InputMode::InArena };
    let points = evaluate_all(&sweep, board, budget, mode)?;
    let f = explore::frontier(&points);
    if json {
        let doc = Document {
            board: board.name,
            family: sweep.family,
            budget_bytes: budget,
            flash_limit_bytes: board.flash_bytes as usize,
            code_bytes: explore::code_bytes(board),
            input_in_sram: mode == InputMode::InArena,
            specs: &points,
            frontier: FrontierDoc { layer: f.layer.map(|i| &points[i]), patch: f.patch.map(|i| &points[i]) },
        };
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", text(&sweep, board, budget, &points, f));
    }
    Ok(())
}
