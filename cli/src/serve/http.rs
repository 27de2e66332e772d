//! The HTTP/1.1 listener: reads each request with a capped body, hands it to the API router, and
//! drains open connections on shutdown.

use std::{convert::Infallible, future::Future, sync::Arc, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{
    body::Incoming,
    header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE},
    server::conn::http1,
    service::service_fn,
    StatusCode,
};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
};
use mpt_core::http::{ApiError, Request, Response};
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

/// Bytes of request body the server reads at most. The router enforces the API's 1 MiB limit
/// with its own error, so the server allows a little more and stops only clearly oversized bodies.
pub const MAX_READ_BYTES: usize = 1024 * 1024 + 64 * 1024;

/// Time a client has to send its request headers before the connection is closed.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Time open connections get to finish their requests after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// The API behind the listener.
pub trait Router: Send + Sync + 'static {
    /// Handles one request.
    fn handle<'a>(&'a self, request: Request<'a>) -> impl Future<Output = Response> + Send + 'a;
}

/// Serves HTTP/1.1 on `listener` until `shutdown` completes, then gives open connections
/// [`DRAIN_TIMEOUT`] to finish.
pub async fn serve<R: Router>(listener: TcpListener, router: Arc<R>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);

    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    // Accept fails transiently when the process runs out of file descriptors.
                    warn!(%error, "failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };

        let router = router.clone();
        let service = service_fn(move |request| {
            let router = router.clone();
            async move { Ok::<_, Infallible>(respond(router.as_ref(), request).await) }
        });
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                debug!(%peer, %error, "connection closed with an error");
            }
        });
    }

    info!("shutting down: draining open connections");
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await.is_err() {
        warn!(
            timeout_secs = DRAIN_TIMEOUT.as_secs(),
            "closed connections still open after the drain timeout"
        );
    }
}

/// Reads the body up to [`MAX_READ_BYTES`], calls the router and writes its JSON response.
async fn respond<R: Router>(router: &R, request: hyper::Request<Incoming>) -> hyper::Response<Full<Bytes>> {
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_string();
    let uri = request.uri().clone();
    let path = uri.path();

    let answer = match read_body(request).await {
        Ok(body) => {
            let request = Request {
                method: &method,
                path,
                query: uri.query(),
                body: &body,
            };
            router.handle(request).await
        }
        Err(error) => error.to_response(),
    };

    info!(
        %method,
        path,
        status = answer.status,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    to_http(answer)
}

/// Collects the body, or returns the error for a body over the cap or cut short.
async fn read_body(request: hyper::Request<Incoming>) -> Result<Bytes, ApiError> {
    let too_large = || ApiError {
        status: 413,
        error: "body too large".to_string(),
        field: None,
        detail: "the body is larger than the API's limit of 1 MiB (1,048,576 bytes); split the records into \
                 smaller requests"
            .to_string(),
    };

    // A declared length over the cap gets its 413 before any of the body is read.
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_READ_BYTES as u64) {
        return Err(too_large());
    }

    match Limited::new(request.into_body(), MAX_READ_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Err(error) => Err(ApiError::invalid(
            None,
            format!("reading the body failed: {error}; resend the request"),
        )),
    }
}

fn to_http(answer: Response) -> hyper::Response<Full<Bytes>> {
    let mut response = hyper::Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for (name, value) in answer.headers {
        match (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(name), Ok(value)) => {
                headers.insert(name, value);
            }
            _ => warn!(header = %name, "dropped a response header that is not valid HTTP"),
        }
    }
    response
}
