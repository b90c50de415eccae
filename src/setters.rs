//! Builder setters written once: most builders take a value and store it, and a macro keeps
//! their bodies from being copied by hand dozens of times (the docs stay on each setter).

/// Writes `pub fn name(mut self, value: Type) -> Self` setters that store the value in a field,
/// wrapped (`as Some`) or not.
macro_rules! value_setters {
    ($( $(#[$attr:meta])* fn $name:ident($ty:ty) => $field:ident $(as $wrap:ident)?; )*) => {
        $(
            $(#[$attr])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.$field = $($wrap)?(value);
                self
            }
        )*
    };
}

pub(crate) use value_setters;
