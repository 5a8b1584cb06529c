use super::*;
use std::collections::HashMap;

#[test]
fn defaults_run_on_one_machine() {
    let s = Settings::default();
    assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(s.database.url.expose(), "sqlite:var/standing.db");
    assert_eq!(s.scoring.threshold, 750);
}

#[test]
fn example_file_parses_and_documents_every_key() {
    let text = include_str!("../../standing.example.toml");
    let parsed = Settings::from_toml(text).unwrap();
    assert_eq!(parsed, Settings { master_key: parsed.master_key.clone(), ..Settings::default() });
}

#[test]
fn the_embedded_database_follows_the_working_directory() {
    assert_eq!(Settings::sqlite_in(Path::new("var")), Settings::default().database.url);
    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }
    let moved = Settings::load_with(None, env(&[("STANDING_DATA_DIR", "/srv/standing")])).unwrap();
    assert_eq!(moved.database.url.expose(), "sqlite:/srv/standing/standing.db");
    // A database named anywhere stays where it was named.
    let named = [("STANDING_DATA_DIR", "/srv/standing"), ("DATABASE_URL", "sqlite:/data/x.db")];
    assert_eq!(Settings::load_with(None, env(&named)).unwrap().database.url.expose(), "sqlite:/data/x.db");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("standing.toml");
    std::fs::write(&file, "data_dir = \"/srv/standing\"\n[database]\nurl = \"sqlite:var/standing.db\"\n").unwrap();
    let from_file = Settings::load_with(Some(&file), env(&[])).unwrap();
    assert_eq!(from_file.database.url.expose(), "sqlite:var/standing.db");
}

#[test]
fn environment_overrides_file() {
    let mut s = Settings::from_toml("listen = \"0.0.0.0:9000\"\n[database]\nurl = \"sqlite:x.db\"").unwrap();
    let env: HashMap<&str, &str> = [
        ("DATABASE_URL", "postgres://u:pw@db/standing"),
        ("STANDING_LISTEN", "127.0.0.1:7000"),
        ("STANDING_MASTER_KEY", "c2VjcmV0"),
    ]
    .into();
    s.apply_env(|k| env.get(k).map(|v| v.to_string())).unwrap();
    assert_eq!(s.listen.to_string(), "127.0.0.1:7000");
    assert!(s.database.url.is_postgres());
    let debug = format!("{s:?}");
    assert!(!debug.contains("pw"), "{debug}");
    assert!(!debug.contains("c2VjcmV0"), "{debug}");
}

#[test]
fn trusted_proxies_come_from_the_file_or_a_comma_separated_variable() {
    let s =
        Settings::from_toml("[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.7\", \"2001:db8::/32\"]").unwrap();
    let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
    assert!(s.server.trusted_proxies[0].contains(ip("10.20.30.40")));
    assert!(s.server.trusted_proxies[1].contains(ip("192.0.2.7")));
    assert!(!s.server.trusted_proxies[1].contains(ip("192.0.2.8")));
    assert!(s.server.trusted_proxies[2].contains(ip("2001:db8:ffff::1")));
    let mut s = Settings::default();
    s.apply_env(|k| (k == "STANDING_SERVER_TRUSTED_PROXIES").then(|| " 10.1.0.0/16, ::1 ".into())).unwrap();
    assert_eq!(s.server.trusted_proxies.len(), 2);
    assert!(s.server.trusted_proxies[1].contains(ip("::1")));
    let mut s = Settings::default();
    let err = s.apply_env(|k| (k == "STANDING_SERVER_TRUSTED_PROXIES").then(|| "10.0.0.0/33".into()));
    assert!(err.unwrap_err().to_string().contains("10.0.0.0/33"));
    assert!(Settings::from_toml("[server]\ntrusted_proxies = [\"proxy.local\"]").is_err());
}

#[test]
fn the_retired_forwarded_for_switch_says_what_replaced_it() {
    let err = Settings::from_toml("[verify]\ntrust_forwarded_for = true").unwrap_err().to_string();
    assert!(err.contains("server.trusted_proxies") && err.contains("trusted_proxies = ["), "{err}");
    let mut s = Settings::default();
    let err = s.apply_env(|k| (k == "STANDING_VERIFY_TRUST_FORWARDED_FOR").then(|| "false".into())).unwrap_err();
    assert!(err.to_string().contains("STANDING_SERVER_TRUSTED_PROXIES"), "{err}");
}

#[test]
fn server_timeouts_and_limits_are_checked() {
    let mut s = Settings::default();
    s.apply_env(|k| (k == "STANDING_SERVER_IDLE_TIMEOUT_SECONDS").then(|| "5".into())).unwrap();
    assert_eq!(s.server.idle_timeout_seconds, 5);
    let mut s = Settings::default();
    assert!(s.apply_env(|k| (k == "STANDING_SERVER_HEADER_READ_TIMEOUT_SECONDS").then(|| "0".into())).is_err());
    let mut s = Settings::default();
    assert!(s.apply_env(|k| (k == "STANDING_SERVER_MAX_CONNECTIONS").then(|| "0".into())).is_err());
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    assert!(Settings::from_toml("lisen = \"x\"").is_err());
    let mut s = Settings::default();
    assert!(s.apply_env(|k| (k == "STANDING_LISTEN").then(|| "nowhere".into())).is_err());
    let mut s = Settings::default();
    assert!(s.apply_env(|k| (k == "DATABASE_URL").then(|| "mysql://x".into())).is_err());
}
