//! The layers under [`Settings`]: a TOML file and the environment, merged
//! by figment. Every setting is declared once, as a field of `Settings` or of
//! one of its sections; its environment variable follows from its place:
//! `data_dir` is `STANDING_DATA_DIR`, `report.issuer_name` is
//! `STANDING_REPORT_ISSUER_NAME`.
//!
//! Variables are read for the settings that exist and nothing else, so a
//! `STANDING_*` variable this version does not know (a later version's, or
//! `STANDING_LOG`) is left alone; a misspelt key in the file is refused.

use figment::value::{Dict, Map, Value};
use figment::{Error, Metadata, Profile, Provider};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::{
    ApplicationSettings, DatabaseSettings, ImportSettings, MailSettings, ReportSettings, ScoringSettings,
    ServerSettings, Settings, SmsSettings, VerifySettings,
};

/// The names of the fields `T` deserializes, read from its derived
/// `Deserialize` (which hands them to `deserialize_struct`).
fn fields_of<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields = None;
    let _ = T::deserialize(FieldProbe(&mut fields));
    fields.unwrap_or(&[])
}

/// A deserializer that records a struct's field names and then gives up.
struct FieldProbe<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> Deserializer<'de> for FieldProbe<'_> {
    type Error = de::value::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(de::Error::custom("field names read"))
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Each section of the file (`[report]`, …) and its fields: the one list to
/// extend when a section is added (a key added to a section needs nothing).
fn sections() -> [(&'static str, &'static [&'static str]); 9] {
    [
        ("database", fields_of::<DatabaseSettings>()),
        ("import", fields_of::<ImportSettings>()),
        ("scoring", fields_of::<ScoringSettings>()),
        ("report", fields_of::<ReportSettings>()),
        ("verify", fields_of::<VerifySettings>()),
        ("server", fields_of::<ServerSettings>()),
        ("mail", fields_of::<MailSettings>()),
        ("sms", fields_of::<SmsSettings>()),
        ("applications", fields_of::<ApplicationSettings>()),
    ]
}

/// Every setting's key (`report.issuer_name`) and environment variable
/// (`STANDING_REPORT_ISSUER_NAME`).
pub(super) fn keys() -> Vec<(String, String)> {
    let sections = sections();
    let mut keys = Vec::new();
    for field in fields_of::<Settings>() {
        match sections.iter().find(|(name, _)| name == field) {
            Some((section, fields)) => {
                for f in *fields {
                    keys.push((format!("{section}.{f}"), format!("STANDING_{section}_{f}").to_uppercase()));
                }
            }
            None => keys.push(((*field).to_owned(), format!("STANDING_{field}").to_uppercase())),
        }
    }
    keys
}

/// The environment's values for the known settings, as a figment provider.
/// Values stay text here; [`figment::Figment::extract_lossy`] reads numbers
/// and booleans from text where a setting is one, and a text setting keeps
/// its text (a contact `+8613800138000` is not a number).
pub(super) struct EnvLayer {
    /// (variable, key, value), in the order they apply.
    values: Vec<(String, String, String)>,
}

impl EnvLayer {
    /// `DATABASE_URL` first (the usual name), then every `STANDING_*`
    /// variable of a known setting, read through `env`.
    pub(super) fn read(env: &impl Fn(&str) -> Option<String>) -> Self {
        let mut values = Vec::new();
        if let Some(v) = env("DATABASE_URL") {
            values.push(("DATABASE_URL".to_owned(), "database.url".to_owned(), v));
        }
        for (key, var) in keys() {
            if let Some(v) = env(&var) {
                values.push((var, key, v));
            }
        }
        EnvLayer { values }
    }

    pub(super) fn names(&self, key: &str) -> bool {
        self.values.iter().any(|(_, k, _)| k == key)
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        let vars: Vec<(String, String)> = self.values.iter().map(|(var, key, _)| (key.clone(), var.clone())).collect();
        Metadata::named("environment variable").interpolater(move |_profile, path| {
            let key = path.join(".");
            vars.iter().rev().find(|(k, _)| *k == key).map(|(_, var)| var.clone()).unwrap_or(key)
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        let mut root = Dict::new();
        for (_, key, value) in &self.values {
            let mut node = &mut root;
            let mut parts = key.split('.').peekable();
            while let Some(part) = parts.next() {
                if parts.peek().is_none() {
                    node.insert(part.to_owned(), Value::from(value.clone()));
                } else {
                    let entry = node.entry(part.to_owned()).or_insert_with(|| Value::from(Dict::new()));
                    let Value::Dict(_, dict) = entry else { break };
                    node = dict;
                }
            }
        }
        Ok(Profile::Default.collect(root))
    }
}

/// A list setting: an array in the file, or comma-separated text in the
/// environment (`STANDING_SERVER_TRUSTED_PROXIES=10.0.0.0/8,192.0.2.7`).
pub(super) fn comma_list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Form {
        Text(String),
        List(Vec<String>),
    }
    let items = match Form::deserialize(d)? {
        Form::Text(text) => text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        Form::List(items) => items,
    };
    items.iter().map(|s| s.parse().map_err(de::Error::custom)).collect()
}
