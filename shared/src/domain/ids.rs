//! Deterministic ids: the same facts always give the same id, so a replay, a
//! retried invocation and a redelivered batch name things identically.

use sha2::{Digest, Sha256};

/// A UUID-shaped id (`8-4-4-4-12` hex digits) derived from `parts`.
///
/// Parts are length-prefixed before hashing, so `["ab", "c"]` and
/// `["a", "bc"]` give different ids.
pub fn derive(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_separate_their_parts() {
        let a = derive(&["stack", "metric", "123"]);
        assert_eq!(a, derive(&["stack", "metric", "123"]));
        assert_eq!(a.len(), 36);
        assert_ne!(derive(&["ab", "c"]), derive(&["a", "bc"]));
    }
}
