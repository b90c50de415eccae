//! A store shared as `Arc<S>` is a store: the receiver, the guard and the caller's code hold
//! one store between them.

/// Writes `impl<S: Trait + ?Sized> Trait for Arc<S>`, each listed method handing its
/// arguments to the shared store. An entry is the method's name, its arguments after
/// `&self`, and what its future yields on success (the error is always a
/// [`StoreError`](crate::conversation::store::StoreError)).
macro_rules! impl_for_arc {
    ($store:ident { $(fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $yields:ty;)* }) => {
        impl<S: $store + ?Sized> $store for ::std::sync::Arc<S> {
            $(
                fn $name(
                    &self,
                    $($arg: $ty),*
                ) -> impl ::std::future::Future<
                    Output = ::std::result::Result<$yields, $crate::conversation::store::StoreError>,
                > + Send {
                    (**self).$name($($arg),*)
                }
            )*
        }
    };
}

pub(crate) use impl_for_arc;
