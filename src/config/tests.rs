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
    let env: HashMap<&str, &str> = [
        ("DATABASE_URL", "postgres://u:pw@db/standing"),
        ("STANDING_LISTEN", "127.0.0.1:7000"),
        ("STANDING_MASTER_KEY", "c2VjcmV0"),
    ]
    .into();
    let file = "listen = \"0.0.0.0:9000\"\n[database]\nurl = \"sqlite:x.db\"";
    let s = Settings::layered(Some(file), |k| env.get(k).map(|v| v.to_string())).unwrap();
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
    let s = Settings::layered(None, |k| (k == "STANDING_SERVER_TRUSTED_PROXIES").then(|| " 10.1.0.0/16, ::1 ".into()))
        .unwrap();
    assert_eq!(s.server.trusted_proxies.len(), 2);
    assert!(s.server.trusted_proxies[1].contains(ip("::1")));
    let err = Settings::layered(None, |k| (k == "STANDING_SERVER_TRUSTED_PROXIES").then(|| "10.0.0.0/33".into()));
    assert!(err.unwrap_err().to_string().contains("10.0.0.0/33"));
    assert!(Settings::from_toml("[server]\ntrusted_proxies = [\"proxy.local\"]").is_err());
}

#[test]
fn the_retired_forwarded_for_switch_says_what_replaced_it() {
    let err = Settings::from_toml("[verify]\ntrust_forwarded_for = true").unwrap_err().to_string();
    assert!(err.contains("server.trusted_proxies") && err.contains("trusted_proxies = ["), "{err}");
    let err =
        Settings::layered(None, |k| (k == "STANDING_VERIFY_TRUST_FORWARDED_FOR").then(|| "false".into())).unwrap_err();
    assert!(err.to_string().contains("STANDING_SERVER_TRUSTED_PROXIES"), "{err}");
}

#[test]
fn server_timeouts_and_limits_are_checked() {
    let s = Settings::layered(None, |k| (k == "STANDING_SERVER_IDLE_TIMEOUT_SECONDS").then(|| "5".into())).unwrap();
    assert_eq!(s.server.idle_timeout_seconds, 5);
    assert!(
        Settings::layered(None, |k| (k == "STANDING_SERVER_HEADER_READ_TIMEOUT_SECONDS").then(|| "0".into())).is_err()
    );
    assert!(Settings::layered(None, |k| (k == "STANDING_SERVER_MAX_CONNECTIONS").then(|| "0".into())).is_err());
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    assert!(Settings::from_toml("lisen = \"x\"").is_err());
    assert!(Settings::layered(None, |k| (k == "STANDING_LISTEN").then(|| "nowhere".into())).is_err());
    assert!(Settings::layered(None, |k| (k == "DATABASE_URL").then(|| "mysql://x".into())).is_err());
}

#[test]
fn every_setting_has_its_variable_named_from_its_place() {
    let keys = layers::keys();
    let var = |key: &str| keys.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    assert_eq!(var("data_dir"), Some("STANDING_DATA_DIR"));
    assert_eq!(var("report.issuer_name"), Some("STANDING_REPORT_ISSUER_NAME"));
    assert_eq!(var("server.trusted_proxies"), Some("STANDING_SERVER_TRUSTED_PROXIES"));
    assert_eq!(var("database.max_connections"), Some("STANDING_DATABASE_MAX_CONNECTIONS"));
    assert!(keys.len() >= 30, "{keys:?}");
    // Every variable is read: a value for each, all at once.
    let env = |k: &str| match k {
        "STANDING_REPORT_ISSUER_CONTACT" => Some("+8613800138000".to_owned()),
        "STANDING_REPORT_SHOW_SCORE" => Some("true".to_owned()),
        "STANDING_REPORT_VALIDITY_DAYS" => Some("30".to_owned()),
        "STANDING_REPORT_SIGNATURE_ALGORITHM" => Some("Ed25519".to_owned()),
        "STANDING_REPORT_AUTHORITY_CURRENCY" => Some("EUR".to_owned()),
        "STANDING_IMPORT_BATCH_SIZE" => Some("500".to_owned()),
        "STANDING_PUBLIC_BASE_URL" => Some("https://standing.example".to_owned()),
        "STANDING_MAIL_TRANSPORT" => Some("smtp".to_owned()),
        "STANDING_MAIL_SMTP_URL" => Some("smtp://reports:pw@127.0.0.1:2525".to_owned()),
        "STANDING_MAIL_FROM" => Some("standing <reports@standing.example>".to_owned()),
        "STANDING_LOG" | "STANDING_MAIL_SETTING_OF_A_LATER_VERSION" => Some("anything".to_owned()),
        _ => None,
    };
    let s = Settings::layered(None, env).unwrap();
    assert_eq!(s.report.issuer_contact, "+8613800138000", "a number-like text stays text");
    assert!(s.report.show_score);
    assert_eq!(s.report.validity_days, 30);
    assert_eq!(s.report.signature_algorithm, KeyAlgorithm::Ed25519);
    assert_eq!(s.report.authority_currency.code(), "EUR");
    assert_eq!(s.import.batch_size, 500);
    assert_eq!(s.public_base_url, "https://standing.example");
    assert_eq!(s.mail.transport, crate::config::MailTransportKind::Smtp);
    assert_eq!(s.mail.smtp_url.as_ref().map(|u| u.expose()), Some("smtp://reports:pw@127.0.0.1:2525"));
    assert_eq!(s.mail.from, "standing <reports@standing.example>");
    // A bad value names its variable.
    let err = Settings::layered(None, |k| (k == "STANDING_REPORT_VALIDITY_DAYS").then(|| "soon".into())).unwrap_err();
    assert!(err.to_string().contains("STANDING_REPORT_VALIDITY_DAYS"), "{err}");
}
