//! Placeholder: replaced by the webhook work.
#![allow(missing_docs)]
fn main() {}
