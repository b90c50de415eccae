//! `From` conversions written once, for the enums whose variants each wrap one value
//! (`Recipient`, `send::Content`).

/// Implements `From` for an enum whose variants each wrap one value: `Type => Variant` turns a
/// `Type` into `Self::Variant`. Written `Enum, also borrowed { .. }`, it adds `From<&Type>`
/// by clone, for call sites that keep their value.
macro_rules! from_variants {
    ($enum:ident { $($ty:ty => $variant:ident),* $(,)? }) => {
        $(
            impl From<$ty> for $enum {
                fn from(value: $ty) -> Self {
                    Self::$variant(value)
                }
            }
        )*
    };
    ($enum:ident, also borrowed { $($ty:ty => $variant:ident),* $(,)? }) => {
        $crate::conversions::from_variants!($enum { $($ty => $variant),* });
        $(
            impl From<&$ty> for $enum {
                fn from(value: &$ty) -> Self {
                    Self::$variant(value.clone())
                }
            }
        )*
    };
}

pub(crate) use from_variants;
