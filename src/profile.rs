//! Business profile limits. (STUB: replaced by the validators work.)
