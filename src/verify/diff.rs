//! What differs between the `report.json` that was issued and the one a
//! file carries: the fields, as JSON Pointers, personal data masked.

use serde_json::Value;

use super::FieldDiff;

/// The fields in which `found` differs from `issued`, as JSON Pointers
/// (RFC 6901), in document order; at most 200.
pub fn json_diff(issued: &Value, found: &Value) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    diff_into(String::new(), Some(issued), Some(found), &mut out);
    out
}

const MAX_DIFFS: usize = 200;

fn diff_into(path: String, issued: Option<&Value>, found: Option<&Value>, out: &mut Vec<FieldDiff>) {
    if out.len() >= MAX_DIFFS || issued == found {
        return;
    }
    let escape = |k: &str| k.replace('~', "~0").replace('/', "~1");
    match (issued, found) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            for (k, va) in a {
                diff_into(format!("{path}/{}", escape(k)), Some(va), b.get(k), out);
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                diff_into(format!("{path}/{}", escape(k)), None, Some(vb), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) => {
            for i in 0..a.len().max(b.len()) {
                diff_into(format!("{path}/{i}"), a.get(i), b.get(i), out);
            }
        }
        _ => {
            let sensitive = path.ends_with("/passport_number");
            let show = |v: Option<&Value>| v.map(|v| if sensitive { mask(v) } else { v.clone() });
            out.push(FieldDiff {
                path: if path.is_empty() { "/".into() } else { path },
                issued: show(issued),
                found: show(found),
            });
        }
    }
}

/// `••••••123`: only the last three characters of a string.
fn mask(v: &Value) -> Value {
    // As the status page masks it: six dots whatever the length.
    let shown: String = match v.as_str() {
        Some(s) if s.chars().count() > 3 => s.chars().skip(s.chars().count() - 3).collect(),
        _ => String::new(),
    };
    Value::String(format!("••••••{shown}"))
}
