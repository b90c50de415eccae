//! Whether a value read into a typed model and written back keeps every field: the test that
//! decides when an escape-hatch value (a raw session object, a raw template parameter) must
//! stay raw so that a request reads back exactly as it was sent.

use serde_json::Value;

/// Whether reading `original` as a typed value and writing it back (`typed`) loses a field.
///
/// Only keys count, not their values: lenient forms (`"150000"` for `150000`) are rewritten,
/// not lost. A key whose value means "not given" (`null`, `false`, `""`, `"false"`) may be
/// dropped without loss, as the typed form writes nothing for it.
pub(crate) fn drops_fields(original: &Value, typed: &Value) -> bool {
    match (original, typed) {
        (Value::Object(o), Value::Object(t)) => o.iter().any(|(key, value)| match t.get(key) {
            Some(typed_value) => drops_fields(value, typed_value),
            None => !means_absent(value),
        }),
        (Value::Object(o), _) => o.values().any(|v| !means_absent(v)),
        (Value::Array(o), Value::Array(t)) => {
            o.len() != t.len() || o.iter().zip(t).any(|(a, b)| drops_fields(a, b))
        }
        (Value::Array(o), _) => !o.is_empty(),
        _ => false,
    }
}

fn means_absent(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty() || s.eq_ignore_ascii_case("false"),
        _ => false,
    }
}
