//! Request ids: every answer carries `X-Request-Id`, and errors quote it so
//! that a caller's report can be found in the logs. A caller may send its
//! own id (to follow a request through its systems), but it goes into our
//! logs and answers, so it is kept only when short and plain: at most
//! [`MAX_LEN`] characters of letters, digits, `-`, `_`, `.` and `:`.
//! Anything else is replaced by an id of ours.

use axum::http::{HeaderMap, Request};

use super::REQUEST_ID;

/// The longest request id taken from a caller (a UUID is 36).
pub const MAX_LEN: usize = 64;

/// Whether a caller's request id may be kept.
pub fn acceptable(id: &[u8]) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Removes a caller's request id that is not [`acceptable`] (or comes more
/// than once), so that one of ours is set in its place.
pub fn drop_unsafe<B>(mut request: Request<B>) -> Request<B> {
    let headers = request.headers_mut();
    let mut values = headers.get_all(&REQUEST_ID).iter();
    let keep = match (values.next(), values.next()) {
        (Some(one), None) => acceptable(one.as_bytes()),
        (None, _) => true,
        (Some(_), Some(_)) => false,
    };
    if !keep {
        headers.remove(&REQUEST_ID);
    }
    request
}

/// This request's id (set by the time handlers run).
pub fn of(headers: &HeaderMap) -> Option<&str> {
    headers.get(&REQUEST_ID).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(acceptable(b"trace-me-42"));
        assert!(acceptable(b"0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(acceptable(b"svc.a:span_7"));
        assert!(acceptable("x".repeat(64).as_bytes()));
        assert!(!acceptable("x".repeat(65).as_bytes()));
        assert!(!acceptable(b""));
        assert!(!acceptable(b"has space"));
        assert!(!acceptable(b"quote\"d"));
        assert!(!acceptable("ünïcode".as_bytes()));
        assert!(!acceptable(b"a\x1b[31m"));

        let request = Request::builder().header("x-request-id", "x".repeat(8000)).body(()).unwrap();
        assert!(drop_unsafe(request).headers().get("x-request-id").is_none());
        let request = Request::builder().header("x-request-id", "ok-1").body(()).unwrap();
        assert_eq!(drop_unsafe(request).headers()["x-request-id"], "ok-1");
        let request = Request::builder().header("x-request-id", "a").header("x-request-id", "b").body(()).unwrap();
        assert!(drop_unsafe(request).headers().get("x-request-id").is_none());
    }
}
