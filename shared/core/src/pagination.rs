//! Opaque, tamper-checked pagination tokens for the read API's `next` parameter.
//!
//! A token carries the position after which the next page starts (a DynamoDB sort key) and a
//! digest of the query it belongs to, sealed with HMAC-SHA-256. It is base64url without padding:
//! `version (1 byte) || scope digest (8 bytes) || position (UTF-8) || tag (16 bytes)`, where the
//! tag is the first 16 bytes of the HMAC over everything before it.
//!
//! The key is `MPT_PAGINATION_KEY` when set. Otherwise it is derived from the table name and the
//! region, which differ between deployments but are not secret: such tokens detect edits and
//! tokens from another deployment, but anyone with both values could forge one. Handlers
//! never trust the position for more than a start key inside the partition they build from the
//! request itself, so even a forged token reads nothing the same request could not read.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Environment variable holding the secret that pagination tokens are sealed with.
pub const PAGINATION_KEY_VAR: &str = "MPT_PAGINATION_KEY";

const TOKEN_VERSION: u8 = 1;
const SCOPE_BYTES: usize = 8;
const TAG_BYTES: usize = 16;
/// Maximum length of a token's position in bytes: DynamoDB's maximum sort key length.
const MAX_POSITION_BYTES: usize = 1_024;

/// A `next` token that cannot be used, with the reason. Every variant is a client error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageTokenError {
    /// The token is not base64url, or too short or too long to be a token.
    #[error("invalid next token: it is not a token this API issued; repeat the request without next")]
    Malformed,
    /// The HMAC tag does not match: the token was changed or comes from another deployment.
    #[error("invalid next token: it was changed or issued by another deployment; repeat the request without next")]
    Tampered,
    /// The token is genuine but was issued for a request with other parameters.
    #[error(
        "invalid next token: it belongs to a request with other parameters; repeat the request with the parameters \
         of the page that returned it, or without next"
    )]
    OtherQuery,
}

/// The 32-byte key that seals and opens pagination tokens.
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret when it comes from MPT_PAGINATION_KEY, so it never reaches a log.
        f.write_str("TokenKey(..)")
    }
}

impl TokenKey {
    /// Builds a key from a secret of any length, as the SHA-256 of the secret.
    pub fn from_secret(secret: &[u8]) -> Self {
        Self(Sha256::digest(secret).into())
    }

    /// Builds the key of a deployment without a secret, from values that tell deployments apart.
    pub fn derived(table: &str, region: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"mpt pagination key v1\n");
        hasher.update(table.as_bytes());
        hasher.update(b"\n");
        hasher.update(region.as_bytes());
        Self(hasher.finalize().into())
    }

    /// Builds the key from `MPT_PAGINATION_KEY`, or derives it from `table` and `AWS_REGION`.
    pub fn from_env(table: &str) -> Self {
        Self::from_lookup(table, |name| std::env::var(name).ok())
    }

    /// Builds the key as [`TokenKey::from_env`] does, reading variables through `lookup`.
    pub fn from_lookup(table: &str, lookup: impl Fn(&str) -> Option<String>) -> Self {
        match lookup(PAGINATION_KEY_VAR).filter(|secret| !secret.is_empty()) {
            Some(secret) => Self::from_secret(secret.as_bytes()),
            None => Self::derived(table, &lookup("AWS_REGION").unwrap_or_default()),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this never fails for a 32-byte key.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
    }

    /// Seals `position` into a token valid only for requests whose scope is `scope`.
    ///
    /// `scope` names the endpoint and every request parameter that selects the items, such as
    /// the model, version, window and time range, but not the page size.
    pub fn seal(&self, scope: &str, position: &str) -> String {
        let mut bytes = Vec::with_capacity(1 + SCOPE_BYTES + position.len() + TAG_BYTES);
        bytes.push(TOKEN_VERSION);
        bytes.extend_from_slice(&scope_digest(scope));
        bytes.extend_from_slice(position.as_bytes());
        let tag = self.mac().chain_update(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag[..TAG_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Opens a token sealed by [`TokenKey::seal`] for the same `scope`, returning its position.
    ///
    /// # Errors
    /// [`PageTokenError::Malformed`] for text that is not a token, [`PageTokenError::Tampered`]
    /// when the tag does not match, and [`PageTokenError::OtherQuery`] for a genuine token of
    /// another scope.
    pub fn open(&self, scope: &str, token: &str) -> Result<String, PageTokenError> {
        let max_text = (1 + SCOPE_BYTES + MAX_POSITION_BYTES + TAG_BYTES).div_ceil(3) * 4;
        if token.len() > max_text {
            return Err(PageTokenError::Malformed);
        }
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| PageTokenError::Malformed)?;
        if bytes.len() < 1 + SCOPE_BYTES + TAG_BYTES {
            return Err(PageTokenError::Malformed);
        }
        let (body, tag) = bytes.split_at(bytes.len() - TAG_BYTES);
        self.mac()
            .chain_update(body)
            .verify_truncated_left(tag)
            .map_err(|_| PageTokenError::Tampered)?;

        // The tag is valid, so the rest was written by `seal` with this key.
        if body[0] != TOKEN_VERSION {
            return Err(PageTokenError::Malformed);
        }
        if body[1..1 + SCOPE_BYTES] != scope_digest(scope) {
            return Err(PageTokenError::OtherQuery);
        }
        String::from_utf8(body[1 + SCOPE_BYTES..].to_vec()).map_err(|_| PageTokenError::Malformed)
    }
}

/// Returns the first bytes of the SHA-256 of a scope.
fn scope_digest(scope: &str) -> [u8; SCOPE_BYTES] {
    let digest = Sha256::digest(scope.as_bytes());
    let mut out = [0u8; SCOPE_BYTES];
    out.copy_from_slice(&digest[..SCOPE_BYTES]);
    out
}

/// Builds a scope string from its parts, so that no two part lists give the same scope.
pub fn scope<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut scope = String::new();
    for part in parts {
        // A length prefix keeps ("ab", "c") apart from ("a", "bc").
        scope.push_str(&part.len().to_string());
        scope.push(':');
        scope.push_str(part);
    }
    scope
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::from_secret(b"test secret")
    }

    #[test]
    fn token_round_trips_position() {
        let token = key().seal("history", "2023-06-12T00:00:00Z");
        assert_eq!(key().open("history", &token).unwrap(), "2023-06-12T00:00:00Z");
    }

    #[test]
    fn token_round_trips_empty_and_unicode_positions() {
        for position in ["", "2023-06-12T00:00:00Z#auc-drop#räptor%23"] {
            let token = key().seal("alerts", position);
            assert_eq!(key().open("alerts", &token).unwrap(), position);
        }
    }

    #[test]
    fn token_is_url_safe() {
        let token = key().seal("history", "a/b+c=d?e");
        assert!(token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn token_with_flipped_byte_is_tampered() {
        let token = key().seal("history", "2023-06-12T00:00:00Z");
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        for index in 0..bytes.len() {
            bytes[index] ^= 0x01;
            let changed = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(
                key().open("history", &changed),
                Err(PageTokenError::Tampered),
                "byte {index}"
            );
            bytes[index] ^= 0x01;
        }
    }

    #[test]
    fn token_with_changed_position_is_tampered() {
        let token = key().seal("history", "2023-06-12T00:00:00Z");
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        // Replace the position's year with an earlier one, keeping the old tag.
        let year = 1 + SCOPE_BYTES;
        bytes[year..year + 4].copy_from_slice(b"2020");
        let changed = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(key().open("history", &changed), Err(PageTokenError::Tampered));
    }

    #[test]
    fn token_from_other_key_is_tampered() {
        let token = TokenKey::from_secret(b"other secret").seal("history", "x");
        assert_eq!(key().open("history", &token), Err(PageTokenError::Tampered));
    }

    #[test]
    fn token_for_other_scope_is_rejected() {
        let token = key().seal("history m1", "x");
        assert_eq!(key().open("history m2", &token), Err(PageTokenError::OtherQuery));
    }

    #[test]
    fn garbage_token_is_malformed() {
        for text in ["", "abc", "not base64!", "====", &"A".repeat(5_000)] {
            assert_eq!(key().open("history", text), Err(PageTokenError::Malformed), "{text:?}");
        }
    }

    #[test]
    fn truncated_token_is_rejected() {
        let token = key().seal("history", "2023-06-12T00:00:00Z");
        let short = &token[..token.len() - 4];
        assert!(key().open("history", short).is_err());
    }

    #[test]
    fn derived_keys_differ_by_table_and_region() {
        let token = TokenKey::derived("mpt-a", "us-east-1").seal("s", "x");
        assert!(TokenKey::derived("mpt-a", "us-east-1").open("s", &token).is_ok());
        assert!(TokenKey::derived("mpt-b", "us-east-1").open("s", &token).is_err());
        assert!(TokenKey::derived("mpt-a", "eu-west-1").open("s", &token).is_err());
    }

    #[test]
    fn secret_from_environment_wins_over_derived_key() {
        let from_secret = TokenKey::from_lookup("mpt", |name| (name == PAGINATION_KEY_VAR).then(|| "s3cret".into()));
        let token = from_secret.seal("s", "x");
        assert!(TokenKey::from_secret(b"s3cret").open("s", &token).is_ok());
        assert!(TokenKey::derived("mpt", "").open("s", &token).is_err());
    }

    #[test]
    fn scope_parts_cannot_run_together() {
        assert_ne!(scope(["ab", "c"]), scope(["a", "bc"]));
    }

    #[test]
    fn debug_hides_key() {
        assert_eq!(format!("{:?}", key()), "TokenKey(..)");
    }
}
