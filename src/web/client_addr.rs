//! Who the client is, for the per-client limits: the socket's peer, or,
//! when that peer is one of the configured reverse proxies
//! (`server.trusted_proxies`), the address the proxies recorded in
//! `X-Forwarded-For`.
//!
//! Each proxy appends the address it received the request from, so the
//! entries to the right were written by proxies we trust and the ones to
//! the left by whoever sent the request. Walking from the right, the first
//! address that is not one of our proxies is the client; everything left of
//! it may be made up and is never read.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::AppState;
use crate::config::ProxyNet;

/// The client's address as [`client_address`] decides it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        // Without connection info (the router called in-process) every
        // request counts as one client.
        let peer =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientAddr(client_address(peer, &parts.headers, &state.settings.server.trusted_proxies)))
    }
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy;
/// then the rightmost `X-Forwarded-For` address that is not a trusted
/// proxy. When every listed address is a trusted proxy, the leftmost one
/// (the request started inside our own network). An entry that is not an
/// address stops the walk at the last trusted hop: what lies beyond it
/// cannot be read, so it is not believed.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ProxyNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| {
        let ip = ip.to_canonical();
        trusted.iter().any(|net| net.contains(ip))
    };
    if !is_trusted(peer) {
        return peer.to_canonical();
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else { break };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client.to_canonical()
}

/// An `X-Forwarded-For` entry: an address, possibly with a port as some
/// proxies write it (`192.0.2.1:5040`, `[2001:db8::1]:5040`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn proxies() -> Vec<ProxyNet> {
        vec!["10.0.0.0/8".parse().unwrap(), "2001:db8:a::1".parse().unwrap()]
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let peer = ip("203.0.113.9");
        assert_eq!(client_address(peer, &xff(&["198.51.100.1"]), &proxies()), peer);
        assert_eq!(client_address(peer, &xff(&["10.0.0.1"]), &[]), peer);
        // No proxies configured: nobody's header is believed.
        assert_eq!(client_address(ip("10.0.0.5"), &xff(&["198.51.100.1"]), &[]), ip("10.0.0.5"));
    }

    #[test]
    fn behind_trusted_proxies_the_rightmost_untrusted_address_is_the_client() {
        let peer = ip("10.0.0.2");
        // The client spoofed "1.1.1.1"; our proxy appended its real address.
        assert_eq!(client_address(peer, &xff(&["1.1.1.1, 198.51.100.7"]), &proxies()), ip("198.51.100.7"));
        // Two of our proxies in a row, and the header split over two lines.
        assert_eq!(client_address(peer, &xff(&["1.1.1.1, 198.51.100.7", "10.9.9.9"]), &proxies()), ip("198.51.100.7"));
        // A port, and IPv6 with a port.
        assert_eq!(client_address(peer, &xff(&["198.51.100.7:5040"]), &proxies()), ip("198.51.100.7"));
        assert_eq!(client_address(peer, &xff(&["[2001:db8:b::5]:443"]), &proxies()), ip("2001:db8:b::5"));
        // From a trusted IPv6 proxy.
        assert_eq!(client_address(ip("2001:db8:a::1"), &xff(&["192.0.2.4"]), &proxies()), ip("192.0.2.4"));
        // No header: the proxy itself.
        assert_eq!(client_address(peer, &HeaderMap::new(), &proxies()), peer);
        // Only our own proxies: the leftmost.
        assert_eq!(client_address(peer, &xff(&["10.1.1.1, 10.2.2.2"]), &proxies()), ip("10.1.1.1"));
        // Garbage next to our proxy: not believed, the proxy is the client.
        assert_eq!(client_address(peer, &xff(&["198.51.100.7, nonsense"]), &proxies()), peer);
        // An IPv4-mapped peer counts as the IPv4 address.
        assert_eq!(client_address(ip("::ffff:10.0.0.2"), &xff(&["198.51.100.7"]), &proxies()), ip("198.51.100.7"));
    }
}
