//! The library behind the `patchwise` binary, shared with the workspace tests.

pub mod detect;
pub mod explore;
pub mod export;
pub mod io;
pub mod plan;
pub mod run;
