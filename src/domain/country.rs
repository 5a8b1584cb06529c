//! Country codes as printed in passports: ISO 3166-1 alpha-3 plus the codes
//! ICAO Doc 9303 adds for documents that no single state issues (`UNO` for the
//! United Nations, `XXA` for a stateless person, `RKS` for Kosovo, ...).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::country_names::ISO_3166;

#[rustfmt::skip]
const CODES: &[&str] = &[
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA",
    "ATF", "ATG", "AUS", "AUT", "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR",
    "BHR", "BHS", "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL", "BRA", "BRB", "BRN", "BTN",
    "BVT", "BWA", "CAF", "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG",
    "COK", "COL", "COM", "CPV", "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU",
    "DJI", "DMA", "DNK", "DOM", "DZA", "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH",
    "EUE", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM", "GAB", "GBD", "GBN", "GBO", "GBP",
    "GBR", "GBS", "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC",
    "GRD", "GRL", "GTM", "GUF", "GUM", "GUY", "HKG", "HMD", "HND", "HRV", "HTI", "HUN",
    "IDN", "IMN", "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA", "JAM", "JEY",
    "JOR", "JPN", "KAZ", "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN",
    "LBR", "LBY", "LCA", "LIE", "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR",
    "MCO", "MDA", "MDG", "MDV", "MEX", "MHL", "MKD", "MLI", "MLT", "MMR", "MNE", "MNG",
    "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS", "MWI", "MYS", "MYT", "NAM", "NCL", "NER",
    "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL", "NRU", "NZL", "OMN", "PAK", "PAN",
    "PCN", "PER", "PHL", "PLW", "PNG", "POL", "PRI", "PRK", "PRT", "PRY", "PSE", "PYF",
    "QAT", "REU", "RKS", "ROU", "RUS", "RWA", "SAU", "SDN", "SEN", "SGP", "SGS", "SHN",
    "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR", "SVK",
    "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL",
    "TKM", "TLS", "TON", "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI",
    "UNA", "UNK", "UNO", "URY", "USA", "UZB", "VAT", "VCT", "VEN", "VGB", "VIR", "VNM",
    "VUT", "WLF", "WSM", "XBA", "XCC", "XCE", "XCO", "XDC", "XEC", "XES", "XIM", "XMP",
    "XOM", "XPO", "XXA", "XXB", "XXC", "XXX", "YEM", "ZAF", "ZMB", "ZWE",
];

/// A three-letter nationality or issuing-state code such as `CHN`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an ISO 3166-1 alpha-3 or ICAO 9303 country code")]
pub struct UnknownCountry(pub String);

impl CountryCode {
    pub fn parse(code: &str) -> Result<Self, UnknownCountry> {
        match CODES.binary_search(&code) {
            Ok(_) => {
                let b = code.as_bytes();
                Ok(CountryCode([b[0], b[1], b[2]]))
            }
            Err(_) => Err(UnknownCountry(code.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The ISO 3166-1 alpha-2 code (`CN` for `CHN`), as phone-number
    /// regions are named; `None` for the ICAO-only codes (`UNO`, `XXA`, ...)
    /// except Kosovo (`RKS`, `XK`).
    pub fn alpha2(&self) -> Option<&'static str> {
        if self.as_str() == "RKS" {
            return Some("XK");
        }
        iso_entry(self.as_str()).map(|(_, a2, _)| *a2)
    }

    /// The English short name (`China`), or the code itself for the ICAO-only codes.
    pub fn name(&self) -> String {
        match self.as_str() {
            "RKS" => "Kosovo".to_owned(),
            "UNO" | "UNA" | "UNK" => "United Nations".to_owned(),
            "XXA" => "Stateless person".to_owned(),
            "XXB" | "XXC" => "Refugee".to_owned(),
            code => iso_entry(code).map_or_else(|| code.to_owned(), |(_, _, name)| (*name).to_owned()),
        }
    }

    /// Every ISO 3166-1 country with its name, by name (the form's list).
    pub fn all_named() -> Vec<(CountryCode, &'static str)> {
        let mut all: Vec<(CountryCode, &'static str)> =
            ISO_3166.iter().filter_map(|(a3, _, name)| Some((CountryCode::parse(a3).ok()?, *name))).collect();
        all.sort_by(|a, b| a.1.cmp(b.1));
        all
    }
}

fn iso_entry(alpha3: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    ISO_3166.binary_search_by(|(a3, _, _)| (*a3).cmp(alpha3)).ok().map(|i| &ISO_3166[i])
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        CountryCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted() {
        assert!(CODES.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn names_and_alpha2() {
        assert!(ISO_3166.windows(2).all(|w| w[0].0 < w[1].0));
        let chn = CountryCode::parse("CHN").unwrap();
        assert_eq!((chn.alpha2(), chn.name().as_str()), (Some("CN"), "China"));
        assert_eq!(CountryCode::parse("RKS").unwrap().alpha2(), Some("XK"));
        assert_eq!(CountryCode::parse("XXA").unwrap().alpha2(), None);
        // Every ISO entry is a code we accept.
        assert_eq!(CountryCode::all_named().len(), ISO_3166.len());
    }

    #[test]
    fn accepts_states_and_icao_codes() {
        for ok in ["CHN", "CAN", "DEU", "UNO", "XXA"] {
            assert!(CountryCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["chn", "CN", "ZZZ", "CHNA", ""] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
    }
}
