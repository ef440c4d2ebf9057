//! The view's settings in the URL (`#model=mbv2-w1.0-r224&rd=1&split=8&grid=3x5&input=sram&board=stm32f746g-disco`),
//! so a link reproduces the view. `model` is a preset's base name (absent:
//! the bundled model; a loaded file cannot travel in a link), `rd=1` turns
//! receptive-field redistribution on; `split=none` is layer by layer;
//! `budget=N` (bytes) replaces `board` for a custom budget; `input=streamed`
//! does not count the input image in SRAM, `halo=cache` caches the patches' halos, `halo=auto` picks the halo
//! family (recompute, cache or per layer) with the best schedule for the budget. `file=NAME` marks a view of a
//! loaded file: the link opens the bundled model and says which file to open.

use patchwise_core::boards;

use crate::proto::Mode;
use patchwise_core::patch::Halo;
use patchwise_core::plan::{HaloChoice, Later, Stage};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    /// A preset's base name (`models::presets`), or a shipped model's stem (`models::SHIPPED`).
    pub model: Option<String>,
    pub rd: Option<bool>,
    /// `Some(None)`: layer by layer; `None`: not given (search and pick the best).
    pub split: Option<Option<usize>>,
    pub grid: Option<(usize, usize)>,
    /// `halo=cache`: the patches cache their halos; `halo=auto`: every halo
    /// family is searched (absent: recompute).
    pub halo: HaloChoice,
    /// `then=14-20:2x2:cache,30-40:2x2`: patch stages after the first.
    pub later: Later,
    pub mode: Option<Mode>,
    pub board: Option<String>,
    pub budget: Option<usize>,
    /// The name of a loaded file the view was of (a link cannot carry the file itself).
    pub file: Option<String>,
}

/// `14-20:2x2:cache,30-40:2x2` (a malformed list is ignored whole).
fn parse_later(v: &str) -> Option<Later> {
    let stage = |t: &str| -> Option<Stage> {
        let mut parts = t.split(':');
        let (a, b) = parts.next()?.split_once('-')?;
        let grid = parse_grid(parts.next()?)?;
        let halo = match parts.next() {
            None => Halo::Recompute,
            Some("cache") => Halo::Cache,
            Some(_) => return None,
        };
        Some(Stage { first: a.parse().ok()?, last: b.parse().ok()?, grid, halo })
    };
    Later::of(&v.split(',').map(stage).collect::<Option<Vec<_>>>()?)
}

/// Percent-encodes all but ASCII letters, digits and `._-`.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn parse_grid(v: &str) -> Option<(usize, usize)> {
    let n = |s: &str| s.trim().parse::<usize>().ok().filter(|&n| n > 0);
    match v.split_once(['x', 'X']) {
        Some((r, c)) => n(r).zip(n(c)),
        None => n(v).map(|k| (k, k)),
    }
}

impl Settings {
    /// Parses a URL hash or query (with or without the leading `#`/`?`);
    /// unknown keys and bad values are ignored.
    pub fn parse(s: &str) -> Self {
        let mut out = Settings::default();
        for pair in s.trim_start_matches(['#', '?']).split('&') {
            let Some((k, v)) = pair.split_once('=') else { continue };
            match k {
                "model" => {
                    if let Some((base, rd)) = crate::models::preset(v) {
                        out.model = Some(base.to_string());
                        if rd {
                            out.rd = Some(true);
                        }
                    } else if crate::models::shipped(v).is_some() {
                        out.model = Some(v.to_string());
                    }
                }
                "rd" => {
                    out.rd = match v {
                        "1" | "on" | "true" => Some(true),
                        "0" | "off" | "false" => Some(false),
                        _ => out.rd,
                    }
                }
                "split" => {
                    out.split = match v {
                        "none" => Some(None),
                        _ => v.parse().ok().map(Some),
                    }
                }
                "grid" => out.grid = parse_grid(v),
                "then" => out.later = parse_later(v).unwrap_or_default(),
                "halo" => {
                    out.halo = match v {
                        "cache" => HaloChoice::Cache,
                        "auto" => HaloChoice::Auto,
                        _ => HaloChoice::Recompute,
                    }
                }
                "input" => {
                    out.mode = match v {
                        "sram" => Some(Mode::InArena),
                        "streamed" => Some(Mode::Streamed),
                        _ => None,
                    }
                }
                "board" => out.board = boards::board(v).map(|b| b.name.to_string()),
                "budget" => out.budget = v.parse().ok().filter(|&b| b > 0),
                "file" => out.file = decode(v).filter(|f| !f.is_empty() && f.len() <= 255),
                _ => {}
            }
        }
        out
    }

    /// The hash for a view (without `#`).
    pub fn to_hash(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = &self.model {
            parts.push(format!("model={m}"));
        } else if let Some(f) = &self.file {
            parts.push(format!("file={}", encode(f)));
        }
        if self.rd == Some(true) {
            parts.push("rd=1".into());
        }
        match self.split {
            Some(Some(s)) => parts.push(format!("split={s}")),
            Some(None) => parts.push("split=none".into()),
            None => {}
        }
        if let (Some(Some(_)), Some((r, c))) = (self.split, self.grid) {
            parts.push(format!("grid={r}x{c}"));
            if self.halo == HaloChoice::Cache {
                parts.push("halo=cache".into());
            }
        }
        if self.halo == HaloChoice::Auto {
            parts.push("halo=auto".into());
        }
        if matches!(self.split, Some(Some(_))) && !self.later.is_empty() {
            let stages: Vec<String> = self
                .later
                .iter()
                .map(|s| {
                    let cache = if s.halo == Halo::Cache { ":cache" } else { "" };
                    format!("{}-{}:{}x{}{cache}", s.first, s.last, s.grid.0, s.grid.1)
                })
                .collect();
            parts.push(format!("then={}", stages.join(",")));
        }
        if let Some(m) = self.mode {
            parts.push(format!("input={}", if m == Mode::InArena { "sram" } else { "streamed" }));
        }
        match (&self.board, self.budget) {
            (Some(b), _) => parts.push(format!("board={b}")),
            (None, Some(b)) => parts.push(format!("budget={b}")),
            _ => {}
        }
        parts.join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let s = Settings {
            model: None,
            rd: None,
            split: Some(Some(15)),
            grid: Some((1, 2)),
            halo: HaloChoice::Recompute,
            later: Later::NONE,
            mode: Some(Mode::InArena),
            board: Some("stm32f746g-disco".into()),
            budget: None,
            file: None,
        };
        assert_eq!(s.to_hash(), "split=15&grid=1x2&input=sram&board=stm32f746g-disco");
        assert_eq!(Settings::parse(&format!("#{}", s.to_hash())), s);
        let h = Settings { halo: HaloChoice::Cache, ..s.clone() };
        assert_eq!(h.to_hash(), "split=15&grid=1x2&halo=cache&input=sram&board=stm32f746g-disco");
        assert_eq!(Settings::parse(&h.to_hash()), h);
        let l = Settings {
            later: Later::of(&[
                Stage { first: 16, last: 20, grid: (2, 2), halo: Halo::Cache },
                Stage { first: 30, last: 40, grid: (1, 3), halo: Halo::Recompute },
            ])
            .unwrap(),
            ..s.clone()
        };
        assert_eq!(l.to_hash(), "split=15&grid=1x2&then=16-20:2x2:cache,30-40:1x3&input=sram&board=stm32f746g-disco");
        assert_eq!(Settings::parse(&l.to_hash()), l);
        assert_eq!(Settings::parse("then=16-20:2x2:sometimes").later, Later::NONE, "malformed: ignored");
        let a = Settings { halo: HaloChoice::Auto, ..s.clone() };
        assert_eq!(a.to_hash(), "split=15&grid=1x2&halo=auto&input=sram&board=stm32f746g-disco");
        assert_eq!(Settings::parse(&a.to_hash()), a);
        let c = Settings { split: Some(None), mode: Some(Mode::Streamed), budget: Some(1000), ..Default::default() };
        assert_eq!(Settings::parse(&c.to_hash()), c);
        let p = Settings {
            model: Some("mbv2-w1.0-r224".into()),
            rd: Some(true),
            split: Some(Some(8)),
            grid: Some((3, 5)),
            ..Default::default()
        };
        assert_eq!(p.to_hash(), "model=mbv2-w1.0-r224&rd=1&split=8&grid=3x5");
        assert_eq!(Settings::parse(&p.to_hash()), p);
        assert_eq!(
            Settings::parse("model=mcunet-like-r176-rd"),
            Settings { model: Some("mcunet-like-r176".into()), rd: Some(true), ..Default::default() }
        );
    }

    #[test]
    fn a_loaded_file_is_named_in_the_link() {
        let s = Settings { file: Some("my model & co.tflite".into()), split: Some(None), ..Default::default() };
        assert_eq!(s.to_hash(), "file=my%20model%20%26%20co.tflite&split=none");
        assert_eq!(Settings::parse(&s.to_hash()), s);
        assert_eq!(Settings::parse("file=%ZZ").file, None);
    }

    #[test]
    fn junk_is_ignored() {
        let s = Settings::parse("?split=x&grid=0x3&board=nope&budget=-1&zzz&input=maybe&model=resnet&rd=2");
        assert_eq!(s, Settings::default());
        assert_eq!(Settings::parse("grid=4").grid, Some((4, 4)));
    }
}
