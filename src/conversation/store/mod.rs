//! Where the conversation state is kept: one trait per kind of state ([`WindowStore`] for
//! session windows, [`DedupeStore`] for duplicate suppression, and
//! [`OptInStore`](crate::conversation::optin::OptInStore) for the opt-in ledger), the
//! [`StoreError`] they return, and [`RecipientKey`] for the recipients they are keyed on.
//!
//! The opt-in store's trait and its in-memory default live in
//! [`optin`](crate::conversation::optin), beside the consent events they keep, so that the
//! imports run one way (the ledger's values use this module's keys and errors; nothing here
//! needs the ledger's values).
//!
//! Every trait has an in-memory default that needs no optional dependency
//! ([`InMemoryWindowStore`], [`InMemoryDedupeStore`],
//! [`InMemoryOptInStore`](crate::conversation::optin::InMemoryOptInStore)). With the `redis`
//! feature, [`RedisStore`](crate::conversation::redis::RedisStore) implements all three traits
//! on one Redis server, so several webhook receivers and senders behind a load balancer share
//! their state. The Redis implementations live in [`redis`](crate::conversation::redis),
//! above every trait they implement.

mod dedupe;
mod error;
mod key;
mod shared;
mod window;

pub use dedupe::{Claim, DEFAULT_DEDUPE_CAPACITY, DedupeStore, InMemoryDedupeStore};
pub(crate) use error::ttl_millis;
pub use error::{MAX_TTL_MILLIS, StoreError};
pub use key::{MAX_RECIPIENT_KEY_CHARS, RecipientKey, check_waid};
pub(crate) use key::{check_max_chars, checked_key};
pub(crate) use shared::impl_for_arc;
pub use window::{DEFAULT_WINDOW_CAPACITY, InMemoryWindowStore, InboundRecord, WindowStore};
