//! The HTTP client of the read commands: plain requests to a loopback API, SigV4-signed ones to
//! a deployed API Gateway, and the API's JSON responses turned into values or one-line errors.

use std::{
    net::IpAddr,
    time::{Duration, SystemTime},
};

use aws_credential_types::provider::ProvideCredentials;
use aws_sigv4::{
    http_request::{sign, SignableBody, SignableRequest, SigningSettings},
    sign::v4,
};
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{
    header::{HeaderValue, CONTENT_TYPE, HOST},
    Method, Request, Uri,
};
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use super::ReadError;

/// The service name API Gateway requests are signed for.
const SIGNING_SERVICE: &str = "execute-api";

/// Maximum time of one request, connection included.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The environment variable holding an API key, for deployments that use API-key auth.
pub const API_KEY_VAR: &str = "MPT_API_KEY";

/// Characters left as they are in a path segment or query value: RFC 3986's unreserved set.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes one path segment or query value.
pub fn encode(part: &str) -> String {
    utf8_percent_encode(part, UNRESERVED).to_string()
}

/// The authentication of requests.
enum Auth {
    /// No signature: the API is on this machine.
    None,
    /// SigV4 with credentials from the standard AWS chain, for `region`.
    SigV4 {
        credentials: aws_credential_types::provider::SharedCredentialsProvider,
        region: String,
    },
}

/// A client of one API base URL.
pub struct ApiClient {
    base: String,
    auth: Auth,
    api_key: Option<String>,
    http: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl ApiClient {
    /// Builds a client of `api`. Requests to a loopback host are sent plain; others are signed
    /// with SigV4 using the standard AWS credential chain.
    pub async fn connect(api: &str) -> Result<Self, ReadError> {
        let base = api.trim_end_matches('/').to_string();
        let uri: Uri = base
            .parse()
            .map_err(|_| ReadError::Usage(format!("invalid API URL {api:?}; pass one like http://127.0.0.1:8080")))?;
        let (Some(scheme), Some(host)) = (uri.scheme_str(), uri.host()) else {
            return Err(ReadError::Usage(format!(
                "invalid API URL {api:?}: it needs a scheme and a host, like http://127.0.0.1:8080"
            )));
        };
        if scheme != "http" && scheme != "https" {
            return Err(ReadError::Usage(format!(
                "invalid API URL {api:?}: use http:// or https://"
            )));
        }

        let auth = if is_loopback(host) {
            Auth::None
        } else {
            let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
            let credentials = sdk.credentials_provider().ok_or_else(|| {
                ReadError::Failure(format!(
                    "no AWS credentials are configured to sign requests to {base}; configure them with aws configure \
                     or AWS_PROFILE, or point --api at a loopback address"
                ))
            })?;
            let region = region_of_host(host)
                .or_else(|| sdk.region().map(|r| r.to_string()))
                .ok_or_else(|| {
                    ReadError::Failure(format!(
                        "no AWS region is known to sign requests to {base}; set AWS_REGION to the API's region"
                    ))
                })?;
            Auth::SigV4 { credentials, region }
        };

        let connector = HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|error| ReadError::Failure(format!("loading the system's TLS root certificates failed: {error}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            base,
            auth,
            api_key: std::env::var(API_KEY_VAR).ok().filter(|key| !key.is_empty()),
            http: Client::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// Sends `GET path?query` and returns the JSON response.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Value, ReadError> {
        let query: Vec<String> = query
            .iter()
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect();
        let target = if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", query.join("&"))
        };
        self.send(Method::GET, &target, Vec::new()).await
    }

    /// Sends `PUT path` with a JSON body and returns the JSON response.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ReadError> {
        self.send(Method::PUT, path, body.to_string().into_bytes()).await
    }

    async fn send(&self, method: Method, target: &str, body: Vec<u8>) -> Result<Value, ReadError> {
        let url = format!("{}{target}", self.base);
        let request = build_request(&self.auth, self.api_key.as_deref(), method, &url, body).await?;
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| {
                ReadError::Failure(format!(
                    "the API at {} did not respond within {} s; check that it is running",
                    self.base,
                    REQUEST_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|error| {
                ReadError::Failure(format!(
                    "could not reach the API at {} ({error}); check that it is running and that --api or MPT_API_URL \
                     is right",
                    self.base
                ))
            })?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|error| ReadError::Failure(format!("reading the response from {url} failed: {error}")))?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).map_err(|_| {
            ReadError::Failure(format!(
                "the API at {} responded {status} with a body that is not JSON; check that --api points at this API",
                self.base
            ))
        })?;
        if status < 300 {
            return Ok(value);
        }
        Err(api_error(status, &value))
    }
}

/// Builds a request, with the API key header when one is set and a SigV4 signature when `auth`
/// is [`Auth::SigV4`].
async fn build_request(
    auth: &Auth,
    api_key: Option<&str>,
    method: Method,
    url: &str,
    body: Vec<u8>,
) -> Result<Request<Full<Bytes>>, ReadError> {
    let uri: Uri = url
        .parse()
        .map_err(|_| ReadError::Usage(format!("invalid request URL {url:?}; check --api and the model name")))?;
    let host = uri
        .authority()
        .map(|authority| authority.to_string())
        .unwrap_or_default();
    let mut request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(HOST, host.as_str())
        .header(CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.clone())))
        .map_err(|error| ReadError::Failure(format!("building the request to {url} failed: {error}")))?;
    if let Some(key) = api_key {
        let value = HeaderValue::from_str(key).map_err(|_| {
            ReadError::Usage(format!(
                "{API_KEY_VAR} contains characters that are invalid in an HTTP header; check its value"
            ))
        })?;
        request.headers_mut().insert("x-api-key", value);
    }

    if let Auth::SigV4 { credentials, region } = auth {
        let identity: Identity = credentials
            .provide_credentials()
            .await
            .map_err(|error| {
                ReadError::Failure(format!(
                    "loading AWS credentials to sign the request to {url} failed ({error}); configure them with \
                     aws configure or AWS_PROFILE"
                ))
            })?
            .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(SIGNING_SERVICE)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|error| ReadError::Failure(format!("preparing the request signature failed: {error}")))?
            .into();
        let headers = [("host", host.as_str()), ("content-type", "application/json")];
        let signable = SignableRequest::new(method.as_str(), url, headers.into_iter(), SignableBody::Bytes(&body))
            .and_then(|signable| sign(signable, &params))
            .map_err(|error| ReadError::Failure(format!("signing the request to {url} failed: {error}")))?;
        let (instructions, _) = signable.into_parts();
        instructions.apply_to_request_http1x(&mut request);
    }
    Ok(request)
}

/// Turns an error response into the command's error: a 400 is a usage error, because the
/// command's arguments made the request invalid.
fn api_error(status: u16, body: &Value) -> ReadError {
    let detail = body["detail"]
        .as_str()
        .or_else(|| body["message"].as_str())
        .unwrap_or("no detail given");
    let message = match body["field"].as_str() {
        Some(field) => format!("the API responded {status} on {field}: {detail}"),
        None => format!("the API responded {status}: {detail}"),
    };
    if status == 400 {
        ReadError::Usage(message)
    } else {
        ReadError::Failure(message)
    }
}

/// Returns true for `localhost` and addresses in 127.0.0.0/8 or `::1`.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Returns the region of an API Gateway host, `{id}.execute-api.{region}.amazonaws.com`.
pub fn region_of_host(host: &str) -> Option<String> {
    let mut parts = host.split('.');
    let (_, service, region) = (parts.next()?, parts.next()?, parts.next()?);
    (service == SIGNING_SERVICE && !region.is_empty()).then(|| region.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "[::1]", "::1"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "abc.execute-api.us-east-1.amazonaws.com",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn region_comes_from_api_gateway_host() {
        assert_eq!(
            region_of_host("a1b2c3.execute-api.eu-west-1.amazonaws.com").as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(region_of_host("api.example.com"), None);
    }

    #[test]
    fn encode_keeps_unreserved_characters() {
        assert_eq!(encode("stage:finals"), "stage%3Afinals");
        assert_eq!(encode("2023-06-12T00:00:00+02:00"), "2023-06-12T00%3A00%3A00%2B02%3A00");
        assert_eq!(encode("a_b.c~d-e"), "a_b.c~d-e");
    }

    fn static_credentials() -> aws_credential_types::provider::SharedCredentialsProvider {
        aws_credential_types::provider::SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ))
    }

    #[tokio::test]
    async fn remote_request_is_signed_for_execute_api() {
        let auth = Auth::SigV4 {
            credentials: static_credentials(),
            region: "eu-west-1".into(),
        };
        let url = "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/v1/models/nba/metrics?window=7d";
        let request = build_request(&auth, None, Method::GET, url, Vec::new()).await.unwrap();
        let authorization = request.headers()["authorization"].to_str().unwrap();
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{authorization}"
        );
        assert!(
            authorization.contains("/eu-west-1/execute-api/aws4_request"),
            "{authorization}"
        );
        assert!(authorization.contains("SignedHeaders="), "{authorization}");
        assert!(request.headers().contains_key("x-amz-date"));
    }

    #[tokio::test]
    async fn loopback_request_is_not_signed() {
        let request = build_request(
            &Auth::None,
            Some("key-1"),
            Method::GET,
            "http://127.0.0.1:8080/v1/models",
            Vec::new(),
        )
        .await
        .unwrap();
        assert!(!request.headers().contains_key("authorization"));
        assert_eq!(request.headers()["x-api-key"], "key-1");
    }

    #[test]
    fn bad_request_is_usage_error() {
        let body = serde_json::json!({ "error": "invalid request", "field": "window", "detail": "invalid window" });
        assert!(matches!(api_error(400, &body), ReadError::Usage(_)));
        assert!(matches!(api_error(404, &body), ReadError::Failure(_)));
    }
}
