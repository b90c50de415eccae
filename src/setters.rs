//! The one way the crate writes a setter.
//!
//! Every consuming setter of every builder (and of every value configured the same way, such
//! as a store's `with_prefix`) is one entry of a [`setters!`] list in its type's `impl` block:
//!
//! ```text
//! setters! {
//!     /// Sets the caption (1 to 1024 characters, checked by `build`).
//!     fn caption(self, caption: impl Into<String>) => self.caption = Some(caption.into());
//! }
//! ```
//!
//! which is written out as
//!
//! ```text
//! /// Sets the caption (1 to 1024 characters, checked by `build`).
//! pub fn caption(mut self, caption: impl Into<String>) -> Self {
//!     self.caption = Some(caption.into());
//!     self
//! }
//! ```
//!
//! and shows in rustdoc as that plain method. Why a macro rather than the method by hand: a
//! setter is all ceremony (`pub`, `mut self`, `-> Self`, the trailing `self`) around one
//! statement, and a list of one line per setter keeps each builder's settings readable at a
//! glance, where the hand-written form is four lines of the same shape per setting.

/// Writes consuming setters, one per entry:
/// `fn name(self, arg: Type, ...) => effect;` becomes
/// `pub fn name(mut self, arg: Type, ...) -> Self { effect; self }`.
///
/// The effect is any expression on `self` and the arguments: an assignment, a push, a
/// `match`, or a `{ ... }` block for several statements. Attributes and doc comments written
/// before an entry stay on its method. The entry names `self` itself because macro hygiene
/// lets a body reach only the `self` its caller wrote.
macro_rules! setters {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($self:ident $(, $arg:ident: $ty:ty)* $(,)?) => $effect:expr;
    )*) => {
        $(
            $(#[$attr])*
            pub fn $name(mut $self $(, $arg: $ty)*) -> Self {
                $effect;
                $self
            }
        )*
    };
}

pub(crate) use setters;
