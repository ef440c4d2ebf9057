//! `patchwise plan`: per-layer memory, the chosen patch schedule, its peak
//! and MAC overhead, and the Pareto front of the schedule search.

use anyhow::{bail, Context, Result};
use patchwise_core::boards;
use patchwise_core::graph::Graph;
use patchwise_core::patch::Halo;
use patchwise_core::patch::InputMode;
use patchwise_core::plan::document::{LatencyDoc, PlanDocument, LATENCY_BASIS};
use patchwise_core::plan::{self, Candidate, HaloChoice, Later, Report, Schedule, Search, Stage};

/// How the user asked for a schedule.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// `Some(None)` for `--split auto`.
    pub split: Option<Option<usize>>,
    pub grid: Option<(usize, usize)>,
    pub budget: Option<usize>,
    pub board: Option<String>,
    pub streamed_input: bool,
    /// Names the model in `--json` (its file name, preset or spec name).
    pub model_name: Option<String>,
    /// `--halo recompute|cache|auto`.
    pub halo: HaloChoice,
    /// `--then`: patch stages after the first.
    pub then: Then,
}

/// Patch stages after the first, as `--then` asks for them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Then {
    /// One stage (MCUNetV2).
    #[default]
    None,
    /// `--then auto`: searched after the first stage ([`plan::later_stages`]).
    Auto,
    /// `--then A..=B:RxC[:cache]`, once per stage.
    Stages(Later),
}

/// Parses `--then` values: `auto`, or stages `A..=B:RxC` with an optional
/// `:cache` or `:recompute` (`A-B` also reads as a range).
pub fn parse_then(values: &[String]) -> Result<Then> {
    if values.is_empty() {
        return Ok(Then::None);
    }
    if values.iter().any(|v| v == "auto") {
        if values.len() > 1 {
            bail!("--then auto searches the later stages itself: give it alone");
        }
        return Ok(Then::Auto);
    }
    let stages = values.iter().map(|v| parse_stage(v)).collect::<Result<Vec<_>>>()?;
    Later::of(&stages)
        .map(Then::Stages)
        .with_context(|| format!("--then: at most {} patch stages after the first", Later::CAPACITY))
}

fn parse_stage(v: &str) -> Result<Stage> {
    let bad = || format!("--then {v:?}: expected FIRST..=LAST:RxC with an optional :cache, e.g. 14..=20:2x2:cache");
    let mut parts = v.split(':');
    let range = parts.next().with_context(bad)?;
    let (a, b) = range.split_once("..=").or_else(|| range.split_once('-')).with_context(bad)?;
    let (first, last) = (a.trim().parse().ok().with_context(bad)?, b.trim().parse().ok().with_context(bad)?);
    let grid = parse_grid(parts.next().with_context(bad)?).with_context(bad)?;
    let halo = match parts.next() {
        None | Some("recompute") => Halo::Recompute,
        Some("cache") => Halo::Cache,
        Some(_) => bail!(bad()),
    };
    if parts.next().is_some() {
        bail!(bad());
    }
    Ok(Stage { first, last, grid, halo })
}

/// `schedule` with `then`'s stages after its first (`Auto` is `plan`'s).
pub fn apply_then(schedule: Schedule, then: Then) -> Result<Schedule> {
    match then {
        Then::None => Ok(schedule),
        Then::Auto => bail!("--then auto searches against a budget: use it with `plan`; here give the stages"),
        Then::Stages(_) if schedule.split.is_none() => bail!("--then needs a first patch stage (--split)"),
        Then::Stages(later) => Ok(schedule.then(later)),
    }
}

/// The schedule in a file `plan --json` wrote: the whole document, or its
/// `schedule` object (`{"split", "grid", "halo"}`), and whether the document
/// counted the input in SRAM (`None` for a bare schedule).
pub fn read_schedule(path: &std::path::Path) -> Result<(Schedule, Option<bool>)> {
    use patchwise_core::plan::document::ScheduleDoc;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let (doc, sram) = match v.get("schedule") {
        Some(s) => (s.clone(), v.get("input_in_sram").and_then(serde_json::Value::as_bool)),
        None => (v, None),
    };
    let s: ScheduleDoc = serde_json::from_value(doc).with_context(|| {
        format!(
            "{}: expected plan --json's document or its schedule, {{\"split\", \"grid\", \"halo\"}}",
            path.display()
        )
    })?;
    if s.grid[0] == 0 || s.grid[1] == 0 {
        bail!("{}: the schedule's grid has a zero side", path.display());
    }
    Ok((s.into(), sram))
}

/// Parses `recompute`, `cache` or `auto`.
pub fn parse_halo(s: &str) -> Result<HaloChoice> {
    match s {
        "recompute" => Ok(HaloChoice::Recompute),
        "cache" => Ok(HaloChoice::Cache),
        "auto" => Ok(HaloChoice::Auto),
        _ => bail!("--halo {s:?}: expected recompute (MCUNetV2), cache or auto"),
    }
}

/// The one halo mode a schedule given by hand runs under (`auto`: decided
/// in [`Request::resolve`] against the budget).
pub fn halo_of(choice: HaloChoice) -> Halo {
    match choice {
        HaloChoice::Cache => Halo::Cache,
        _ => Halo::Recompute,
    }
}

/// Parses `N` or `RxC`.
pub fn parse_grid(s: &str) -> Result<(usize, usize)> {
    let parse = |v: &str| v.trim().parse::<usize>().ok().filter(|&n| n > 0);
    let grid = match s.split_once(['x', 'X']) {
        Some((r, c)) => parse(r).zip(parse(c)),
        None => parse(s).map(|n| (n, n)),
    };
    grid.with_context(|| format!("--grid {s:?}: expected N or RxC with positive numbers, e.g. 4 or 4x3"))
}

/// Parses an op index or `auto`.
pub fn parse_split(s: &str) -> Result<Option<usize>> {
    if s == "auto" {
        return Ok(None);
    }
    s.parse().map(Some).with_context(|| format!("--split {s:?}: expected an operator index or `auto`"))
}

impl Request {
    pub fn mode(&self) -> InputMode {
        if self.streamed_input {
            InputMode::Streamed
        } else {
            InputMode::InArena
        }
    }

    /// The arena budget in bytes, from `--budget` or `--board` (its SRAM less
    /// the stack reserve).
    pub fn budget(&self) -> Result<Option<usize>> {
        if let Some(name) = &self.board {
            let b = boards::board(name).with_context(|| {
                let names: Vec<&str> = boards::BOARDS.iter().map(|b| b.name).collect();
                format!("unknown board {name:?}; known boards: {}", names.join(", "))
            })?;
            return Ok(Some(b.arena_budget()));
        }
        Ok(self.budget)
    }

    /// Resolves the request to a schedule (searching when asked or when only a budget is given).
    pub fn resolve(&self, g: &Graph, search: &Search) -> Result<Schedule> {
        let budget = self.budget()?;
        match (self.split, self.grid) {
            (Some(Some(split)), grid) => {
                let s = Schedule::patched(split, grid.unwrap_or((4, 4)));
                match self.halo {
                    HaloChoice::Recompute => Ok(s),
                    HaloChoice::Cache => Ok(s.with_halo(Halo::Cache)),
                    // Recompute, cache or a per-layer mixture: the fewest MACs within the
                    // budget (ties: the lower peak); recompute if none fits.
                    HaloChoice::Auto => Ok(plan::halo_choices(g, s, self.mode())
                        .into_iter()
                        .filter(|c| budget.is_none_or(|b| c.peak_bytes <= b))
                        .min_by(|a, b| a.macs.cmp(&b.macs).then(a.peak_bytes.cmp(&b.peak_bytes)))
                        .map_or(s, |c| c.schedule)),
                }
            }
            (None, Some(_)) => bail!("--grid needs --split (an operator index or auto)"),
            // `--split auto --grid RxC`: the split with the smallest peak at that grid.
            (Some(None), Some(grid)) => search
                .candidates
                .iter()
                .filter(|c| {
                    c.schedule.grid == grid && c.schedule.split.is_some() && budget.is_none_or(|b| c.peak_bytes <= b)
                })
                .min_by(|a, b| a.peak_bytes.cmp(&b.peak_bytes).then(a.macs.cmp(&b.macs)))
                .map(|c| c.schedule)
                .with_context(|| {
                    format!("no legal patch stage supports a {}x{} grid within the budget", grid.0, grid.1)
                }),
            (Some(None), _) | (None, None) => match budget {
                Some(b) => Ok(search.best_within(b)?.schedule),
                None if self.split.is_some() => {
                    Ok(search.pareto.first().map_or(Schedule::LAYER_BY_LAYER, |c| c.schedule))
                }
                None => {
                    let _ = g;
                    Ok(Schedule::LAYER_BY_LAYER)
                }
            },
        }
    }
}

/// The `plan --json` document (also what the playground's download and tests compare against).
pub fn document(r: &Report, search: &Search, budget: Option<usize>) -> PlanDocument {
    PlanDocument::new(r, &search.pareto, budget).with_search_limit(search.limit_note())
}

/// Prints the plan of `g`. With `without_rd = Some((base, trained))` the
/// graph is an RD variant and `base` the original: both are reported side by
/// side (`trained`: the original is a trained model, so RD is a what-if).
pub fn plan(g: &Graph, req: &Request, as_json: bool, without_rd: Option<(&Graph, bool)>) -> Result<()> {
    let mode = req.mode();
    let mut search = plan::search(g, mode).with_halo(g, mode, req.halo);
    let budget = req.budget()?;
    // `--then auto` with the first stage searched too: stages × grids × halos
    // on one front; with `--split N` given, the later stages after that one.
    let joint = req.then == Then::Auto && !matches!(req.split, Some(Some(_)));
    if joint {
        search = search.with_later_stages(g, mode);
    }
    let first = req.resolve(g, &search)?;
    let mut later_front = Vec::new();
    let schedule = match req.then {
        Then::Auto if first.split.is_none() && budget.is_none() => {
            bail!("--then auto needs a first patch stage (give --split, --budget or --board)")
        }
        Then::Auto if joint => first,
        Then::Auto => {
            let tried = plan::later_stages(g, first, mode);
            later_front = plan::pareto_front(&tried);
            pick_within(&tried, budget).map_or(first, |c| c.schedule)
        }
        then => apply_then(first, then)?,
    };
    let r = plan::report(g, schedule, mode)?;
    let before = match without_rd {
        Some((base, trained)) => {
            let bs = plan::search(base, mode).with_halo(base, mode, req.halo);
            let sched = req.resolve(base, &bs)?;
            Some((plan::report(base, sched, mode)?, trained))
        }
        None => None,
    };
    if as_json {
        let mut doc = document(&r, &search, budget)
            .with_names(req.model_name.as_deref(), req.board.as_deref())
            .with_latency(g, mode);
        if let Some((b, trained)) = &before {
            doc = doc.with_rd_baseline(b, *trained);
        }
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("stages (by output resolution):");
    println!("  {:<10} {:<10} {:>12} {:>14} {:>12}", "ops", "output", "MACs", "peak live B", "weight B");
    for st in &r.stages {
        let ops = format!("{}..={}", st.first, st.last);
        let res = format!("{}x{}", st.resolution.0, st.resolution.1);
        println!("  {:<10} {:<10} {:>12} {:>14} {:>12}", ops, res, st.macs, st.layer_peak_bytes, st.weight_bytes);
    }
    println!(
        "{:>4}  {:<18} {:<18} {:>12} {:>12} {:>12} {:>12}",
        "#", "op", "output", "MACs", "sched MACs", "live B", "sched live B"
    );
    for l in &r.layers {
        println!(
            "{:>4}{} {:<18} {:<18} {:>12} {:>12} {:>12} {:>12}",
            l.index,
            if l.in_patch_stage { "*" } else { " " },
            l.op,
            format!("{:?}", l.output_shape),
            l.macs,
            l.scheduled_macs,
            l.layer_live_bytes,
            l.scheduled_live_bytes
        );
    }
    match r.schedule.split {
        Some(_) if !r.schedule.later.is_empty() => {
            println!("schedule: {} patch stages (marked *):", r.schedule.later.len() + 1);
            for (first, last, grid, halo) in r.schedule.stage_list() {
                println!("  ops {first}..={last}, grid {}x{}, halos {}", grid.0, grid.1, halo_text(halo));
            }
        }
        Some(s) => println!(
            "schedule: patch stage = ops 0..={s} (marked *), grid {}x{}, halos {}",
            r.schedule.grid.0,
            r.schedule.grid.1,
            halo_text(r.schedule.halo)
        ),
        None => println!("schedule: layer by layer (no patching)"),
    }
    if let Some(why) = &r.stage_limit {
        println!("patch stages end before: {why}");
    }
    println!(
        "input image: {}",
        if mode == InputMode::InArena {
            "held whole in SRAM (TFLite Micro convention)"
        } else {
            "streamed patch by patch (not held whole in SRAM)"
        }
    );
    println!("layer-by-layer peak: {} B", r.layer_peak_bytes);
    println!("scheduled peak:      {} B  ({:.2}x lower)", r.patch_peak_bytes, r.reduction());
    println!("MACs: {} (+{} overhead, {:.2}% of {})", r.macs, r.overhead_macs, r.overhead_pct, r.base_macs);
    println!("flash (weights): {} B", r.flash_bytes);
    if let Some(b) = budget {
        println!("budget: {b} B -> {}", if r.patch_peak_bytes <= b { "fits" } else { "does NOT fit" });
    }
    if let Some(board) = req.board.as_deref().and_then(boards::board) {
        // A deployed firmware reads its input from a sensor; `export` also counts the bundled one.
        let f = patchwise_core::fit::FlashFit::new(board, patchwise_core::fit::pool_bytes(g)?, 0);
        println!(
            "flash: about {} B of {} B on {} ({}) -> {}",
            f.estimate(),
            f.flash,
            board.name,
            f.breakdown(),
            if f.fits() { "fits" } else { "does NOT fit" }
        );
    }
    if let Some(l) = LatencyDoc::new(g, r.schedule, mode) {
        print_latency(&l, req.board.as_deref());
    }
    if let Some((b, trained)) = &before {
        println!("receptive-field redistribution, side by side:");
        println!("  {:<10} {:>14} {:>14} {:>14} {:>10}", "", "layer peak B", "sched peak B", "MACs", "overhead");
        for (name, x) in [("without RD", b), ("with RD", &r)] {
            println!(
                "  {:<10} {:>14} {:>14} {:>14} {:>9.2}%",
                name, x.layer_peak_bytes, x.patch_peak_bytes, x.macs, x.overhead_pct
            );
        }
        if *trained {
            println!("  note: {}", plan::RD_WHAT_IF);
        }
    }
    println!("Pareto front (peak B, MACs, estimated Cortex-M7 instructions, schedule):");
    let model = &patchwise_core::latency::cortex_m7::CORTEX_M7;
    for c in &search.pareto {
        let est = patchwise_core::latency::estimate(g, c.schedule, mode, model)
            .map_or_else(|_| "—".to_string(), |e| format!("{:.1} M", e.instructions / 1e6));
        println!("  {:>10} {:>12} {:>10}  {}", c.peak_bytes, c.macs, est, schedule_label(&c.schedule));
    }
    if let Some(note) = search.limit_note() {
        println!("note: {note}");
    }
    if !later_front.is_empty() {
        println!("with later patch stages after the first (peak B, MACs, schedule):");
        for c in &later_front {
            println!("  {:>10} {:>12}  {}", c.peak_bytes, c.macs, schedule_label(&c.schedule));
        }
    }
    Ok(())
}

/// Within `budget`, the fewest MACs (ties: the lower peak); without one, or
/// when none fits, the smallest peak.
fn pick_within(tried: &[Candidate], budget: Option<usize>) -> Option<Candidate> {
    let fits = tried
        .iter()
        .filter(|c| budget.is_some_and(|b| c.peak_bytes <= b))
        .min_by(|a, b| a.macs.cmp(&b.macs).then(a.peak_bytes.cmp(&b.peak_bytes)));
    fits.or_else(|| tried.iter().min_by(|a, b| a.peak_bytes.cmp(&b.peak_bytes).then(a.macs.cmp(&b.macs)))).copied()
}

/// One line per schedule: `split 12 grid 4x4, halos cached; then ops 14..=20 grid 2x2`.
pub fn schedule_label(s: &Schedule) -> String {
    let Some(split) = s.split else { return "layer by layer".into() };
    let mut text = format!("split {split} grid {}x{}{}", s.grid.0, s.grid.1, halo_suffix(s.halo));
    for st in s.later.iter() {
        text +=
            &format!("; then ops {}..={} grid {}x{}{}", st.first, st.last, st.grid.0, st.grid.1, halo_suffix(st.halo));
    }
    text
}

/// How a schedule's patches treat their halos, for the text report.
pub fn halo_text(h: Halo) -> String {
    match h {
        Halo::Recompute => "recomputed (MCUNetV2)".into(),
        Halo::Cache => "cached (each stage pixel computed once; row and column caches in the arena)".into(),
        Halo::Layers(set) if set.is_empty() => "recomputed (no stage operator caches)".into(),
        Halo::Layers(set) => {
            format!("cached at the outputs of ops {set} (row and column caches in the arena), recomputed elsewhere")
        }
    }
}

/// `, halos cached` / `, halos cached at ops 3,5` after a schedule in a list.
pub fn halo_suffix(h: Halo) -> String {
    if h == Halo::Recompute {
        String::new()
    } else {
        format!(", {}", h.label())
    }
}

/// The estimated time per board (only `board`'s, when one is named).
fn print_latency(l: &LatencyDoc, board: Option<&str>) {
    let rows: Vec<_> = l.boards.iter().filter(|b| board.is_none_or(|n| n == b.board)).collect();
    if rows.is_empty() {
        if let Some(n) = board {
            println!("latency: no estimate for {n} (only the Armv7E-M build's instruction costs are measured)");
        }
        return;
    }
    println!("latency ({LATENCY_BASIS}):");
    for b in rows {
        println!(
            "  {:<18} {:>4} MHz  {:>9.1} ms  (layer by layer {:.1} ms)",
            b.board, b.clock_mhz, b.ms, b.layer_by_layer_ms
        );
    }
    if !l.unmeasured_ops.is_empty() {
        println!("  rough: {} priced with the pooled cost (not measured)", l.unmeasured_ops.join(", "));
    }
}
