//! Template definitions. (STUB: replaced by the templates work.)
