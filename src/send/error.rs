//! [`SendRequestError`]: why a send request could not be built or read, shared by the request,
//! its destinations and its link options.

use std::fmt;

use crate::ids::IdError;

/// Why a send request could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendRequestError {
    /// The body was not JSON (Webex Connect answers 7000).
    #[error("request body is not valid JSON: {0}")]
    NotJson(String),
    /// A mandatory field was missing (Webex Connect answers 7003).
    #[error("mandatory field `{field}` is missing")]
    Missing {
        /// The wire name of the field.
        field: &'static str,
    },
    /// A field had a value the platform does not accept (Webex Connect answers 7004).
    #[error("field `{field}` is invalid: {reason}")]
    Invalid {
        /// The wire name of the field.
        field: &'static str,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// More destinations than one request may carry (Webex Connect answers 7009).
    #[error("request has {actual} destinations, but the max is {max}")]
    TooManyDestinations {
        /// How many were given.
        actual: usize,
        /// The limit, [`MAX_DESTINATIONS`](crate::limits::MAX_DESTINATIONS).
        max: usize,
    },
}

impl SendRequestError {
    pub(super) fn invalid(field: &'static str, reason: impl fmt::Display) -> Self {
        Self::Invalid {
            field,
            reason: reason.to_string(),
        }
    }
}

impl From<IdError> for SendRequestError {
    fn from(value: IdError) -> Self {
        Self::invalid("id", value)
    }
}
