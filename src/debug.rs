//! `Debug` for the types whose fields must not all reach a log: secrets,
//! handles and large buffers. Nothing else.

/// Implements `Debug` for a struct showing only the fields named, each as
/// itself or, written `field = |this| expression`, as the expression, and
/// marking the rest as left out (`..`). A field added later stays out of
/// logs until it is named here.
macro_rules! debug_showing {
    ($type:ident { $($field:ident $(= |$this:ident| $shown:expr)?),* $(,)? }) => {
        impl std::fmt::Debug for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($type))
                    $(.field(
                        stringify!($field),
                        &$crate::debug::debug_showing!(@shown self, $field $(, $this, $shown)?),
                    ))*
                    .finish_non_exhaustive()
            }
        }
    };
    (@shown $self:ident, $field:ident) => {
        $self.$field
    };
    (@shown $self:ident, $field:ident, $this:ident, $shown:expr) => {{
        let $this = $self;
        $shown
    }};
}
pub(crate) use debug_showing;
