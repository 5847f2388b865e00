//! Reading a whole JSON document written by people (a scenario, a ground
//! truth, a tuning document) with the place of its first problem, so that
//! every such error names the JSON path as well as what is wrong.

use serde::de::DeserializeOwned;

/// Where in a JSON document it is wrong, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The JSON path, e.g. `metrics[3].Timestamps[17]`; "the top level" for
    /// the document as a whole, "the end of the file" for anything after it.
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

/// Deserializes `bytes` as one JSON document of `T`, with nothing after it
/// but white space.
///
/// # Errors
///
/// [`Problem`] naming the path of the first field that does not fit, or
/// the end of the file when something follows the document.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Problem {
            path: if path == "." {
                "the top level".into()
            } else {
                path
            },
            problem: e.into_inner().to_string(),
        }
    })?;
    de.end().map_err(|e| Problem {
        path: "the end of the file".into(),
        problem: e.to_string(),
    })?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        items: Vec<BTreeMap<String, u32>>,
    }

    #[test]
    fn a_problem_names_the_path_of_the_field_that_does_not_fit() {
        let e = parse::<Doc>(br#"{"items": [{"a": 1}, {"b": "two"}]}"#).unwrap_err();
        assert_eq!(e.path, "items[1].b");
        assert!(e.problem.contains("invalid type"), "{}", e.problem);
    }

    #[test]
    fn a_document_of_the_wrong_shape_is_wrong_at_the_top_level() {
        let e = parse::<Doc>(b"\"a string\"").unwrap_err();
        assert_eq!(e.path, "the top level");
    }

    #[test]
    fn anything_after_the_document_is_wrong_at_the_end_of_the_file() {
        let doc = parse::<Doc>(b" {\"items\": []}\n\n").expect("white space after it");
        assert!(doc.items.is_empty());
        let e = parse::<Doc>(br#"{"items": []} {"items": []}"#).unwrap_err();
        assert_eq!(e.path, "the end of the file");
    }
}
