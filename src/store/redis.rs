//! Redis stores.
