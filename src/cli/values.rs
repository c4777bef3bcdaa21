//! Values of arguments that clap cannot parse alone: `--as`, `--parallel`,
//! durations.

use gwlab_core::implementations::{Implementation, UnknownImplementation};

/// `--as`: the implementations the embedded gateway answers as, or `help`
/// (list them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsArg {
    Help,
    Use(Vec<Implementation>),
}

impl AsArg {
    /// The one implementation of a command that takes one (`spec` when
    /// `--as` is not given).
    pub fn one(arg: &Option<AsArg>) -> Implementation {
        match arg {
            Some(AsArg::Use(list)) => list.first().copied().unwrap_or_default(),
            _ => Implementation::Spec,
        }
    }
}

/// Why an `--as` value is not one gwlab takes.
#[derive(Debug, thiserror::Error)]
pub enum AsError {
    #[error(transparent)]
    Unknown(#[from] UnknownImplementation),
    #[error("`{0}`: this command answers as one implementation; `gwlab test --as` takes a list")]
    OnlyOne(String),
}

pub(crate) fn parse_as(s: &str) -> Result<AsArg, AsError> {
    if s.trim() == "help" {
        return Ok(AsArg::Help);
    }
    Ok(AsArg::Use(Implementation::parse_list(s)?))
}

pub(crate) fn parse_as_one(s: &str) -> Result<AsArg, AsError> {
    match parse_as(s)? {
        AsArg::Use(list) if list.len() > 1 => Err(AsError::OnlyOne(s.into())),
        arg => Ok(arg),
    }
}

/// Why a `--parallel` value is not a number of scenarios at a time.
#[derive(Debug, thiserror::Error)]
pub enum ParallelError {
    #[error("run at least 1 scenario at a time")]
    Zero,
    #[error("`{given}`: {source}")]
    NotANumber {
        given: String,
        #[source]
        source: std::num::ParseIntError,
    },
}

/// `--parallel N`: at least one scenario at a time.
pub(crate) fn parse_parallel(s: &str) -> Result<usize, ParallelError> {
    match s.parse::<usize>() {
        Ok(0) => Err(ParallelError::Zero),
        Ok(n) => Ok(n),
        Err(source) => Err(ParallelError::NotANumber {
            given: s.into(),
            source,
        }),
    }
}

pub(crate) fn parse_duration(
    s: &str,
) -> Result<std::time::Duration, crate::scenario::duration::DurationError> {
    crate::scenario::duration::parse(s)
}

/// `--gateway-api VERSION`: a Gateway API release gwlab knows.
pub(crate) fn parse_release(
    s: &str,
) -> Result<crate::gateway_api::Release, crate::gateway_api::UnknownRelease> {
    s.parse()
}
