//! The state kept between messages: everything the crate remembers about a conversation,
//! and no HTTP.
//!
//! - [`clock`]: where "now" comes from ([`Clock`](clock::Clock), the system clock, a manual
//!   clock for tests).
//! - [`window`]: the 24-hour customer service window of each recipient
//!   ([`SessionWindows`](window::SessionWindows)).
//! - [`optin`]: the opt-in and opt-out ledger ([`OptInLedger`](optin::OptInLedger)), with
//!   the store of its consent events.
//! - [`dedupe`]: recognizing a webhook delivered twice ([`DedupeKey`](dedupe::DedupeKey),
//!   [`Deduplicator`](dedupe::Deduplicator)).
//! - [`delivery`]: where each sent message stands after its receipts
//!   ([`DeliveryTracker`](delivery::DeliveryTracker)), and which are stuck or failed
//!   ([`DeliveryFollowUp`](delivery::DeliveryFollowUp)).
//! - [`fallback`]: template fallbacks waiting for their session message's `7710`
//!   ([`FallbackStore`](fallback::FallbackStore)), kept where several instances and a
//!   restarted process see them, and taken by one handler only.
//! - [`journal`]: the send journal, what was about to be sent and what became of it, so that
//!   nothing is sent twice across crashes and unknown outcomes can be reconciled
//!   ([`Journal`](journal::Journal)).
//! - [`store`]: the pluggable storage behind windows and dedupe (the store traits and their
//!   bounded in-memory stores), recipient keys and store errors.
//! - `redis` (feature `redis`): Redis for every kind of state here, the journal included
//!   (`RedisStore`, `RedisJournal`).
//!
//! The [receiver](crate::receiver) and the [guarded client](crate::guard) feed this state
//! from webhooks and read it before sending; nothing here makes a request.

pub(crate) mod bounded;
pub mod clock;
pub mod dedupe;
pub mod delivery;
pub mod fallback;
pub mod journal;
pub mod optin;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
pub mod store;
pub mod window;
