//! Builder setters written once. Most setters of the crate's builders store their argument,
//! converted to a `String` or as given; these macros write their bodies, and each setter keeps
//! its own doc comment (and any other attribute given before it). Setters that clamp or check
//! their argument stay written out.

/// Writes consuming setters that store one string each: `fn name => field` assigns
/// `value.into()`, and `fn name => field as Some` wraps it for an optional field. The field may
/// be a path (`request.field`), for builders that keep the value they build inside themselves.
macro_rules! string_setters {
    ($( $(#[$attr:meta])* fn $name:ident => $($field:ident).+ $(as $wrap:ident)?; )*) => {
        $(
            $(#[$attr])*
            pub fn $name(mut self, value: impl Into<String>) -> Self {
                self.$($field).+ = $($wrap)?(value.into());
                self
            }
        )*
    };
}

/// Writes consuming setters that store their argument unchanged: `fn name(arg: Type) => field`
/// assigns `arg`, and `=> field as Some` wraps it for an optional field. The field may be a
/// path, as in [`string_setters!`].
macro_rules! value_setters {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($arg:ident: $ty:ty) => $($field:ident).+ $(as $wrap:ident)?;
    )*) => {
        $(
            $(#[$attr])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.$($field).+ = $($wrap)?($arg);
                self
            }
        )*
    };
}

pub(crate) use string_setters;
pub(crate) use value_setters;
