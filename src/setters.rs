//! The setter macro shared by builders whose setters store their argument as given.

/// Writes consuming setters that store their argument unchanged: `fn name(arg: Type) => field`
/// assigns `arg`, and `=> field as Some` wraps it for an optional field. The builders of the
/// receiver, its router and the guarded client have many setters of exactly this shape; written
/// once here, each keeps its own doc comment (and any other attribute given before it). Setters
/// that convert (`impl Into<String>`) use `string_setters!` in `ids`, and setters that clamp or
/// check their argument stay written out.
macro_rules! value_setters {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($arg:ident: $ty:ty) => $field:ident $(as $wrap:ident)?;
    )*) => {
        $(
            $(#[$attr])*
            pub fn $name(mut self, $arg: $ty) -> Self {
                self.$field = $($wrap)?($arg);
                self
            }
        )*
    };
}

pub(crate) use value_setters;
