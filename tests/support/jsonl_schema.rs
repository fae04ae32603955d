//! A validator for the part of JSON Schema (draft 2020-12) that `docs/jsonl.schema.json` uses:
//! a record goes to the definition in `$defs` its `type` names, and is checked against
//! `properties`, `required`, `additionalProperties` (false, or a schema for every value of a
//! map), `items` (a schema for every element of an array), `type` (one name or several),
//! `const` and `enum`. A keyword it does not know is an
//! error, so the schema cannot grow past what is checked without a test saying so. (No JSON
//! Schema crate is available offline here; this is a few dozen lines.)
//!
//! Shared by the library's unit tests (every record type, built from fixed states) and the
//! binary's tests (what a real run prints).

#![allow(dead_code)] // each user takes a different part

use serde_json::Value;

/// `docs/jsonl.schema.json`, parsed.
pub fn schema() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/jsonl.schema.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The record types the schema defines.
pub fn record_types(schema: &Value) -> Vec<String> {
    schema["$defs"].as_object().expect("$defs").keys().cloned().collect()
}

/// The fields a record type has.
pub fn fields(schema: &Value, record_type: &str) -> Vec<String> {
    schema["$defs"][record_type]["properties"].as_object().expect("properties").keys().cloned().collect()
}

/// Checks one line of output against the schema.
///
/// # Errors
/// What does not match, with where.
pub fn validate_line(schema: &Value, line: &str) -> Result<(), String> {
    let record: Value = serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line}"))?;
    let kind = record.get("type").and_then(Value::as_str).ok_or_else(|| format!("no type: {line}"))?;
    let definition = schema["$defs"].get(kind).ok_or_else(|| format!("unknown type {kind:?}: {line}"))?;
    check(definition, &record, kind).map_err(|e| format!("{e}\n  in {line}"))
}

fn check(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let rules = schema.as_object().ok_or_else(|| format!("{at}: schema is not an object"))?;
    for (keyword, rule) in rules {
        match keyword.as_str() {
            // `required` is checked with `properties`.
            "description" | "required" => {}
            "type" => check_type(rule, value, at)?,
            "const" => {
                if value != rule {
                    return Err(format!("{at}: {value} is not {rule}"));
                }
            }
            "enum" => {
                if !rule.as_array().is_some_and(|allowed| allowed.contains(value)) {
                    return Err(format!("{at}: {value} is not one of {rule}"));
                }
            }
            "properties" => check_properties(schema, value, at)?,
            "additionalProperties" => check_additional(schema, rule, value, at)?,
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    check(rule, item, &format!("{at}[{i}]"))?;
                }
            }
            other => return Err(format!("{at}: the validator does not know the keyword {other:?}")),
        }
    }
    Ok(())
}

fn check_type(rule: &Value, value: &Value, at: &str) -> Result<(), String> {
    let names: Vec<&str> = match rule {
        Value::String(name) => vec![name.as_str()],
        Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
        _ => return Err(format!("{at}: bad type rule {rule}")),
    };
    let fits = |name: &str| match name {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        _ => false,
    };
    if names.iter().any(|n| fits(n)) {
        Ok(())
    } else {
        Err(format!("{at}: {value} is not of type {rule}"))
    }
}

/// Every required field is there, and every declared one matches its schema.
fn check_properties(schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Some(object) = value.as_object() else { return Err(format!("{at}: {value} is not an object")) };
    let required = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
    for field in required.iter().filter_map(Value::as_str) {
        if !object.contains_key(field) {
            return Err(format!("{at}: missing {field}"));
        }
    }
    for (field, rule) in schema["properties"].as_object().into_iter().flatten() {
        if let Some(v) = object.get(field) {
            check(rule, v, &format!("{at}.{field}"))?;
        }
    }
    Ok(())
}

/// Fields beyond `properties`: none when false, else each matches the schema given.
fn check_additional(schema: &Value, rule: &Value, value: &Value, at: &str) -> Result<(), String> {
    let Some(object) = value.as_object() else { return Err(format!("{at}: {value} is not an object")) };
    let declared = schema.get("properties").and_then(Value::as_object);
    for (field, v) in object.iter().filter(|(k, _)| !declared.is_some_and(|d| d.contains_key(*k))) {
        match rule {
            Value::Bool(false) => return Err(format!("{at}: {field} is not in the schema")),
            Value::Bool(true) => {}
            _ => check(rule, v, &format!("{at}.{field}"))?,
        }
    }
    Ok(())
}
