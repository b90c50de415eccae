//! Guides: longer documents about running the crate in production. Documentation only; this
//! module holds no items.
//!
//! | guide | what it covers |
//! |---|---|
//! | [`production`] | regions and base URLs, service keys and JWTs, environment variables, rate limits, timeouts, what is retried, templates and the 24-hour window, secrets |
//! | [`webhooks_behind_a_proxy`] | receiving webhooks behind a reverse proxy or load balancer: statuses the platform retries, raw bodies for signatures, body size, timeouts, TLS, health checks, several instances |
//! | [`observability`] | the `tracing` spans and events the crate emits, log levels, counters, and what is never logged |
//! | [`reconciliation`] | sends whose outcome is unknown: correlation ids, the send journal and its states, feeding receipts to it, "not seen", resuming a campaign after a kill |
//! | [`redis`] | several instances sharing state on Redis |

#[doc = include_str!("production.md")]
pub mod production {}

#[doc = include_str!("webhooks_behind_a_proxy.md")]
pub mod webhooks_behind_a_proxy {}

#[doc = include_str!("observability.md")]
pub mod observability {}

#[doc = include_str!("reconciliation.md")]
pub mod reconciliation {}

#[doc = include_str!("redis.md")]
pub mod redis {}
